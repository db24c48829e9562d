import { expect, test } from '@playwright/test';
import { codeSentTo, expectAccessible, hydrated, logIn, PASSWORD, register, uniqueUsername, virtualKey, visit } from './helpers';

const NEW_PASSWORD = 'lokomotiva jede pres most do brna';

/** The newest message to `recipient` in the dev outbox, as text. */
async function lastMessageTo(page: import('@playwright/test').Page, recipient: string): Promise<string> {
  const outbox = await page.context().newPage();
  await outbox.goto('/dev/outbox');
  const row = outbox.locator(`tr[data-to="${recipient}"]`).first();
  await expect(row).toBeVisible();
  const text = await row.innerText();
  await outbox.close();
  return text;
}

async function verifyEmail(page: import('@playwright/test').Page, email: string): Promise<void> {
  const section = page.getByRole('region', { name: 'E-mail' });
  await section.getByLabel('New e-mail address').fill(email);
  await section.getByRole('button', { name: 'Send code' }).click();
  await expect(section.getByText(`We sent a code to ${email}.`)).toBeVisible();
  await section.getByLabel('Code from the e-mail').fill(await codeSentTo(page, email));
  await section.getByRole('button', { name: 'Verify' }).click();
  await expect(section.getByText(new RegExp(`^${email} \\(verified `))).toBeVisible();
}

test('a citizen sees and ends sessions, changes the password and contacts after a fresh login, and the old addresses hear of each change', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const username = uniqueUsername('secure');
  await register(page, username);
  const oldEmail = `${username}@example.cz`;
  await visit(page, '/settings/contacts');
  await verifyEmail(page, oldEmail);

  // a second device logs in
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto('/login');
  await hydrated(otherPage);
  await logIn(otherPage, username);
  await expect(otherPage).toHaveURL(/\/settings$/);

  // "Signed-in devices": both, this one marked; the other one ended
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Signed-in devices' }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Signed-in devices' })).toBeVisible();
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(page.getByRole('table')).toContainText('(this device)');
  await expectAccessible(page);
  await page.getByRole('button', { name: /^End session: / }).click();
  await expect(page.getByText('The session has been ended.')).toBeVisible();
  await expect(rows).toHaveCount(2);
  await otherPage.goto('/settings');
  await expect(otherPage).toHaveURL(/\/login\?next=/);
  await other.close();

  // the password, right after the login of registration: no new login needed yet
  await visit(page, '/settings/password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill('something else entirely here');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('The two passwords differ.').first()).toBeVisible();
  // nothing typed is lost
  await expect(page.getByLabel('New password', { exact: true })).toHaveValue(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();
  const passwordNotice = await lastMessageTo(page, oldEmail);
  expect(passwordNotice).toContain('the password was changed');
  expect(passwordNotice).toContain('heslo bylo změněno');
  expect(passwordNotice).toContain('If not:');

  // a security key makes every further change ask for the password and the key again
  await virtualKey(page);
  await visit(page, '/settings/2fa/security-keys');
  await page.getByLabel('Key name').fill('Klíč');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText(/^The key has been added\./)).toBeVisible();
  expect(await lastMessageTo(page, oldEmail)).toContain('a security key "Klíč" was added');

  await visit(page, '/settings/contacts');
  await expect(page.getByText('A contact can be changed only right after a new login.')).toBeVisible();
  await page.getByRole('link', { name: 'Log in again' }).first().click();
  await hydrated(page);
  await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/settings\/contacts$/);
  await hydrated(page);
  await expect(page.getByText('A contact can be changed only right after a new login.')).toHaveCount(0);
  const newEmail = `${username}-new@example.cz`;
  await verifyEmail(page, newEmail);
  const emailNotice = await lastMessageTo(page, oldEmail);
  expect(emailNotice).toContain(`the account's e-mail was changed to ${newEmail}`);
  expect(emailNotice).toContain('From: address');

  // and in Czech
  await visit(page, '/settings/password?lang=cs');
  await expect(page.getByRole('heading', { level: 1, name: 'Heslo' })).toBeVisible();
  await visit(page, '/settings/sessions?lang=cs');
  await expect(page.getByRole('heading', { level: 1, name: 'Přihlášená zařízení' })).toBeVisible();

  // the old password is gone, the new one works (with the key)
  await page.context().clearCookies();
  await page.goto('/login?lang=en');
  await hydrated(page);
  await logIn(page, username, PASSWORD);
  await expect(page.getByText('Incorrect username or password.').first()).toBeVisible();
});
