import { expect, test } from '@playwright/test';
import { accountReadyForNia, codeSentTo, expectAccessible, hydrated, logIn, phoneOf, visit } from './helpers';

test('a lost key: the 2FA reset with the control code, PIN1, PIN2 and the password removes it', async ({ page }) => {
  test.setTimeout(120_000);
  const username = await accountReadyForNia(page, 'reset');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);

  await page.getByRole('link', { name: 'Is your two factor authentication not working?' }).click();
  await expect(page).toHaveURL(/\/login\/2fa-reset$/);
  await hydrated(page);
  await expectAccessible(page);
  await page.getByLabel('Username').fill(username);
  // a wrong control code: said, and a new one shown
  await page.getByLabel('Enter the control code').fill('XXXXXX');
  await page.getByRole('button', { name: 'Send PIN1 and PIN2' }).click();
  await expect(page.getByText('The code is not correct. Check it and try again.').first()).toBeVisible();
  // the name stays typed; the control code is a new one, and the old one typed is gone
  await expect(page.getByLabel('Username')).toHaveValue(username);
  await expect(page.getByLabel('Enter the control code')).toHaveValue('');
  const control = (await page.locator('#control-code').innerText()).trim();
  await page.getByLabel('Enter the control code').fill(control);
  await page.getByRole('button', { name: 'Send PIN1 and PIN2' }).click();
  await expect(page.getByText('we sent PIN1 by e-mail and PIN2 by SMS')).toBeVisible();

  const pin1 = await codeSentTo(page, `${username}@example.cz`);
  const pin2 = await codeSentTo(page, phoneOf(username));
  await page.getByLabel('PIN1 (from the e-mail)').fill(pin1);
  await page.getByLabel('PIN2 (from the SMS)').fill(pin2);
  await page.getByLabel('Password', { exact: true }).fill('not the password at all');
  await page.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('The code is not correct. Check it and try again.').first()).toBeVisible();
  await expect(page.getByLabel('PIN1 (from the e-mail)')).toHaveValue(pin1);
  await page.getByLabel('Password', { exact: true }).fill('kobyla ma maly bok u potoka');
  await page.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('Two-factor authentication has been removed')).toBeVisible();
  await expectAccessible(page);

  // the password alone logs in now
  await visit(page, '/login');
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
});

test('without access to e-mail or phone: the steps and the paper form to download', async ({ page }) => {
  await visit(page, '/login/2fa-reset');
  const section = page.getByRole('region', { name: 'No access to your e-mail or phone?' });
  await expect(section.getByRole('listitem')).toHaveCount(3);
  await expect(section.getByRole('listitem').first()).toHaveText('Download and fill in the form Žádost o reset hesla v MojeID (only in Czech language).');
  const href = await section.getByRole('link', { name: 'The form Žádost o reset hesla v MojeID (PDF)' }).getAttribute('href');
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/pdf');
  expect((await res.body()).subarray(0, 5).toString()).toBe('%PDF-');
});
