import { expect, test } from '@playwright/test';
import { expectAccessible, hydrated, visit } from './helpers';

test('the certified list works without an account: search, filter and sort', async ({ page, request }) => {
  // server-rendered, with the levels
  const html = await (await request.get('/security-keys/certified?q=yubikey')).text();
  expect(html).toContain('YubiKey 5 Series with NFC');
  expect(html).toContain('FIDO_CERTIFIED_L1');

  await visit(page, '/security-keys/certified');
  await expect(page.getByRole('heading', { level: 1, name: 'Certified security keys' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('281 of 281 models match.');
  // fifty to a page, highest level first by default
  await expect(page.locator('table.models tbody tr')).toHaveCount(50);
  await expect(page.getByRole('navigation', { name: 'Pages of the list' })).toContainText('Page 1 of 6 (models 1–50)');
  const firstLevel = page.locator('table.models tbody tr').first().locator('td').first();
  await expect(firstLevel).toHaveText(/FIDO_CERTIFIED_L[23]/);

  await page.getByLabel('Search by name or AAGUID').fill('2fc0579f');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/q=2fc0579f/);
  await expect(page.getByRole('status')).toHaveText('1 of 281 models match.');
  await expect(page.getByRole('navigation', { name: 'Pages of the list' })).toHaveCount(0);
  const row = page.getByRole('row', { name: /YubiKey 5 Series with NFC/ });
  await expect(row.getByRole('cell').nth(0)).toHaveText('FIDO_CERTIFIED_L1');
  await expect(row.getByRole('cell').nth(1)).toHaveText('yes');
  await expectAccessible(page);

  // a revoked model is shown as unusable, with the date
  await page.getByLabel('Search by name or AAGUID').fill('ba86dc56');
  await page.getByLabel('Show', { exact: true }).selectOption('none');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByRole('status')).toHaveText('1 of 281 models match.');
  await expect(page.getByRole('row', { name: /TruU Windows Authenticator/ }).getByRole('cell').nth(1)).toHaveText(
    'no – REVOKED since 2023-12-20',
  );

  // only what NIA accepts, sorted by name
  await page.getByLabel('Search by name or AAGUID').fill('');
  await page.getByLabel('Show', { exact: true }).selectOption('nia');
  await page.getByLabel('Sort by').selectOption('name');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/level=nia/);
  await expect(page.getByRole('status')).toHaveText(/^\d{3} of 281 models match\.$/);
  const levels = await page.locator('table.models tbody tr > td:nth-child(2)').allInnerTexts();
  expect(levels.length).toBe(50);
  expect(levels.every((l) => /^FIDO_CERTIFIED_L\d/.test(l))).toBe(true);
  const names = await page.locator('table.models tbody th').evaluateAll((ths) => ths.map((th) => th.firstChild?.textContent ?? ''));
  const sorted = [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  expect(names.slice(0, 20)).toEqual(sorted.slice(0, 20));

  // the next page keeps the filter and the order, and continues the names
  await page.getByRole('link', { name: 'Next page →' }).click();
  await expect(page).toHaveURL(/level=nia.*sort=name.*page=2/);
  await hydrated(page);
  await expect(page.getByRole('navigation', { name: 'Pages of the list' })).toContainText('Page 2 of');
  const next = await page.locator('table.models tbody th').evaluateAll((ths) => ths.map((th) => th.firstChild?.textContent ?? ''));
  expect(next[0].toLowerCase().localeCompare(names[names.length - 1].toLowerCase())).toBeGreaterThanOrEqual(0);
  await page.getByRole('link', { name: '← Previous page' }).click();
  await expect(page).toHaveURL(/page=1/);

  // the filters survive a reload (they are in the address)
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Sort by')).toHaveValue('name');
});
