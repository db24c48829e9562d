import { expect, test } from '@playwright/test';
import { expectAccessible, register, uniqueUsername, visit } from './helpers';

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
