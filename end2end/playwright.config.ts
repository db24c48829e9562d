import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';

// `./x test` builds the server and the site and passes their paths; the server runs in test
// mode on its own ports with a fresh SQLite database.
const port = Number(process.env.E2E_PORT ?? 3100);
// WebAuthn needs a domain name as relying party: localhost, not 127.0.0.1
const baseURL = `http://localhost:${port}`;
const repo = path.resolve(__dirname, '..');
const dataDir = process.env.E2E_DATA_DIR ?? os.tmpdir();
// A test FIDO metadata BLOB: the shipped entries plus Chromium's virtual authenticator at
// FIDO_CERTIFIED_L1, signed by a throw-away root (`./x test` makes it; made here otherwise).
if (!process.env.E2E_MDS_DIR) {
  const dir = path.join(dataDir, `e2e-mds-${process.pid}`);
  execFileSync('cargo', ['run', '-q', '-p', 'idp', '--features', 'testing', '--example', 'test_mds', '--', dir], {
    cwd: repo,
    stdio: 'inherit',
  });
  process.env.E2E_MDS_DIR = dir;
}
const mdsDir = process.env.E2E_MDS_DIR;
// One name per run: the config is read again in every worker, which inherits the environment
// set here, so the tests reach the server's database (to give staff roles, as an operator does).
process.env.E2E_RUN_ID ??= String(Date.now());
const runId = process.env.E2E_RUN_ID;
process.env.E2E_DATABASE_URL = `sqlite://${dataDir}/e2e-${runId}.db?mode=rwc`;
process.env.E2E_SERVER_DATA_DIR = path.join(dataDir, `e2e-data-${runId}`);
process.env.E2E_SERVER_BIN ??= path.join(repo, 'target/debug/mojeid-server');

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 2,
  fullyParallel: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    locale: 'en-GB',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: process.env.E2E_SERVER_BIN,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      APP_MODE: 'test',
      BIND_ADDR: `127.0.0.1:${port}`,
      PUBLIC_URL: baseURL,
      NIA_SIM_ADDR: `127.0.0.1:${port + 1}`,
      DATABASE_URL: process.env.E2E_DATABASE_URL,
      // our SAML key and the NIA simulator's keys and state
      DATA_DIR: process.env.E2E_SERVER_DATA_DIR,
      SITE_ROOT: process.env.E2E_SITE_ROOT ?? path.join(repo, 'target/site'),
      MDS_BLOB_PATH: path.join(mdsDir, 'blob.jwt'),
      MDS_ROOT_PATH: path.join(mdsDir, 'root.crt'),
      LOG_FORMAT: 'json',
      RUST_LOG: 'warn',
      // every test registers from 127.0.0.1
      REGISTRATIONS_PER_ADDRESS_PER_HOUR: '1000',
      // as behind our own proxy: a test can come from a second address (the owner elsewhere)
      TRUST_FORWARDED_FOR: 'true',
    },
  },
});
