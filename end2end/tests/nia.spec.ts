import { expect, test } from '@playwright/test';
test.describe.configure({ mode: 'serial' });
import { accountReadyForNia, eobcankaAtNia, expectAccessible, hydrated, PASSWORD, SIM, verifyWithEobcanka, visit } from './helpers';

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
  await expect(table.getByRole('row', { name: /Permanent address/ })).toContainText('Květná 12, 60200 Brno');
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
  await page.getByRole('button', { name: 'Detach from NIA' }).click();
  await page.getByRole('button', { name: 'Yes, detach' }).click();
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
    await page.getByRole('button', { name: 'Detach from NIA' }).click();
    await page.getByRole('button', { name: 'Yes, detach' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Cannot disable authenticator.' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'linked' })).toBeVisible();
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

  // the printable document
  await waiting.getByRole('link', { name: 'Print the document' }).click();
  await hydrated(page);
  await expect(page.getByText(code, { exact: true })).toBeVisible();
  await expect(page.getByText('Poskytnutí údajů z registru obyvatel jiné osobě')).toBeVisible();
  await expect(page.getByRole('img', { name: 'QR code of the code' })).toBeVisible();
  await expectAccessible(page);
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

  // finishing from the Validation section
  await visit(page, '/settings');
  await page.getByRole('link', { name: 'Finish validation for NIA' }).click();
  await hydrated(page);
  await expect(page.getByRole('table').getByRole('row', { name: /Last name/ })).toContainText('Dvořáková');
  await page.getByRole('button', { name: 'Complete connection to NIA' }).click();
  await expect(page).toHaveURL(/\/settings\?nia=complete$/, { timeout: 30_000 });
  await expect(page.getByText('Nia pairing complete')).toBeVisible();
  await visit(page, '/settings/profile');
  await expect(page.getByLabel('Last name')).toHaveValue('Dvořáková');
  await expect(page.getByLabel('Last name')).toHaveAttribute('readonly', '');
});
