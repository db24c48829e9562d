import { Browser, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
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

/**
 * Behaves as a browser whose user did not allow the site to see the key: the key's answer
 * reaches the page with `none` attestation (same authenticator data, no statement), as Chrome
 * gives it when access to the security key is refused.
 */
export async function hideAttestation(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const original = navigator.credentials.create.bind(navigator.credentials);
    navigator.credentials.create = async (options?: CredentialCreationOptions) => {
      const cred = (await original(options)) as PublicKeyCredential;
      const response = cred.response as AuthenticatorAttestationResponse;
      const object = new Uint8Array(response.attestationObject);
      // find the text key "authData" (0x68 + 8 bytes) and the byte string after it
      const key = [0x68, ...new TextEncoder().encode('authData')];
      let at = -1;
      for (let i = 0; i + key.length <= object.length && at < 0; i++) {
        if (key.every((b, j) => object[i + j] === b)) at = i + key.length;
      }
      if (at < 0) throw new Error('no authData in the attestation object');
      const head = object[at];
      const lengthBytes = head === 0x58 ? 1 : head === 0x59 ? 2 : 0;
      const length = lengthBytes === 1 ? object[at + 1] : lengthBytes === 2 ? (object[at + 1] << 8) | object[at + 2] : head - 0x40;
      const authData = object.slice(at, at + 1 + lengthBytes + length);
      const prefix = [0xa3, 0x63, ...new TextEncoder().encode('fmt'), 0x64, ...new TextEncoder().encode('none'),
        0x67, ...new TextEncoder().encode('attStmt'), 0xa0, ...key];
      const hidden = new Uint8Array(prefix.length + authData.length);
      hidden.set(prefix);
      hidden.set(authData, prefix.length);
      // own properties in front of the browser's prototypes, so the page sees the real types
      const hiddenResponse = Object.create(AuthenticatorAttestationResponse.prototype, {
        clientDataJSON: { value: response.clientDataJSON },
        attestationObject: { value: hidden.buffer },
        getTransports: { value: () => response.getTransports() },
      });
      return Object.create(PublicKeyCredential.prototype, {
        id: { value: cred.id },
        rawId: { value: cred.rawId },
        type: { value: cred.type },
        authenticatorAttachment: { value: cred.authenticatorAttachment },
        getClientExtensionResults: { value: () => cred.getClientExtensionResults() },
        response: { value: hiddenResponse },
      }) as Credential;
    };
  });
}

const phones = new Map<string, string>();
/** The verified phone number `accountReadyForNia` gave an account. */
export function phoneOf(username: string): string {
  return phones.get(username)!;
}

