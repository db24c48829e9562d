import { expect, test } from '@playwright/test';
test.describe.configure({ mode: 'serial' });
import { accountReadyForNia, codeSentTo, eobcankaAtNia, expectAccessible, hydrated, linkWithEobcanka, logIn, PASSWORD, phoneOf, SIM, staffMember, verifyWithEobcanka, visit } from './helpers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import type { Page } from '@playwright/test';

/** The new login an NIA-affecting action asks for: the page says why, then password and key. */
async function confirmWithNewLogin(page: Page, why: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: 'Confirm it is you' })).toBeVisible();
  await expect(page.getByText(why)).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
}

test('an account is linked to NIA with eObčanka, its profile is locked, and registry changes arrive', async ({ page, request }) => {
  test.setTimeout(120_000);
  await accountReadyForNia(page, 'nia');

  // the conditions are all met
  await visit(page, '/settings/nia');
  await expect(page.getByRole('heading', { level: 1, name: 'Link to government services (NIA)' })).toBeVisible();
  await expect(page.locator('ul.conditions li.missing')).toHaveCount(0);

  await verifyWithEobcanka(page);
  await eobcankaAtNia(page, '100000001');

  // back with the register's data, differences highlighted
  await expect(page).toHaveURL(/\/settings\/nia$/);
  await hydrated(page);
  const table = page.getByRole('table');
  await expect(page.getByRole('heading', { name: 'Data from the population register' })).toBeVisible();
  await expect(table.getByRole('row', { name: /Permanent address/ })).toContainText('Květná 12, 602 00 Brno');
  await expect(table.getByRole('row', { name: /Permanent address/ })).toContainText('differs');
  await expect(table.getByRole('row', { name: /First name/ })).not.toContainText('differs');
  await expectAccessible(page);

  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();
  await expectAccessible(page);

  // the profile now holds the register's data, locked
  await visit(page, '/settings/profile');
  await expect(page.getByLabel('Street')).toHaveValue('Květná');
  await expect(page.getByLabel('Street')).toHaveAttribute('readonly', '');
  await expect(page.getByText('Locked: comes from the population register (account linked to NIA).').first()).toBeVisible();

  // NIA registered the key as a means of this person
  const citizens = await (await request.get(`${SIM}/admin/api/citizens`)).json();
  const jana = citizens.find((c: { citizen: { id: string } }) => c.citizen.id === 'rob-1001');
  expect(jana.means.length).toBeGreaterThan(0);

  // a change in the register reaches the profile
  await request.post(`${SIM}/admin/api/citizens/rob-1001`, { data: { street: 'Nová', number: '7' } });
  await expect(async () => {
    await page.reload();
    await expect(page.getByLabel('Street')).toHaveValue('Nová', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByLabel('House number')).toHaveValue('7');

  // detaching: the link ends, the fields unlock, and the citizen sees it in the security events
  await visit(page, '/settings/nia');
  await page.getByRole('link', { name: 'Detach from NIA' }).click();
  await confirmWithNewLogin(page, 'Detaching from NIA must be confirmed with a new login.');
  await expect(page.getByText('The account has been detached from NIA.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Link with NIA' })).toBeVisible();
  const after = await (await request.get(`${SIM}/admin/api/citizens`)).json();
  expect(after.find((c: { citizen: { id: string } }) => c.citizen.id === 'rob-1001').means).toEqual([]);
  await visit(page, '/settings/profile');
  await expect(page.getByLabel('Street')).not.toHaveAttribute('readonly', '');
  await visit(page, '/settings/security-events');
  await expect(page.getByRole('row', { name: /Link to NIA ended/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Linked to NIA/ })).toBeVisible();
});

test('during an NIA outage linking fails with the exact message and the request completes later', async ({ page, request }) => {
  test.setTimeout(120_000);
  await accountReadyForNia(page, 'vypadek');
  await verifyWithEobcanka(page);
  await eobcankaAtNia(page, '100000002');
  await expect(page).toHaveURL(/\/settings\/nia$/);
  await hydrated(page);

  await request.post(`${SIM}/admin/api/outage`, { data: { on: true } });
  try {
    await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'It is not possible to complete the access to public administration services.' })).toBeVisible({ timeout: 20_000 });
    // nothing lost: the data and the button are still there
    await expect(page.getByRole('heading', { name: 'Data from the population register' })).toBeVisible();
    await expectAccessible(page);
  } finally {
    await request.post(`${SIM}/admin/api/outage`, { data: { on: false } });
  }
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();

  // detaching during an outage is refused with the help page's message and changes nothing
  await visit(page, '/settings/nia');
  await request.post(`${SIM}/admin/api/outage`, { data: { on: true } });
  try {
    await page.getByRole('link', { name: 'Detach from NIA' }).click();
    await confirmWithNewLogin(page, 'Detaching from NIA must be confirmed with a new login.');
    await expect(page.getByRole('alert').filter({ hasText: 'Cannot disable authenticator.' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Your account is linked to NIA' })).toBeVisible();
  } finally {
    await request.post(`${SIM}/admin/api/outage`, { data: { on: false } });
  }
});

test('a person NIA cannot link is told why in plain words', async ({ page }) => {
  test.setTimeout(120_000);
  await accountReadyForNia(page, 'cizinec');
  await verifyWithEobcanka(page);
  await eobcankaAtNia(page, '100000005');
  await expect(page).toHaveURL(/\/settings\/nia$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page.getByText('The population register does not record you as a citizen of the Czech Republic.')).toBeVisible({ timeout: 20_000 });
});

test('Czech POINT: request, printed document, the officer console, the e-mail, and finishing the validation', async ({ page, context }) => {
  test.setTimeout(120_000);
  const username = await accountReadyForNia(page, 'czechpoint');
  // the office will identify Eva Dvořáková: the register's data are used only for the person
  // the profile names
  await visit(page, '/settings/profile');
  await page.getByLabel('First name').fill('Eva');
  await page.getByLabel('Last name').fill('Dvořáková');
  await page.getByLabel('Birth date').fill('30. 7. 1992');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Your profile has been saved.')).toBeVisible();
  await visit(page, '/settings/nia');
  await page.getByRole('link', { name: 'Link with NIA' }).click();
  await hydrated(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/settings\/nia\?step=choose$/);
  await hydrated(page);
  await page.getByLabel('Visit Czech POINT office').check();
  await page.getByRole('button', { name: 'Verify' }).click();

  // the request waits, with its code and what to do
  const waiting = page.getByRole('region', { name: 'Identity verification at a Czech POINT office' });
  await expect(waiting).toBeVisible();
  const code = (await waiting.locator('strong.code').innerText()).trim();
  expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$/);
  await expect(waiting.getByText('If no e-mail arrives within a few days')).toBeVisible();
  await expectAccessible(page);
  // Settings says the request waits, with its code
  await visit(page, '/settings');
  await expect(page.getByRole('region', { name: 'Link to government services (NIA)' })).toContainText(code);
  await visit(page, '/settings/nia');
  await expect(waiting).toBeVisible();

  // the printable document
  await waiting.getByRole('link', { name: 'Print the document' }).click();
  await hydrated(page);
  await expect(page.getByText(code, { exact: true })).toBeVisible();
  await expect(page.getByText('Poskytnutí údajů z registru obyvatel jiné osobě')).toBeVisible();
  await expect(page.getByRole('img', { name: 'QR code of the code' })).toBeVisible();
  await expectAccessible(page);
  // "Print" is there once the forms' script runs it, and opens the browser's print dialog
  await page.evaluate(() => { (window as any).printed = 0; window.print = () => { (window as any).printed += 1; }; });
  await page.getByRole('button', { name: 'Print', exact: true }).click();
  expect(await page.evaluate(() => (window as any).printed)).toBe(1);
  const pdfHref = await page.getByRole('link', { name: 'Download as PDF' }).getAttribute('href');
  const pdf = await page.request.get(pdfHref!);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

  // at the office
  const office = await context.newPage();
  await office.goto(`${SIM}/czechpoint`);
  await office.getByLabel('Žadatel (občanský průkaz)').selectOption('100000003');
  await office.getByLabel('Zpráva pro příjemce').fill(code);
  await office.getByRole('button', { name: 'Podat žádost' }).click();
  await expect(office.getByText('Žádost byla podána')).toBeVisible();
  await office.getByRole('button', { name: 'Zpracovat frontu a doručit' }).click();
  await expect(office.getByText(/Doručeno: 1\./)).toBeVisible();

  // the e-mail
  await office.goto('/dev/outbox');
  await expect(office.locator(`tr[data-to="${username}@example.cz"]`).filter({ hasText: 'Finish validation for NIA' })).toHaveCount(1);
  await office.close();

  // the help page's step 8: in Settings, the waiting request shows in the NIA section, and
  // "In the Validation section click Finish validation for NIA"
  await visit(page, '/settings');
  await expect(page.getByRole('region', { name: 'Link to government services (NIA)' })).toContainText('The data from the population register arrived');
  await page.getByRole('region', { name: 'Validation' }).getByRole('link', { name: 'Finish validation for NIA' }).click();
  await hydrated(page);
  await expect(page.getByRole('table').getByRole('row', { name: /Last name/ })).toContainText('Dvořáková');
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();
  await visit(page, '/settings/profile');
  await expect(page.getByLabel('Last name')).toHaveValue('Dvořáková');
  await expect(page.getByLabel('Last name')).toHaveAttribute('readonly', '');
});

