import { expect, test } from '@playwright/test';
import { expectAccessible, hydrated, register, staffMember, uniqueUsername, virtualKey, visit } from './helpers';

test('a citizen who cannot log in sends a request with the key test and a screenshot, and support answers it', async ({ page, browser }) => {
  const email = `${uniqueUsername('podpora')}@example.cz`;
  // the key test first: its result goes to support from there
  await virtualKey(page);
  await visit(page, '/security-keys/check');
  await page.getByRole('button', { name: 'Test the key' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await expect(result).toBeVisible();
  await result.getByRole('button', { name: 'Send this result to technical support' }).click();

  await expect(page).toHaveURL(/\/support\?from=key-check/);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Contact technical support' })).toBeVisible();
  // what the server could tell is filled in: the browser (Chromium) and the key test's JSON
  await expect(page.getByLabel('Browser and its version')).toHaveValue(/Chrom/);
  await expect(page.getByLabel('Result of the key test (JSON)')).toHaveValue(/"verdict"/);
  // nothing is wrong yet: the citizen has not written anything
  await expect(page.locator('.error')).toHaveCount(0);
  await expectAccessible(page);

  // sent without a description and with a text file as the screenshot: both refused, the rest kept
  await page.getByLabel('Your mojeID username').fill('jana.zapomnela');
  await page.getByLabel('E-mail for the answer').fill(email);
  await page.getByLabel('Screenshot of the error').setInputFiles({
    name: 'chyba.png',
    mimeType: 'image/png',
    buffer: Buffer.from('<svg onload=alert(1)>'),
  });
  await page.getByRole('button', { name: 'Review the request' }).click();
  await expect(page).toHaveURL(/\/support#form$/);
  await hydrated(page);
  await expect(page.getByText('Choose a PNG or JPEG image (a screenshot).')).toBeVisible();
  await expect(page.getByLabel('What you did or wanted to do, and what happened')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Your mojeID username')).toHaveValue('jana.zapomnela');
  await expect(page.getByLabel('E-mail for the answer')).toHaveValue(email);
  await expectAccessible(page);

  const screenshot = await page.screenshot();
  await page.getByLabel('What you did or wanted to do, and what happened').fill('Klíč funguje v testu, ale přihlásit se nemohu.');
  await page.getByLabel('Screenshot of the error').setInputFiles({ name: 'chyba.png', mimeType: 'image/png', buffer: screenshot });
  await page.getByRole('button', { name: 'Review the request' }).click();

  // the preview shows exactly what will be sent, the screenshot included
  await expect(page).toHaveURL(/\/support\/preview$/);
  await hydrated(page);
  const sent = page.getByRole('table', { name: 'The request' });
  await expect(sent.getByRole('row', { name: /Your mojeID username/ })).toContainText('jana.zapomnela');
  await expect(sent.getByRole('row', { name: /E-mail for the answer/ })).toContainText(email);
  await expect(sent.getByRole('row', { name: /What you did/ })).toContainText('přihlásit se nemohu');
  const image = page.getByRole('img', { name: 'Screenshot of the error' });
  await expect(image).toBeVisible();
  expect(await image.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Send to technical support' }).click();

  await expect(page).toHaveURL(/\/support\/sent\?reference=MID-/);
  const status = page.getByRole('status').filter({ hasText: 'Your request has been sent.' });
  await expect(status).toBeVisible();
  const reference = (await status.innerText()).match(/MID-[0-9A-Z]{4}-[0-9A-Z]{4}/)![0];
  // the acknowledgement by e-mail carries the reference
  const outbox = await page.context().newPage();
  await outbox.goto('/dev/outbox');
  await expect(outbox.locator(`tr[data-to="${email}"]`).first()).toContainText(reference);
  await outbox.close();
  // the draft is gone: going back to the preview does not send it again
  await page.goto('/support/preview');
  await expect(page.getByText('The request was not sent: its draft has expired')).toBeVisible();

  // support opens it and sees the key test's verdict
  const support = await staffMember(browser, 'technik', 'support');
  await visit(support, '/admin/support');
  // the operators' summary: the FIDO metadata in use, NIA, the queues
  const health = support.getByRole('region', { name: 'Service status' });
  await expect(health).toContainText('nextUpdate');
  await expect(health).toContainText('Jobs waiting / failed');
  await support.getByRole('link', { name: reference }).click();
  await expect(support.getByRole('heading', { level: 1, name: `Request ${reference}` })).toBeVisible();
  await hydrated(support);
  await expect(support.getByRole('row', { name: /Your mojeID username/ })).toContainText('jana.zapomnela (sent without logging in)');
  const verdict = support.getByRole('region', { name: 'Test result' });
  await expect(verdict.getByText('Chromium virtual authenticator (test)', { exact: true })).toBeVisible();
  await expect(verdict.getByText('FIDO_CERTIFIED_L1', { exact: true })).toBeVisible();
  await expect(support.getByRole('img', { name: 'Screenshot of the error' })).toBeVisible();
  await expectAccessible(support);
  await support.getByLabel('Answer', { exact: true }).fill('Dobrý den, zkuste se přihlásit znovu.');
  await support.getByRole('button', { name: 'Send the answer' }).click();
  await expect(support.getByRole('status').filter({ hasText: 'The answer has been sent.' })).toBeVisible();
  await support.context().close();
});

test('a citizen cannot read the support queue', async ({ page }) => {
  await register(page, uniqueUsername('zvedavy'));
  await visit(page, '/admin/support');
  await expect(page.getByRole('alert')).toHaveText('This page is for mojeID staff only, logged in with a security key.');
  const res = await page.request.post('/api/admin_support_queue', {
    headers: { origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(403);
});

test('the help page has every troubleshooting item, in Czech too, with the udev rule to copy', async ({ page }) => {
  await visit(page, '/help');
  for (const name of [
    'Apple devices',
    'Access of the mojeID website to your security key',
    'Docking station and extension cables',
    'Windows Hello and security keys',
    'Up-to-date browser and operating system',
    'Android and Windows Hello as a system security key',
    'Recommended browsers for adding security keys',
    'Message "Registration failed, incorrect data from security key."',
    'GoTrust Idem Key does not work on Ubuntu 18',
    'The confirmation e-mail after Czech POINT does not arrive',
    'Before contacting mojeID support',
  ]) {
    await expect(page.getByRole('heading', { level: 2, name, exact: true })).toBeVisible();
  }
  await expect(page.locator('pre.copyable')).toContainText('ATTRS{idVendor}=="1fc9|32a3", ATTRS{idProduct}=="f143|3201", TAG+="uaccess"');
  await expect(page.getByText('podpora@mojeid.cz').first()).toBeVisible();

  await visit(page, '/help?lang=cs');
  await expect(page.getByRole('heading', { level: 1, name: 'Řešení problémů' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Zařízení Apple' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Než kontaktujete podporu mojeID' })).toBeVisible();
});