/** The NIA simulator the test server starts beside itself. */
export const SIM = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3100) + 1}`;

/**
 * A new account that meets every condition for NIA: verified e-mail and phone, name and
 * address filled in, and Chromium's virtual key (certified L1 in the test metadata).
 */
export async function accountReadyForNia(page: Page, prefix: string, withKey = true): Promise<string> {
  await virtualKey(page);
  const username = uniqueUsername(prefix);
  await register(page, username);
  await visit(page, '/settings/contacts');
  const email = `${username}@example.cz`;
  const emailSection = page.getByRole('region', { name: 'E-mail' });
  await emailSection.getByLabel('New e-mail address').fill(email);
  await emailSection.getByRole('button', { name: 'Send code' }).click();
  await expect(emailSection.getByText(`We sent a code to ${email}.`)).toBeVisible();
  await emailSection.getByLabel('Code from the e-mail').fill(await codeSentTo(page, email));
  await emailSection.getByRole('button', { name: 'Verify' }).click();
  await expect(emailSection.getByText(new RegExp(`^${email} \\(verified `))).toBeVisible();
  const digits = String(100000000 + Math.floor(Math.random() * 899999999)).slice(0, 9);
  const phone = `+420${'7' + digits.slice(1)}`;
  phones.set(username, phone);
  const phoneSection = page.getByRole('region', { name: 'Phone' });
  await phoneSection.getByLabel('New phone number').fill(phone);
  await phoneSection.getByRole('button', { name: 'Send code' }).click();
  await expect(phoneSection.getByText(`We sent a code to ${phone}.`)).toBeVisible();
  await phoneSection.getByLabel('Code from the SMS').fill(await codeSentTo(page, phone));
  await phoneSection.getByRole('button', { name: 'Verify' }).click();
  await expect(phoneSection.getByText(new RegExp(`^\\${phone} \\(verified `))).toBeVisible();

  await visit(page, '/settings/profile');
  await page.getByLabel('First name').fill('Jana');
  await page.getByLabel('Last name').fill('Nováková');
  await page.getByLabel('Birth date').fill('14. 3. 1985');
  await page.getByLabel('Street').fill('Milešovská');
  await page.getByLabel('House number').fill('5');
  await page.getByLabel('City').fill('Praha');
  await page.getByLabel('Postcode').fill('13000');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Your profile has been saved.')).toBeVisible();
  if (!withKey) return username;

  await visit(page, '/settings/2fa/security-keys');
  await page.getByLabel('Key name').fill('Klíč pro NIA');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText('The key has been added. It can be used for NIA. (FIDO_CERTIFIED_L1)')).toBeVisible();
  return username;
}

/** From the NIA section: the fresh login and "Use an existing authentication mean (eObčanka)" + "Verify". */
export async function verifyWithEobcanka(page: Page): Promise<void> {
  await visit(page, '/settings/nia');
  await page.getByRole('link', { name: 'Link with NIA' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Confirm it is you' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/settings\/nia\?step=choose$/);
  await hydrated(page);
  await page.getByLabel('Use an existing authentication mean (eObčanka)').check();
  await page.getByRole('button', { name: 'Verify' }).click();
}

/** At the simulated NIA portal: eObčanka, a test card with its PIN, and consent. */
export async function eobcankaAtNia(page: Page, card: string, consent = true): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${SIM}/FPSTS/saml2/basic`));
  await page.getByRole('link', { name: 'eObčanka – elektronický občanský průkaz' }).click();
  await page.getByLabel('Testovací občanský průkaz').selectOption(card);
  await page.getByLabel('IOK (PIN)').fill('123456');
  await page.getByRole('button', { name: 'Přihlásit' }).click();
  await page.getByRole('button', { name: consent ? 'Souhlasím' : 'Nesouhlasím', exact: true }).click();
}

/** Gives an account a staff role with the operator's command, on the test server's database. */
export function grantRole(username: string, role: 'helpdesk' | 'back_office' | 'auditor' | 'support'): void {
  execFileSync(process.env.E2E_SERVER_BIN!, ['staff', 'grant', username, role], {
    env: {
      ...process.env,
      APP_MODE: 'test',
      DATABASE_URL: process.env.E2E_DATABASE_URL!,
      DATA_DIR: process.env.E2E_SERVER_DATA_DIR!,
      RUST_LOG: 'warn',
    },
    stdio: 'pipe',
  });
}

/**
 * A staff member in a browser of their own: an account with Chromium's virtual key, the role,
 * and a login with the password and the key; the page is left on /admin.
 */
export async function staffMember(browser: Browser, prefix: string, role: 'helpdesk' | 'back_office' | 'auditor' | 'support'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await virtualKey(page);
  const username = uniqueUsername(prefix);
  await register(page, username);
  await visit(page, '/settings/2fa/security-keys');
  await page.getByLabel('Key name').fill('Služební klíč');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText(/The key has been added/)).toBeVisible();
  grantRole(username, role);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
  await visit(page, '/admin');
  return page;
}

/** Links the account on `page` (ready for NIA) with eObčanka `card`, to "Nia pairing complete". */
export async function linkWithEobcanka(page: Page, card: string): Promise<void> {
  await verifyWithEobcanka(page);
  await eobcankaAtNia(page, card);
  await expect(page).toHaveURL(/\/settings\/nia$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();
}
