import { expect, test } from '@playwright/test';
import { codeSentTo, expectAccessible, hydrated, logIn, PASSWORD, register, uniqueUsername, visit } from './helpers';

test('the login page is plain HTML; a new password can be shown while it is typed', async ({ page, request }) => {
  // the form is in the HTML, posted without script
  const html = await (await request.get('/login')).text();
  expect(html).toContain('<form');
  expect(html).toContain('name="username"');
  expect(html).toContain('name="password"');
  expect(html).not.toContain('type="module"');
  expect(html).not.toContain('.wasm');

  await visit(page, '/register');
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Show password' }).click();
  await expect(password).toHaveAttribute('type', 'text');
  await expect(page.getByRole('button', { name: 'Hide password' })).toHaveAttribute('aria-pressed', 'true');
});

test('pages without islands ship no script, and forms work with JavaScript off', async ({ browser, page }) => {
  // the settings page is plain HTML: no module script, no WASM requested
  const username = uniqueUsername('plain');
  await register(page, username);
  const wasm: string[] = [];
  page.on('request', (r) => { if (/\.(wasm|js)$/.test(new URL(r.url()).pathname)) wasm.push(r.url()); });
  await visit(page, '/settings');
  await visit(page, '/security-keys/certified');
  await visit(page, '/help');
  expect(wasm).toEqual([]);
  // the login page is plain too; the key page has an island and loads it
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);
  expect(wasm).toEqual([]);
  await visit(page, '/security-keys/check');
  expect(wasm.some((u) => u.endsWith('/mojeid_bg.wasm'))).toBe(true);
  // a page of plain forms loads their small script only, not the islands' WASM
  wasm.length = 0;
  await visit(page, '/register');
  await hydrated(page);
  expect(wasm.some((u) => u.endsWith('/mojeid_forms_bg.wasm'))).toBe(true);
  expect(wasm.some((u) => u.endsWith('/mojeid_bg.wasm'))).toBe(false);

  // without JavaScript: a wrong password is said on the page, the right one logs in
  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await plain.goto('/login');
  await plain.getByLabel('Username').fill(username);
  await plain.getByLabel('Password', { exact: true }).fill('not the password at all');
  await plain.getByRole('button', { name: 'Log in' }).click();
  await expect(plain.getByText('Incorrect username or password.').first()).toBeVisible();
  await plain.getByLabel('Username').fill(username);
  await plain.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await plain.getByRole('button', { name: 'Log in' }).click();
  await expect(plain).toHaveURL(/\/settings$/);
  await expect(plain.getByText(`Logged in as ${username}`)).toBeVisible();
  // a search of the certified list is a plain GET form
  await plain.goto('/security-keys/certified');
  await plain.getByLabel('Search by name or AAGUID').fill('2fc0579f');
  await plain.getByRole('button', { name: 'Show' }).click();
  await expect(plain.getByRole('status')).toHaveText('1 of 281 models match.');
  await context.close();
});

test('forms that keep what was typed work with JavaScript off too', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const username = uniqueUsername('nojs');
  // registration: the refusal is said beside the fields, the name typed comes back, the password does not
  await page.goto('/register');
  await page.getByLabel('Username').fill('a b');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Use only lower-case letters a–z, digits, dot, underscore and hyphen.')).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue('a b');
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/settings$/);

  // contacts: the error is said in the section that was posted, not in the other one
  await page.goto('/settings/contacts');
  const emailSection = page.getByRole('region', { name: 'E-mail' });
  const phoneSection = page.getByRole('region', { name: 'Phone' });
  await emailSection.getByLabel('New e-mail address').fill('jana.example.cz');
  await emailSection.getByRole('button', { name: 'Send code' }).click();
  await expect(emailSection.getByText('Enter an e-mail address like name@example.com.')).toBeVisible();
  await expect(emailSection.getByLabel('New e-mail address')).toHaveValue('jana.example.cz');
  await expect(phoneSection.getByLabel('New phone number')).toHaveValue('');
  await expect(phoneSection.locator('.error-summary, .error')).toHaveCount(0);
  await expect(emailSection.locator('.error-summary')).toHaveCount(1);
  await emailSection.getByLabel('New e-mail address').fill(`${username}@example.cz`);
  await emailSection.getByRole('button', { name: 'Send code' }).click();
  await expect(emailSection.getByText(`We sent a code to ${username}@example.cz.`)).toBeVisible();

  // profile: refused, then saved
  await page.goto('/settings/profile');
  await page.getByLabel('First name').fill('Jana');
  await page.getByLabel('Last name').fill('Nováková');
  await page.getByLabel('Birth date').fill('12. 4. 1985');
  await page.getByLabel('Street').fill('Milešovská');
  await page.getByLabel('House number').fill('1136/5');
  await page.getByLabel('City').fill('Praha');
  await page.getByLabel('Postcode').fill('1300');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Enter a postcode, for example 110 00.')).toBeVisible();
  await expect(page.getByLabel('First name')).toHaveValue('Jana');
  await expect(page.getByLabel('House number')).toHaveValue('1136/5');
  await page.getByLabel('Postcode').fill('13000');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Your profile has been saved.')).toBeVisible();
  await expect(page.getByLabel('Postcode')).toHaveValue('130 00');
  await context.close();
});

