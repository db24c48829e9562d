import { defineConfig } from '@playwright/test';

// `./x bench` starts our release server and the trivial Leptos app and passes their URLs;
// this only measures (no webServer, no retries, one worker so that runs do not overlap).
export default defineConfig({
  testDir: '.',
  testMatch: /.*\.bench\.ts/,
  timeout: 120_000,
  workers: 1,
  retries: 0,
  reporter: [['line']],
  use: {
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});