/** What the citizen's profile holds now (the register's data once linked). */
async function profileOf(page: import('@playwright/test').Page): Promise<Record<string, string>> {
  await visit(page, '/settings/profile');
  const value = (label: string) => page.getByLabel(label, { exact: true }).inputValue();
  return {
    street: await value('Street'),
    number: await value('House number'),
    city: await value('City'),
    postcode: await value('Postcode'),
  };
}

async function meansAtNia(request: import('@playwright/test').APIRequestContext, id: string): Promise<unknown[]> {
  const citizens = await (await request.get(`${SIM}/admin/api/citizens`)).json();
  return citizens.find((c: { citizen: { id: string } }) => c.citizen.id === id).means;
}

test('the helpdesk unlinks an account after the identity questions; the account keeps its key', async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const username = await accountReadyForNia(page, 'podpora');
  await linkWithEobcanka(page, '100000001');
  const address = await profileOf(page);

  const desk = await staffMember(browser, 'helpdesk', 'helpdesk');
  await expect(desk.getByRole('heading', { level: 1, name: 'Helpdesk' })).toBeVisible();
  await desk.getByLabel('Username').fill(username);
  await desk.getByRole('button', { name: 'Find the account' }).click();
  const card = desk.getByRole('region', { name: username });
  await expect(card.getByText('linked', { exact: true })).toBeVisible();
  // the helpdesk has no back-office part, and its functions refuse it
  await expect(desk.getByRole('heading', { name: /Paper form/ })).toHaveCount(0);
  const refused = await desk.request.post('/api/admin_reset_login', {
    headers: { origin: new URL(desk.url()).origin },
    form: { form_id: '1', queue: 'false' },
  });
  expect(refused.status()).toBe(403);

  // one wrong answer: said, no unlink offered
  const answer = async (birth: string) => {
    await card.getByLabel('First name').fill('Jana');
    await card.getByLabel('Last name').fill('Nováková');
    await card.getByLabel('Birth date (YYYY-MM-DD)').fill(birth);
    await card.getByLabel('Street').fill(address.street);
    await card.getByLabel('House number').fill(address.number);
    await card.getByLabel('City').fill(address.city);
    await card.getByLabel('Postcode').fill(address.postcode);
    await card.getByLabel('E-mail').fill(`${username}@example.cz`);
    await card.getByLabel('Phone').fill(phoneOf(username));
    await card.getByRole('button', { name: 'Check the answers' }).click();
  };
  await answer('1985-03-15');
  await expect(card.getByRole('listitem').filter({ hasText: 'Birth date' })).toContainText('does not match');
  await expect(card.getByRole('listitem').filter({ hasText: 'Permanent address' })).toContainText('matches');
  await expect(card.getByRole('button', { name: 'Unlink from NIA' })).toHaveCount(0);
  await answer('1985-03-14');
  await expect(card.getByRole('listitem').filter({ hasText: 'Birth date' })).toContainText('matches');
  await expectAccessible(desk);
  await card.getByRole('button', { name: 'Unlink from NIA' }).click();
  await expect(card.getByText('The account has been unlinked from NIA; its two-factor authentication stays.')).toBeVisible();

  // NIA and our side agree; the key stays; the citizen is told and sees who did it
  expect(await meansAtNia(request, 'rob-1001')).toEqual([]);
  await visit(page, '/settings/nia');
  await expect(page.getByRole('link', { name: 'Link with NIA' })).toBeVisible();
  await visit(page, '/settings/2fa/security-keys');
  await expect(page.getByRole('row', { name: /Klíč pro NIA/ })).toBeVisible();
  const outbox = await page.context().newPage();
  await outbox.goto('/dev/outbox');
  await expect(outbox.locator(`tr[data-to="${username}@example.cz"]`).first()).toContainText('unlinked from NIA');
  await outbox.close();
  await visit(page, '/settings/security-events');
  // the citizen sees that staff acted, not who
  await expect(page.getByRole('row', { name: /Identity checked by the helpdesk/ }).first()).toContainText('mojeID staff');
  await expect(page.getByRole('row', { name: /Link to NIA ended/ })).toBeVisible();
  await desk.context().close();
});

