import { expect, test } from '@playwright/test';
import { expectAccessible, register, staffMember, uniqueUsername, visit } from './helpers';

test('a citizen cannot reach the helpdesk console', async ({ page }) => {
  await register(page, uniqueUsername('zvedavy'));
  await visit(page, '/admin');
  await expect(page.getByRole('heading', { level: 1, name: 'Helpdesk' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('This page is for mojeID staff only, logged in with a security key.');
  await expect(page.getByLabel('Username')).toHaveCount(0);
  await expectAccessible(page);
  // nor call its functions directly
  const res = await page.request.post('/api/admin_find', {
    headers: { origin: new URL(page.url()).origin },
    form: { username: 'demo' },
  });
  expect(res.status()).toBe(403);

  // nor the audit log
  await visit(page, '/admin/audit');
  await expect(page.getByRole('alert')).toHaveText('The audit log is for mojeID auditors only, logged in with a security key.');
  await expect(page.getByRole('table')).toHaveCount(0);
});

test('an auditor sees the events of an account, filtered by account and by day', async ({ page, browser }) => {
  const citizen = uniqueUsername('sledovany');
  await register(page, citizen);
  const auditor = await staffMember(browser, 'auditor', 'auditor');
  // the helpdesk console is not the auditors'
  await expect(auditor.getByRole('alert')).toHaveText('This page is for mojeID staff only, logged in with a security key.');

  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Prague' }).format(new Date());
  await visit(auditor, `/admin/audit?username=${citizen}`);
  await auditor.getByLabel('From (date)').fill(today);
  await auditor.getByLabel('To (date)').fill(today);
  await auditor.getByRole('button', { name: 'Filter' }).click();
  await expect(auditor).toHaveURL(new RegExp(`from=${today}&to=${today}`));
  const created = auditor.getByRole('row', { name: /account\.created/ });
  await expect(created).toBeVisible();
  await expect(created).toContainText(citizen);
  // nobody else's events
  await expect(auditor.locator('tbody tr').filter({ hasNotText: citizen })).toHaveCount(0);

  const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Prague' }).format(new Date(Date.now() + 86_400_000));
  await visit(auditor, `/admin/audit?username=${citizen}&from=${tomorrow}`);
  await expect(auditor.getByRole('table')).toBeVisible();
  await expect(auditor.locator('tbody tr')).toHaveCount(0);

  // a day typed by hand in another form is refused with the reason
  await auditor.goto('/admin/audit?from=31.12.2026');
  await expect(auditor.getByRole('alert')).toHaveText(/date/i);
  await auditor.context().close();
});
