// First load as a citizen's browser sees it: a fresh profile (empty cache), the bytes that
// came over the wire for the page and everything it loaded (HTML, CSS, JS, WASM — as
// compressed on the wire), and the time from navigation until the page is interactive
// (`<body data-hydrated>`, which both apps set once hydrated). Median of RUNS loads each.
// Prints one JSON line per page for `./x bench`.
import { test, expect, Browser } from '@playwright/test';

const OURS = process.env.BENCH_URL ?? 'http://localhost:3000';
const TRIVIAL = process.env.BENCH_TRIVIAL_URL ?? 'http://127.0.0.1:3200';
const USER = process.env.BENCH_USER ?? 'bench0';
const PASSWORD = process.env.BENCH_PASSWORD ?? 'kobyla ma maly bok u potoka';
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function load(browser: Browser, url: string, cookies: any[]) {
  const context = await browser.newContext({ locale: 'cs-CZ' });
  await context.addCookies(cookies);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  const byType: Record<string, number> = {};
  const types = new Map<string, string>();
  cdp.on('Network.responseReceived', (e: any) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e: any) => {
    bytes += e.encodedDataLength;
    const t = types.get(e.requestId) ?? 'Other';
    byType[t] = (byType[t] ?? 0) + e.encodedDataLength;
  });
  await page.goto(url);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  const interactiveMs = await page.evaluate(() => performance.now());
  await page.waitForLoadState('networkidle');
  await context.close();
  return { bytes, interactiveMs, byType };
}

async function sessionCookies(browser: Browser): Promise<any[]> {
  const context = await browser.newContext({ locale: 'cs-CZ' });
  const page = await context.newPage();
  await page.goto(`${OURS}/login?lang=en`);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  const cookies = await context.cookies();
  await context.close();
  return cookies;
}

test('first load of our pages against the trivial Leptos app', async ({ browser }) => {
  const session = await sessionCookies(browser);
  const pages: [string, string, any[]][] = [
    ['trivial Leptos app /', `${TRIVIAL}/`, []],
    ['/login', `${OURS}/login`, []],
    ['/settings', `${OURS}/settings`, session],
    ['/settings/2fa/security-keys', `${OURS}/settings/2fa/security-keys`, session],
    // a page with an island (the WebAuthn ceremony): it loads the islands' WASM
    ['/security-keys/check', `${OURS}/security-keys/check`, []],
    // a page of plain forms with script (keeps what was typed): the forms' small script
    ['/settings/password', `${OURS}/settings/password`, session],
  ];
  for (const [label, url, cookies] of pages) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await load(browser, url, cookies));
    const line = {
      label,
      bytes: median(runs.map((r) => r.bytes)),
      interactive_ms: median(runs.map((r) => r.interactiveMs)),
      by_type: runs[0].byType,
    };
    console.log(`FIRST-LOAD ${JSON.stringify(line)}`);
  }
});
