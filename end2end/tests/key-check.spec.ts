import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { expectAccessible, virtualKey, visit } from './helpers';

test('a key can be tested without an account, and support reads the same verdict', async ({ page }) => {
  await virtualKey(page);

  await visit(page, '/security-keys/check');
  await page.getByRole('button', { name: 'Test the key' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await expect(result).toBeVisible();
  await expect(result.getByText('packed', { exact: true })).toBeVisible();
  await expect(result.getByText('01020304-0506-0708-0102-030405060708')).toBeVisible();
  await expect(result.getByText('not in the FIDO Alliance metadata', { exact: true })).toBeVisible();
  await expect(result.getByText("The key's model is not in the FIDO Alliance metadata.")).toBeVisible();
  await expect(
    result.getByText("not checked: the model is not in the metadata, so its manufacturer's root is unknown"),
  ).toBeVisible();
  await expectAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    result.getByRole('link', { name: 'Download the result (JSON) for technical support' }).click(),
  ]);
  const file = await download.path();
  const document = JSON.parse(fs.readFileSync(file!, 'utf-8'));
  expect(document.verdict.format).toBe('packed');
  expect(document.verdict.nia_eligible).toBe(false);

  // the support command reaches the same verdict from the downloaded file
  const repo = path.resolve(__dirname, '..', '..');
  const bin = path.resolve(process.env.E2E_SERVER_BIN ?? path.join(repo, 'target/debug/mojeid-server'));
  const printed = execFileSync(bin, ['analyze', file!], { cwd: repo, env: { ...process.env, RUST_LOG: 'error' } });
  expect(JSON.parse(printed.toString())).toEqual(document.verdict);
});

test('a cancelled key test says so and can be repeated', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  // an authenticator that never answers by itself: the browser times out or the user cancels
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', automaticPresenceSimulation: false },
  });
  await visit(page, '/security-keys/check');
  await page.evaluate(() => {
    // shorten the wait: cancel the ceremony the way a user closing the dialog would
    const original = navigator.credentials.create.bind(navigator.credentials);
    navigator.credentials.create = (options?: CredentialCreationOptions) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      return original({ ...options, signal: controller.signal });
    };
  });
  await page.getByRole('button', { name: 'Test the key' }).click();
  await expect(page.getByText('The browser got no answer from the key (it was cancelled or timed out). Please try again.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Test the key' })).toBeVisible();
});