test('the back office resets the login on a verified paper form; during an outage the reset is queued', async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const username = await accountReadyForNia(page, 'formular');
  await linkWithEobcanka(page, '100000001');

  const office = await staffMember(browser, 'backoffice', 'back_office');
  await office.getByLabel('Username').fill(username);
  await office.getByRole('button', { name: 'Find the account' }).click();
  const card = office.getByRole('region', { name: username });
  const forms = card.getByRole('region', { name: 'Paper form "Žádost o reset hesla v MojeID"' });
  await expect(forms.getByText('No paper forms are recorded for this account.')).toBeVisible();

  // a wrong file and no reference: each said at its field, nothing recorded
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'form-'));
  const text = path.join(dir, 'form.txt');
  fs.writeFileSync(text, 'not a scan');
  await forms.getByLabel('Scan of the form').setInputFiles(text);
  await forms.getByRole('button', { name: 'Record the form' }).click();
  await expect(forms.getByText('Choose a PDF, JPEG or PNG file.').first()).toBeVisible();
  await expect(forms.getByLabel('Reference number')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(office);

  const scan = path.join(dir, 'zadost.pdf');
  fs.writeFileSync(scan, '%PDF-1.4\n% Žádost o reset hesla v MojeID, ověřený podpis\n');
  await forms.getByLabel('Reference number').fill('zr-2026/0777');
  await forms.getByLabel('Scan of the form').setInputFiles(scan);
  await forms.getByRole('button', { name: 'Record the form' }).click();
  await expect(forms.getByText('The form has been recorded.')).toBeVisible();
  const row = forms.getByRole('row', { name: /ZR-2026\/0777/ });
  await expect(row).toContainText('Recorded, login not reset yet');
  const download = office.waitForEvent('download');
  await row.getByRole('link', { name: 'Download the scan' }).click();
  expect(fs.readFileSync(await (await download).path()).toString()).toContain('ověřený podpis');

  // NIA is down: refused with the help page's message, nothing changed; queued instead
  await request.post(`${SIM}/admin/api/outage`, { data: { on: true } });
  try {
    await row.getByRole('button', { name: 'Reset the login' }).click();
    await expect(forms.getByRole('alert').filter({ hasText: 'Cannot disable authenticator.' })).toBeVisible();
    expect((await meansAtNia(request, 'rob-1001')).length).toBeGreaterThan(0);
    await row.getByRole('button', { name: 'Queue the reset' }).click();
    await expect(row).toContainText('Reset queued until NIA is available');
  } finally {
    await request.post(`${SIM}/admin/api/outage`, { data: { on: false } });
  }
  // the job runs it once NIA answers
  await expect(async () => {
    await office.getByRole('button', { name: 'Find the account' }).click();
    await expect(forms.getByRole('row', { name: /ZR-2026\/0777/ })).toContainText('Login reset', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  expect(await meansAtNia(request, 'rob-1001')).toEqual([]);
  await expect(card.getByText('Login reset: the citizen has not set a new password yet.')).toBeVisible();

  // the citizen's session ended; the old password no longer works
  await visit(page, '/settings');
  await expect(page).toHaveURL(/\/login/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page.getByText('Incorrect username or password.').first()).toBeVisible();

  // the link in the e-mail sets a new password
  const outbox = await page.context().newPage();
  await outbox.goto('/dev/outbox');
  const mail = await outbox.locator(`tr[data-to="${username}@example.cz"]`).first().innerText();
  await outbox.close();
  expect(mail).toContain('ZR-2026/0777');
  const link = mail.match(/http\S+\/password-reset\?token=[A-Za-z0-9_-]+/);
  expect(link, mail).not.toBeNull();
  await page.goto(link![0]);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Set a new password' })).toBeVisible();
  await expect(page.getByText(username)).toBeVisible();
  const fresh = 'nove heslo pro Janu na jaro';
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('New password again').fill('nove heslo pro Janu na leto');
  await page.getByRole('button', { name: 'Set the password' }).click();
  await expect(page.getByText('The two passwords differ.').first()).toBeVisible();
  await expect(page.getByLabel('New password', { exact: true })).toHaveValue(fresh);
  await expectAccessible(page);
  await page.getByLabel('New password again').fill(fresh);
  await page.getByRole('button', { name: 'Set the password' }).click();
  await expect(page.getByText('Your new password is set.')).toBeVisible();
  // the link works once
  await page.goto(link![0]);
  await expect(page.getByRole('alert')).toContainText('This link does not work');

  // the password alone logs in: no keys, no NIA link, as the help page says
  await visit(page, '/login');
  await logIn(page, username, fresh);
  await expect(page).toHaveURL(/\/settings$/);
  await visit(page, '/settings/2fa/security-keys');
  await expect(page.getByRole('row', { name: /Klíč pro NIA/ })).toHaveCount(0);
  await visit(page, '/settings/nia');
  await expect(page.getByRole('listitem').filter({ hasText: 'A security key certified' })).toContainText('missing');
  await expect(page.getByRole('region', { name: 'Your account is linked to NIA' })).toHaveCount(0);
  await visit(page, '/settings/security-events');
  await expect(page.getByRole('row', { name: /Login reset by the back office \(paper form\)/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /New password set through the e-mailed link/ })).toBeVisible();
  await office.context().close();
});

test('removing the key registered at NIA is refused during an outage, then deactivates it at NIA and ends the link', async ({ page, request }) => {
  test.setTimeout(150_000);
  await accountReadyForNia(page, 'klicnia');
  await linkWithEobcanka(page, '100000001');
  await visit(page, '/settings/2fa/security-keys');
  const row = page.getByRole('row', { name: /Klíč pro NIA/ });
  await expect(row).toContainText('registered at NIA');

  await request.post(`${SIM}/admin/api/outage`, { data: { on: true } });
  try {
    await row.getByRole('link', { name: 'Remove', exact: true }).click();
    await expect(row.getByText('It is your last key registered at NIA')).toBeVisible();
    await row.getByRole('button', { name: 'Yes, remove' }).click();
    await confirmWithNewLogin(page, 'Removing the key "Klíč pro NIA", which is linked to NIA, must be confirmed with a new login.');
    // said in the key's row, beside its buttons, not as part of its name
    await expect(row.getByRole('status').filter({ hasText: 'Cannot disable authenticator.' })).toBeVisible();
    await expect(row.getByRole('rowheader')).toHaveText('Klíč pro NIA');
    await expect(row).toContainText('registered at NIA');
    expect((await meansAtNia(request, 'rob-1001')).length).toBeGreaterThan(0);
  } finally {
    await request.post(`${SIM}/admin/api/outage`, { data: { on: false } });
  }

  // once NIA is back: the same steps again
  await row.getByRole('link', { name: 'Remove', exact: true }).click();
  await row.getByRole('button', { name: 'Yes, remove' }).click();
  await confirmWithNewLogin(page, 'Removing the key "Klíč pro NIA", which is linked to NIA, must be confirmed with a new login.');
  await expect(page.getByText('The security key has been removed.')).toBeVisible();
  await expect(page.getByText('You have no security key yet.')).toBeVisible();
  expect(await meansAtNia(request, 'rob-1001')).toEqual([]);
  await visit(page, '/settings/nia');
  await expect(page.getByRole('region', { name: 'Your account is linked to NIA' })).toHaveCount(0);
  await visit(page, '/settings/security-events');
  await expect(page.getByRole('row', { name: /Link to NIA ended/ })).toBeVisible();
});

test('the 2FA reset of a linked account is refused during an outage, then removes the key and the NIA link', async ({ page, request }) => {
  test.setTimeout(150_000);
  const username = await accountReadyForNia(page, 'resetnia');
  await linkWithEobcanka(page, '100000001');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);

  await page.getByRole('link', { name: 'Is your two factor authentication not working?' }).click();
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Enter the control code').fill((await page.locator('#control-code').innerText()).trim());
  await page.getByRole('button', { name: 'Send PIN1 and PIN2' }).click();
  await expect(page.getByText('we sent PIN1 by e-mail and PIN2 by SMS')).toBeVisible();
  await page.getByLabel('PIN1 (from the e-mail)').fill(await codeSentTo(page, `${username}@example.cz`));
  await page.getByLabel('PIN2 (from the SMS)').fill(await codeSentTo(page, phoneOf(username)));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);

  await request.post(`${SIM}/admin/api/outage`, { data: { on: true } });
  try {
    await page.getByRole('button', { name: 'Remove' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Cannot disable authenticator.' })).toBeVisible();
    expect((await meansAtNia(request, 'rob-1001')).length).toBeGreaterThan(0);
  } finally {
    await request.post(`${SIM}/admin/api/outage`, { data: { on: false } });
  }
  // nothing was lost: the same PINs and password work once NIA is back
  await page.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('Two-factor authentication has been removed')).toBeVisible();
  expect(await meansAtNia(request, 'rob-1001')).toEqual([]);

  await visit(page, '/login');
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
  await visit(page, '/settings/nia');
  await expect(page.getByRole('region', { name: 'Your account is linked to NIA' })).toHaveCount(0);
  await visit(page, '/settings/security-events');
  await expect(page.getByRole('row', { name: /Two-factor authentication reset/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Link to NIA ended/ })).toBeVisible();
});

// Trust: somebody else's NIA login or Czech POINT visit never reaches an account (here, not
// in a file of its own: the outage switch the tests above use is global)

test('an NIA address sent to somebody else links nothing: their answer is refused in their own browser', async ({ page, browser }) => {
  test.setTimeout(120_000);
  // the attacker presses "Verify" on their own account and keeps NIA's address
  await accountReadyForNia(page, 'attacker');
  await verifyWithEobcanka(page);
  await expect(page).toHaveURL(new RegExp(`^${SIM}/FPSTS/saml2/basic`));
  const niaAddress = page.url();

  // the victim, in a browser of their own, follows it and logs in with their eObčanka
  const victimContext = await browser.newContext();
  const victim = await victimContext.newPage();
  await victim.goto(niaAddress);
  await eobcankaAtNia(victim, '100000002');
  await expect(victim.getByRole('heading', { level: 1, name: 'The answer from NIA was not accepted' })).toBeVisible();
  await expect(victim.getByRole('alert')).toContainText('nothing was changed');
  await expect(victim.getByRole('alert')).toContainText('Never log in at NIA through links from other people.');
  await expectAccessible(victim);
  await victimContext.close();

  // the attacker's account shows none of the victim's data and cannot complete anything
  await visit(page, '/settings/nia');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Link to government services (NIA)' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Data from the population register' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Complete connection to NIA' })).toHaveCount(0);
  await expect(page.getByText('Svoboda')).toHaveCount(0);
});

test('a Czech POINT code filed for somebody else brings their data to no account', async ({ page, context }) => {
  test.setTimeout(120_000);
  const username = await accountReadyForNia(page, 'cpattacker');
  await visit(page, '/settings/nia');
  await page.getByRole('link', { name: 'Link with NIA' }).click();
  await hydrated(page);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/settings\/nia\?step=choose$/);
  await hydrated(page);
  await page.getByLabel('Visit Czech POINT office').check();
  await page.getByRole('button', { name: 'Verify' }).click();
  const waiting = page.getByRole('region', { name: 'Identity verification at a Czech POINT office' });
  const code = (await waiting.locator('strong.code').innerText()).trim();

  // the printed document warns that the code is the owner's alone
  await waiting.getByRole('link', { name: 'Print the document' }).click();
  await hydrated(page);
  await expect(page.getByText('Only the owner of this mojeID account may use the code')).toBeVisible();

  // Petr Svoboda files the code at an office (the profile names Jana Nováková)
  const office = await context.newPage();
  await office.goto(`${SIM}/czechpoint`);
  await office.getByLabel('Žadatel (občanský průkaz)').selectOption('100000002');
  await office.getByLabel('Zpráva pro příjemce').fill(code);
  await office.getByRole('button', { name: 'Podat žádost' }).click();
  await expect(office.getByText('Žádost byla podána')).toBeVisible();
  await office.getByRole('button', { name: 'Zpracovat frontu a doručit' }).click();
  await expect(office.getByText(/Doručeno: 1\./)).toBeVisible();
  // the e-mail tells the account's owner, without the other person's data
  await office.goto('/dev/outbox');
  const mail = office.locator(`tr[data-to="${username}@example.cz"]`).filter({ hasText: 'do not match your account' });
  await expect(mail).toHaveCount(1);
  await expect(mail).not.toContainText('Svoboda');
  await office.close();

  await visit(page, '/settings/nia');
  await hydrated(page);
  await expect(page.getByText('The person in the population register is not the one this account was verified as before, or not the one the profile names.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Complete connection to NIA' })).toHaveCount(0);
  await expect(page.getByText('Svoboda')).toHaveCount(0);
});

