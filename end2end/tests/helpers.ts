import { expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const PASSWORD = 'kobyla ma maly bok u potoka';

let counter = 0;
export function uniqueUsername(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

/** Waits until the WASM has hydrated the page (the app marks <body>). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
}

/** Runs axe on the page as it is now; any violation fails the test with its rule and nodes. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary, `axe violations on ${page.url()}`).toEqual([]);
}

/** Navigates, waits for hydration and checks accessibility. */
export async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await hydrated(page);
  await expectAccessible(page);
}

export async function register(page: Page, username: string): Promise<void> {
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await hydrated(page);
}

export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** The newest one-time code sent to `recipient`, read from the dev outbox page. */
export async function codeSentTo(page: Page, recipient: string): Promise<string> {
  const outbox = await page.context().newPage();
  await outbox.goto('/dev/outbox');
  await expectAccessible(outbox);
  const row = outbox.locator(`tr[data-to="${recipient}"]`).first();
  await expect(row).toBeVisible();
  const text = await row.innerText();
  await outbox.close();
  const code = text.match(/\b(\d{6})\b/);
  expect(code, `no code in ${text}`).not.toBeNull();
  return code![1];
}

/** Gives the page Chromium's virtual security key (CTAP2 over USB, answers by itself): packed
 * attestation with AAGUID 01020304-0506-0708-0102-030405060708 and a self-signed certificate. */
export async function virtualKey(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: false,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}