test('create an account, verify e-mail and phone, edit the profile, log out and in', async ({ page }) => {
  const username = uniqueUsername('jana');
  await register(page, username);
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await expect(page.getByText(`Logged in as ${username}`)).toBeVisible();
  await expectAccessible(page);

  // contacts: e-mail
  await page.getByRole('link', { name: 'Manage contacts' }).click();
  await expect(page).toHaveURL(/\/settings\/contacts$/);
  // a link loads the whole page: its title is what a screen reader announces
  await expect(page).toHaveTitle('Contacts – mojeID');
  await hydrated(page);
  await expectAccessible(page);
  const emailSection = page.getByRole('region', { name: 'E-mail' });
  const newEmail = emailSection.getByLabel('New e-mail address');
  await newEmail.fill('jana.example.cz');
  await emailSection.getByRole('button', { name: 'Send code' }).click();
  await expect(emailSection.getByText('Enter an e-mail address like name@example.com.')).toBeVisible();
  await expect(newEmail).toHaveAttribute('aria-invalid', 'true');
  await expect(newEmail).toHaveValue('jana.example.cz');
  await expectAccessible(page);

  const email = `${username}@example.cz`;
  await newEmail.fill(email);
  await emailSection.getByRole('button', { name: 'Send code' }).click();
  await expect(emailSection.getByText(`We sent a code to ${email}.`)).toBeVisible();
  const emailCode = await codeSentTo(page, email);
  const wrong = emailCode === '000000' ? '111111' : '000000';
  await emailSection.getByLabel('Code from the e-mail').fill(wrong);
  await emailSection.getByRole('button', { name: 'Verify' }).click();
  await expect(emailSection.getByText('The code is not correct. Check it and try again.')).toBeVisible();
  await expect(emailSection.getByLabel('Code from the e-mail')).toHaveValue(wrong);
  await emailSection.getByLabel('Code from the e-mail').fill(emailCode);
  await emailSection.getByRole('button', { name: 'Verify' }).click();
  await expect(emailSection.getByText(new RegExp(`^${email} \\(verified `))).toBeVisible();

  // contacts: phone
  const phoneSection = page.getByRole('region', { name: 'Phone' });
  await phoneSection.getByLabel('New phone number').fill('12345');
  await phoneSection.getByRole('button', { name: 'Send code' }).click();
  await expect(phoneSection.getByText('Enter a phone number like +420 777 123 456.')).toBeVisible();
  await phoneSection.getByLabel('New phone number').fill('777 123 456');
  await phoneSection.getByRole('button', { name: 'Send code' }).click();
  await expect(phoneSection.getByText('We sent a code to +420777123456.')).toBeVisible();
  const smsCode = await codeSentTo(page, '+420777123456');
  await phoneSection.getByLabel('Code from the SMS').fill(smsCode);
  await phoneSection.getByRole('button', { name: 'Verify' }).click();
  await expect(phoneSection.getByText(/^\+420777123456 \(verified /)).toBeVisible();
  await expectAccessible(page);

  // profile: bad input is explained next to its field and nothing typed is lost
  await page.getByRole('link', { name: 'Back to settings' }).click();
  await page.getByRole('link', { name: 'Edit profile' }).click();
  await expect(page).toHaveURL(/\/settings\/profile$/);
  await expectAccessible(page);
  await page.getByLabel('First name').fill('Jana');
  await page.getByLabel('Last name').fill('N'.repeat(101));
  await page.getByLabel('Birth date').fill('31. 2. 1990');
  await page.getByLabel('Street').fill('Milešovská');
  await page.getByLabel('House number').fill('1136/5');
  await page.getByLabel('City').fill('Praha');
  await page.getByLabel('Postcode').fill('1300');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The form has errors.' })).toBeVisible();
  await expect(page.getByText('Enter at most 100 characters.')).toBeVisible();
  await expect(page.getByText('Enter a valid date like 31. 12. 1980.')).toBeVisible();
  await expect(page.getByText('Enter a postcode, for example 110 00.')).toBeVisible();
  await expect(page.getByLabel('First name')).toHaveValue('Jana');
  await expect(page.getByLabel('Birth date')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page);

  await page.getByLabel('Last name').fill('Nováková');
  await page.getByLabel('Birth date').fill('12. 4. 1985');
  await page.getByLabel('Postcode').fill('13000');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Your profile has been saved.')).toBeVisible();
  await expect(page.getByLabel('Postcode')).toHaveValue('130 00');

  await page.getByRole('link', { name: 'Back to settings' }).click();
  await expect(page.getByText('Jana Nováková')).toBeVisible();
  await expect(page.getByText('Milešovská 1136/5, 130 00 Praha, Czech Republic')).toBeVisible();

  // a reload shows what was stored
  await page.reload();
  await hydrated(page);
  await expect(page.getByText('Jana Nováková')).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login\?logged_out=1$/);
  await expect(page.getByText('You have been logged out.')).toBeVisible();
  await hydrated(page);
  await expectAccessible(page);

  await visit(page, '/settings');
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByText('Jana Nováková')).toBeVisible();
});