// The help page's procedures, step by step, with its own words for every label.
test('the help page: linking with eObčanka, then unlinking via the account and by removing the key', async ({ page }) => {
  test.setTimeout(180_000);
  await accountReadyForNia(page, 'navod', false);
  const settings = async () => {
    await visit(page, '/settings');
  };

  // 1. Go to Settings.
  await settings();
  // 2. Secure your mojeID account with a security key in Two-factor authentication → Security key.
  await page.getByRole('region', { name: 'Two-factor authentication' }).getByRole('link', { name: 'Set' }).click();
  await expect(page).toHaveURL(/\/settings\/2fa$/);
  await page.getByRole('region', { name: 'Security key' }).getByRole('link', { name: 'Set' }).click();
  await expect(page).toHaveURL(/\/settings\/2fa\/security-keys$/);
  await hydrated(page);
  await page.getByLabel('Key name').fill('Klíč pro NIA');
  await page.getByRole('button', { name: 'Add security key' }).click();
  await expect(page.getByText('The key has been added. It can be used for NIA. (FIDO_CERTIFIED_L1)')).toBeVisible();
  // 3. Go back to Settings. In the Link to government services (NIA) section, click Set.
  await settings();
  await expect(page.getByRole('region', { name: 'Validation' })).toContainText('The account is not validated.');
  await page.getByRole('region', { name: 'Link to government services (NIA)' }).getByRole('link', { name: 'Set' }).click();
  await expect(page).toHaveURL(/\/settings\/nia$/);
  // 4. Click Link with NIA ‒ you will be prompted to log in again.
  await page.getByRole('link', { name: 'Link with NIA' }).click();
  await confirmWithNewLogin(page, 'For this action, log in again');
  // 5. choose Use an existing authentication mean (eObčanka) and then click Verify.
  await expect(page).toHaveURL(/\/settings\/nia\?step=choose$/);
  await hydrated(page);
  await page.getByLabel('Use an existing authentication mean (eObčanka)').check();
  await page.getByRole('button', { name: 'Verify' }).click();
  // 6.–7. At the NIA portal: eObčanka, then consent.
  await eobcankaAtNia(page, '100000001');
  // 8. A table with personal information … Complete connection to NIA.
  await expect(page.getByRole('table')).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  // 9.–10. Wait; redirected to Settings with "Nia pairing complete" at the top.
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Validation' })).toContainText('verified with eObčanka at NIA');
  // 11. The register's data and the Organization field are locked.
  await visit(page, '/settings/profile');
  for (const label of ['First name', 'Last name', 'Birth date', 'Street', 'House number', 'City', 'Postcode', 'Country', 'Organization']) {
    await expect(page.getByLabel(label, { exact: true })).toHaveAttribute('readonly', '');
  }

  // Unlink via mojeID account: 2. Settings, 3. Link to government services → Set,
  // 4. Detach from NIA – a new login, 5. the link is cancelled; the key and the validation stay.
  await settings();
  await page.getByRole('region', { name: 'Link to government services (NIA)' }).getByRole('link', { name: 'Set' }).click();
  await page.getByRole('link', { name: 'Detach from NIA' }).click();
  await confirmWithNewLogin(page, 'Detaching from NIA must be confirmed with a new login.');
  await expect(page.getByText('The account has been detached from NIA.')).toBeVisible();
  await settings();
  await expect(page.getByRole('region', { name: 'Two-factor authentication' })).toContainText('The account has 1 security key.');
  await expect(page.getByRole('region', { name: 'Validation' })).toContainText('The account is validated since');

  // link again, then unlink by removing the key: 3. Two-factor authentication → Set,
  // 4. Security key → Set, 5. Remove and confirm – a new login, 6. removed, link cancelled.
  await linkWithEobcanka(page, '100000001');
  await settings();
  await expect(page.getByRole('region', { name: 'Link to government services (NIA)' })).toContainText('Your account is linked to NIA');
  await page.getByRole('region', { name: 'Two-factor authentication' }).getByRole('link', { name: 'Set' }).click();
  await page.getByRole('region', { name: 'Security key' }).getByRole('link', { name: 'Set' }).click();
  await hydrated(page);
  const row = page.getByRole('row', { name: /Klíč pro NIA/ });
  await expect(row).toContainText('registered at NIA');
  await row.getByRole('link', { name: 'Remove', exact: true }).click();
  await row.getByRole('button', { name: 'Yes, remove' }).click();
  await confirmWithNewLogin(page, 'Removing the key "Klíč pro NIA", which is linked to NIA, must be confirmed with a new login.');
  await expect(page.getByText('The security key has been removed.')).toBeVisible();
  await settings();
  await expect(page.getByRole('region', { name: 'Link to government services (NIA)' })).toContainText('not linked');
  await expectAccessible(page);
});

