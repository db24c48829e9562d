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
  // the test metadata lists Chromium's virtual authenticator at level 1, rooted in its batch certificate
  await expect(result.getByText('Chromium virtual authenticator (test)', { exact: true })).toBeVisible();
  await expect(result.getByText('FIDO_CERTIFIED_L1', { exact: true })).toBeVisible();
  await expect(result.getByText("valid, leads to the manufacturer's root", { exact: true })).toBeVisible();
  await expectAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    result.getByRole('link', { name: 'Download the result (JSON) for technical support' }).click(),
  ]);
  const file = await download.path();
  const document = JSON.parse(fs.readFileSync(file!, 'utf-8'));
  expect(document.verdict.format).toBe('packed');
  expect(document.verdict.nia_eligible).toBe(true);
  expect(document.verdict.chain_valid).toBe(true);

  // the support command reaches the same verdict from the downloaded file
  expect(analyze(file!)).toEqual(document.verdict);
});

test('a key whose model is not in the metadata is tested too, and says why it cannot serve NIA', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  // a U2F key: fido-u2f attestation, no AAGUID, found by its certificate or not at all
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'u2f', transport: 'usb', automaticPresenceSimulation: true },
  });
  await visit(page, '/security-keys/check');
  await page.getByRole('button', { name: 'Test the key' }).click();
  const result = page.getByRole('region', { name: 'Test result' });
  await expect(result.getByText('fido-u2f', { exact: true })).toBeVisible();
  await expect(result.getByText('not in the FIDO Alliance metadata', { exact: true })).toBeVisible();
  await expect(result.getByText("The key's model is not in the FIDO Alliance metadata.")).toBeVisible();
  await expectAccessible(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    result.getByRole('link', { name: 'Download the result (JSON) for technical support' }).click(),
  ]);
  const document = JSON.parse(fs.readFileSync((await download.path())!, 'utf-8'));
  expect(document.verdict.nia_eligible).toBe(false);
  expect(analyze((await download.path())!)).toEqual(document.verdict);
});

/** The support command's verdict on a downloaded file, against the metadata the server uses. */
function analyze(file: string): unknown {
  const repo = path.resolve(__dirname, '..', '..');
  const bin = path.resolve(process.env.E2E_SERVER_BIN ?? path.join(repo, 'target/debug/mojeid-server'));
  const mds = process.env.E2E_MDS_DIR!;
  const printed = execFileSync(bin, ['analyze', file], {
    cwd: repo,
    env: {
      ...process.env,
      RUST_LOG: 'error',
      APP_MODE: 'test',
      MDS_BLOB_PATH: path.join(mds, 'blob.jwt'),
      MDS_ROOT_PATH: path.join(mds, 'root.crt'),
    },
  });
  return JSON.parse(printed.toString());
}

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