test('registration refuses bad input next to each field and duplicates', async ({ page }) => {
  const username = uniqueUsername('dup');
  await visit(page, '/register');
  await page.getByLabel('Username').fill('a b');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Use only lower-case letters a–z, digits, dot, underscore and hyphen.')).toBeVisible();
  await expect(page.getByText('Enter at least 15 characters.')).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue('a b');
  await expectAccessible(page);

  await page.getByLabel('Username').fill('');
  await page.getByLabel('Password', { exact: true }).fill('passwordpassword');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Fill in this field.')).toBeVisible();
  await expect(page.getByText('This password is too common or easy to guess.')).toBeVisible();

  await page.getByLabel('Username').fill('x'.repeat(65));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Enter at most 64 characters.')).toBeVisible();

  await register(page, username);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username.toUpperCase());
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('This username is already taken. Please choose another.')).toBeVisible();
  await expect(page).toHaveURL(/\/register$/);
});

test('a wrong password is refused, and too many attempts wait longer each time without locking the owner out', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const username = uniqueUsername('petr');
  await register(page, username);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/logged_out/);
  await hydrated(page);

  await logIn(page, username, 'not the right password at all');
  await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
  await expect(page.getByLabel('Username')).toHaveValue(username);
  await expect(page).toHaveURL(/\/login/);
  await expectAccessible(page);

  // past five failures from this browser's address each try waits, longer every time: wait
  // each delay out and guess again until the delay has grown to 8 s
  let wait = 0;
  for (let i = 0; wait < 8 && i < 20; i++) {
    const answered = page.waitForResponse((r) => r.url().includes('/api/login'));
    await logIn(page, username, `wrong password number ${i}`);
    await answered;
    await page.waitForTimeout(150);
    const alert = page.getByRole('alert');
    await expect(alert).toHaveText(/^(Incorrect username or password\.|Too many failed attempts\. Try again in \d+ s; each further failed attempt makes the wait longer\.)$/);
    const said = (await alert.innerText()).match(/Try again in (\d+) s/);
    if (said) {
      wait = Number(said[1]);
      if (wait < 8) await page.waitForTimeout(wait * 1000 + 300);
    }
  }
  expect(wait).toBeGreaterThanOrEqual(8);
  // the right password right away waits too
  await logIn(page, username, PASSWORD);
  await expect(page.getByRole('alert')).toHaveText(/^Too many failed attempts\. Try again in \d+ s;/);
  await expect(page).toHaveURL(/\/login/);
  await expectAccessible(page);

  // the owner from another address is not kept out (the test server trusts X-Forwarded-For)
  const elsewhere = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.77' } });
  const owner = await elsewhere.newPage();
  await owner.goto('/login');
  await hydrated(owner);
  await logIn(owner, username, PASSWORD);
  await expect(owner).toHaveURL(/\/settings$/);
  await elsewhere.close();
});

test.describe('in Czech', () => {
  test.use({ locale: 'cs-CZ' });

  test('Czech is the default and the language switch keeps the page', async ({ page }) => {
    await visit(page, '/register');
    await expect(page.locator('html')).toHaveAttribute('lang', 'cs');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Založení účtu');
    await page.getByLabel('Uživatelské jméno').fill('x');
    await page.getByRole('button', { name: 'Založit účet' }).click();
    await expect(page.getByText('Zadejte alespoň 3 znaky.')).toBeVisible();

    await page.getByRole('link', { name: 'English' }).click();
    await expect(page).toHaveURL(/\/register\?lang=en$/);
    await hydrated(page);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create account');
    await expectAccessible(page);

    // the choice is remembered on other pages
    await visit(page, '/login');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Log in');

    await page.getByRole('link', { name: 'Čeština' }).click();
    await expect(page).toHaveURL(/\/login\?lang=cs$/);
    await expect(page.locator('html')).toHaveAttribute('lang', 'cs');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Přihlášení');
  });
});

test('state changes from another origin are refused', async ({ request }) => {
  const res = await request.post('/api/login', {
    headers: { Origin: 'https://evil.example' },
    form: { username: 'demo', password: PASSWORD, next: '/settings' },
  });
  expect(res.status()).toBe(403);
});

test('a session that ends while editing says so, keeps the form, and leads back after login', async ({ page, context }) => {
  const username = uniqueUsername('expired');
  await register(page, username);
  await page.getByRole('link', { name: 'Edit profile' }).click();
  await expect(page).toHaveURL(/\/settings\/profile$/);
  await page.getByLabel('First name').fill('Eva');
  await context.clearCookies();
  await page.getByRole('button', { name: 'Save profile' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Your login has expired. Please log in again.' });
  await expect(alert).toBeVisible();
  await expect(page.getByLabel('First name')).toHaveValue('Eva');
  await expectAccessible(page);
  await alert.getByRole('link', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings%2Fprofile$/);
  await hydrated(page);
  await logIn(page, username);
  await expect(page).toHaveURL(/\/settings\/profile$/);
});
