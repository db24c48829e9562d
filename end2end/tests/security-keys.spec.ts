import { expect, test } from '@playwright/test';
import { expectAccessible, hideAttestation, hydrated, logIn, PASSWORD, register, uniqueUsername, virtualKey, visit } from './helpers';


test('a security key is added with its level, needed to log in, renamed, and removed after a step-up', async ({ page, browser }) => {
  await virtualKey(page);
  const username = uniqueUsername('klic');
  await register(page, username);
  // Settings → Two-factor authentication: Set → Security key: Set, as the help page says
  await page.getByRole('region', { name: 'Two-factor authentication' }).getByRole('link', { name: 'Set' }).click();
  await page.getByRole('region', { name: 'Security key' }).getByRole('link', { name: 'Set' }).click();
  await expect(page).toHaveURL(/\/settings\/2fa\/security-keys$/);
  await expect(page.getByText('You have no security key yet.')).toBeVisible();
  await expectAccessible(page);

  // a name is required before the key is touched
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText('Fill in this field.')).toBeVisible();

  await page.getByLabel('Key name').fill('Virtual key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText('The key has been added. It can be used for NIA. (FIDO_CERTIFIED_L1)')).toBeVisible();
  const row = page.getByRole('row', { name: /Virtual key/ });
  await expect(row.getByRole('cell').nth(0)).toHaveText('Chromium virtual authenticator (test)');
  await expect(row.getByRole('cell').nth(1)).toHaveText('hardware key');
  await expect(row.getByRole('cell').nth(2)).toHaveText('FIDO_CERTIFIED_L1');
  await expect(row.getByRole('cell').nth(3)).toHaveText('yes');
  // one hardware key: none of the help page's warnings concerns this account (Windows Hello
  // beside a hardware key, only a system key, an Apple device)
  await expect(page.getByRole('note')).toHaveCount(0);
  await expect(page.getByText(/Windows Hello/)).toHaveCount(0);
  await expectAccessible(page);

  // logging in now needs the key after the password
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
  // Settings → Two-factor authentication: Set → Security key: Set, as the help page says
  await page.getByRole('region', { name: 'Two-factor authentication' }).getByRole('link', { name: 'Set' }).click();
  await page.getByRole('region', { name: 'Security key' }).getByRole('link', { name: 'Set' }).click();
  await expect(page.getByRole('row', { name: /Virtual key/ }).getByRole('cell').nth(5)).not.toHaveText('not yet');

  // another browser, with another key, gets no further than the key step
  const other = await browser.newContext();
  const stranger = await other.newPage();
  await virtualKey(stranger);
  await stranger.goto('/login');
  await hydrated(stranger);
  await logIn(stranger, username);
  await expect(stranger.getByRole('heading', { name: 'Confirm the login with your security key' })).toBeVisible();
  await expect(
    stranger.getByText('The browser got no answer from the key (it was cancelled or timed out). Please try again.'),
  ).toBeVisible({ timeout: 30_000 });
  await expectAccessible(stranger);
  await expect(stranger).toHaveURL(/\/login\/key$/);
  // nothing but the password again leads on
  await stranger.getByRole('button', { name: 'Try again' }).click();
  await expect(
    stranger.getByText('The browser got no answer from the key (it was cancelled or timed out). Please try again.'),
  ).toBeVisible({ timeout: 30_000 });
  await other.close();

  // rename
  await page.getByRole('row', { name: /Virtual key/ }).getByRole('link', { name: 'Rename' }).click();
  await page.getByLabel('Key name', { exact: true }).first().fill('Blue key');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Blue key/ })).toBeVisible();

  // step-up: password and key again
  await page.goto('/reauth?next=%2Fsettings%2F2fa%2Fsecurity-keys');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Confirm it is you' })).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel('Password', { exact: true }).fill('wrong password for step-up');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/settings\/2fa\/security-keys$/);
  await hydrated(page);

  // removing the last key says what it does, then the password alone logs in again
  const blue = page.getByRole('row', { name: /Blue key/ });
  await blue.getByRole('link', { name: 'Remove' }).click();
  await expect(blue.getByText('It is the last key: the account will then be protected by the password only')).toBeVisible();
  await blue.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(page.getByText('You have no security key yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);

});

test('a key whose attestation the browser hid is added as not certified, with the reason', async ({ page }) => {
  await virtualKey(page);
  await hideAttestation(page);
  const username = uniqueUsername('skryty');
  await register(page, username);
  await visit(page, '/settings/2fa/security-keys');
  await page.getByLabel('Key name').fill('Hidden key');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText('The key has been added. It cannot be used for NIA. (NOT_FIDO_CERTIFIED)')).toBeVisible();
  const row = page.getByRole('row', { name: /Hidden key/ });
  await expect(row.getByRole('cell').nth(2)).toHaveText('NOT_FIDO_CERTIFIED');
  await expect(row.getByRole('cell').nth(3)).toContainText('no');
  await expect(row.getByRole('cell').nth(3)).toContainText(
    'The browser did not allow the mojeID website access to your security key',
  );
  await expectAccessible(page);
});