/** At a simulated government service: "Přihlásit se přes NIA", then mojeID on NIA's page. */
async function toMojeidFrom(page: Page, service: 'portal' | 'epo'): Promise<void> {
  await page.goto(`${SIM}/sluzby/${service}`);
  await page.getByRole('link', { name: 'Přihlásit se přes NIA' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Přihlášení ke službě přes NIA' })).toBeVisible();
  await expect(page.getByText('eObčanka – elektronický občanský průkaz')).toBeVisible();
  await page.getByRole('button', { name: 'mojeID', exact: true }).click();
  await expect(page).toHaveURL(/\/nia-login\//);
  await expect(page.getByRole('heading', { level: 1, name: 'Log in to a government service through NIA' })).toBeVisible();
  await hydrated(page);
}

/** The mojeID login for NIA: password, then the key (Chromium's virtual key answers). */
async function passwordAtMojeid(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('the Citizen Portal through NIA with mojeID: refused before linking, substantial with the key, high refused with the reason', async ({ page }) => {
  test.setTimeout(180_000);
  const username = await accountReadyForNia(page, 'portal');

  // not linked yet: told why, with the way to link; the service hears the refusal
  await toMojeidFrom(page, 'portal');
  await expect(page.getByText('Portál občana asks, through the national identity hub NIA, for a login with mojeID at level of assurance substantial.')).toBeVisible();
  await expectAccessible(page);
  // a wrong password is said on the page, the name typed kept
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill('not the password at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByText('Incorrect username or password.').first()).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue(username);
  await passwordAtMojeid(page, username);
  await expect(page.getByText('Your mojeID account is not linked to NIA')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Link the account in Settings → Link to government services (NIA)' })).toHaveAttribute('href', '/settings/nia');
  await expectAccessible(page);
  // the answer is kept for this page: a reload shows it again; another browser sees nothing of it
  await page.reload();
  await expect(page.getByText('Your mojeID account is not linked to NIA')).toBeVisible();
  const other = await page.context().browser()!.newContext();
  const stranger = await other.newPage();
  await stranger.goto(page.url());
  await expect(stranger.getByRole('alert')).toBeVisible();
  await expect(stranger.getByRole('button', { name: 'Return to NIA' })).toHaveCount(0);
  await other.close();
  await page.getByRole('button', { name: 'Return to NIA' }).click();
  await expect(page).toHaveURL(`${SIM}/sluzby/portal?chyba=RequestDenied`);
  await expect(page.getByRole('alert')).toContainText('není propojen s NIA');

  await visit(page, '/settings');
  await linkWithEobcanka(page, '100000001');

  // linked: password + the key registered at NIA (a fresh answer, though the browser has a
  // mojeID session), and the portal shows the person at substantial
  await toMojeidFrom(page, 'portal');
  await passwordAtMojeid(page, username);
  await expect(page).toHaveURL(`${SIM}/sluzby/portal`, { timeout: 30_000 });
  const who = page.locator('#who');
  await expect(who).toContainText('Jana Nováková');
  await expect(who).toContainText('1985-03-14');
  await expect(who.getByRole('row', { name: /Úroveň záruky/ })).toContainText('značná');
  await expect(who.getByRole('row', { name: /Prostředek/ })).toContainText('mojeID');

  // the tax filing needs high: the L1 key is refused, with what high still needs
  await toMojeidFrom(page, 'epo');
  await expect(page.getByText('level of assurance high.', { exact: false }).first()).toBeVisible();
  await passwordAtMojeid(page, username);
  const refusal = page.getByRole('alert');
  await expect(refusal).toContainText('needs level of assurance high, which this login does not reach');
  await expect(refusal.getByRole('listitem')).toHaveText([
    'a security key certified FIDO_CERTIFIED_L2 or higher',
    "a key model on mojeID's list for level high (FIPS- or Common Criteria-certified hardware keys, such as the YubiKey 5 FIPS Series)",
  ]);
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Return to NIA' }).click();
  await expect(page).toHaveURL(`${SIM}/sluzby/epo?chyba=NoAuthnContext`);

  // the citizen's history: one login, to the portal, at substantial, with the key
  await visit(page, '/settings');
  const history = page.getByRole('region', { name: 'Logins to government services' });
  await expect(history.getByRole('row', { name: /Portál občana/ })).toContainText('substantial');
  await expect(history.getByRole('row', { name: /Portál občana/ })).toContainText('Klíč pro NIA');
  await expect(history.getByRole('row')).toHaveCount(2);

  // free the test person for the other tests
  await page.getByRole('region', { name: 'Link to government services (NIA)' }).getByRole('link', { name: 'Set' }).click();
  await page.getByRole('link', { name: 'Detach from NIA' }).click();
  await confirmWithNewLogin(page, 'Detaching from NIA must be confirmed with a new login.');
  await expect(page.getByText('The account has been detached from NIA.')).toBeVisible();
});
