import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { CHROMIUM_MISSING, checkAccessibility as checkPage, launchBrowser } from './browser.ts';
import { connectionBody, createAdmin, ADMIN_PASSWORD, startServer, type Server } from '../api/support.ts';

// The admin console in a real browser (Debian's Chromium driven by playwright-core) against `usersync serve` and the
// emulator: signing in, the connections, Sync Now with its progress to the end, the directory with search; every page
// passes an automated accessibility check (axe-core) with no serious violations, and is saved as a screenshot in
// test-artifacts/console/ (docs/console.md shows them).

describe('the admin console in a browser', { skip: CHROMIUM_MISSING }, () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  let browser: Browser;
  let page: Page;

  before(async () => {
    target = sqliteTarget();
    await target.setup();
    emulator = await startEmulator({ users: 70, groups: 4, seed: 'console' });
    server = await startServer(emulator, target);
    await createAdmin(server);
    const created = await server.request('POST', '/api/v1/connections', { body: connectionBody(emulator) });
    assert.equal(created.status, 201, created.text);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await emulator?.stop();
    await target?.teardown();
  });

  const checkAccessibility = (name: string) => checkPage(page, name);

  it('signs in with a password; a wrong one is said on the form', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to usersync' }).waitFor();
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the email or password is wrong' }).waitFor();
    await checkAccessibility('sign-in');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    await page.getByRole('link', { name: 'Contoso' }).waitFor();
    await checkAccessibility('connections');
  });

  it('Sync Now shows the run progress until it ends, then the run in the history', async () => {
    await page.getByRole('link', { name: 'Contoso' }).click();
    await page.getByRole('heading', { name: 'Contoso' }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();
    // The run is queued or running, then succeeded in the table.
    await page.locator('td .status.succeeded').first().waitFor({ timeout: 30_000 });
    const row = page.locator('tbody tr').first();
    assert.match(await row.innerText(), /now\s+succeeded\s+70 created/);
    await checkAccessibility('dashboard');
  });

  it('a run drills down to every object it changed, field before → after', async () => {
    await page.locator('tbody tr').first().getByRole('link').click();
    await page.getByRole('heading', { name: 'What it changed' }).waitFor();
    // 70 users, 4 groups and their departments changed: 25 a page.
    const pager = page.getByRole('navigation', { name: 'Pages of changes' });
    await pager.getByText('changes 1–25').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 25);
    const first = await page.locator('tbody tr').first().innerText();
    assert.match(first, /user .*created/);
    assert.match(first, /loginAccount ∅ → /);
    await checkAccessibility('run');
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText('changes 26–50').waitFor();
    assert.notEqual(await page.locator('tbody tr').first().innerText(), first, 'the next page shows other changes');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Contoso' }).waitFor();
  });

  it('a mass leave is held; the admin applies some and drops the hold of the rest, each after a confirmation', async () => {
    const settings = await server.request('PUT', '/api/v1/connections/contoso/settings', {
      body: { safety: { deletionThreshold: { count: 3 } } },
    });
    assert.equal(settings.status, 200, settings.text);
    const gone = [10, 11, 12, 13, 14, 15].map((i) => emulator.tenant.user(i));
    for (const u of gone) emulator.tenant.deleteUser(String(u.id));
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('heading', { name: 'Held leavers (6)' }).waitFor({ timeout: 30_000 });
    await page.getByLabel(`Choose ${gone[0].userPrincipalName}`).check();
    await page.getByLabel(`Choose ${gone[1].userPrincipalName}`).check();
    await page.getByRole('button', { name: 'Apply 2 chosen' }).click();
    await page.getByRole('alertdialog').getByText('2 accounts will leave the directory').waitFor();
    await checkAccessibility('held');
    await page.getByRole('button', { name: 'Yes, apply 2' }).click();
    await page.getByRole('heading', { name: 'Held leavers (4)' }).waitFor();
    await page.getByRole('button', { name: 'Drop the hold of all' }).click();
    await page.getByRole('button', { name: 'Yes, drop 4' }).click();
    await page.getByRole('status').getByText('Dropped the hold of 4 leavers; they stay as they were.').waitFor();
    const users = await server.request('GET', '/api/v1/connections/contoso/users?limit=100');
    const status = new Map(users.body.items.map((u: any) => [u.externalId, u.status]));
    assert.deepEqual(
      gone.map((u) => status.get(String(u.id))),
      ['disabled', 'disabled', 'active', 'active', 'active', 'active'],
    );
  });

  it('the org chart opens at the top and expands a manager to their reports', async () => {
    await page.getByRole('link', { name: 'Org chart' }).click();
    await page.getByRole('tree', { name: 'Org chart' }).waitFor();
    const expand = page.getByRole('button', { name: /^Expand .*: \d+ reports$/ }).first();
    const label = (await expand.getAttribute('aria-label'))!;
    const reports = Number(/(\d+) reports$/.exec(label)![1]);
    await expand.click();
    await page
      .getByRole('group')
      .locator(':scope > li')
      .nth(reports - 1)
      .waitFor();
    assert.equal(await page.getByRole('group').first().locator(':scope > li').count(), reports);
    await checkAccessibility('org-chart');
    await page.getByRole('link', { name: 'Dashboard' }).click();
  });

  it('the directory lists the users, with search', async () => {
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    // One page at a time: 50 rows, then the other 20, and back.
    const pager = page.getByRole('navigation', { name: 'Pages of users' });
    await pager.getByText('users 1–50').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 50);
    const firstRow = await page.locator('tbody tr').first().innerText();
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText('users 51–70').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 20);
    assert.equal(await pager.getByRole('button', { name: 'Next' }).isDisabled(), true);
    await pager.getByRole('button', { name: 'Previous' }).click();
    await pager.getByText('users 1–50').waitFor();
    assert.equal(await page.locator('tbody tr').first().innerText(), firstRow);
    const someone = emulator.tenant.user(5);
    await page.getByLabel('Search users').fill(String(someone.displayName));
    // The rows shown are the matches only (and there is one).
    const name = JSON.stringify(String(someone.displayName));
    await page.waitForFunction(
      `(() => { const rows = [...document.querySelectorAll('tbody tr')]; return rows.length > 0 && rows.every((tr) => tr.textContent.includes(${name})); })()`,
    );
    assert.ok((await page.locator('tbody tr').count()) >= 1);
    await checkAccessibility('directory');
  });

  it('connects a tenant with app credentials: a wrong field is said on it, then the permissions are verified live', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'Connect a tenant' }).click();
    await page.getByRole('heading', { name: 'Connect a tenant' }).waitFor();
    const env = emulator.env();
    await page.getByLabel('Name').fill('Fabrikam');
    await page.getByLabel('Tenant id or domain').fill('common');
    await page.getByLabel('Application (client) id').fill(env.AZURE_CLIENT_ID);
    await page.getByLabel('Client secret').fill(env.AZURE_CLIENT_SECRET);
    await page.getByText('National cloud, key password').click();
    await page.getByLabel('Authority host').fill(env.AZURE_AUTHORITY_HOST);
    await page.getByLabel('Graph URL').fill(env.USERSYNC_GRAPH_URL);
    await page.getByRole('button', { name: 'Connect and verify' }).click();
    await page.locator('#tenantId-error').getByText('tenantId cannot be common, organizations or consumers').waitFor();
    await checkAccessibility('connect');
    await page.getByLabel('Tenant id or domain').fill(env.AZURE_TENANT_ID);
    await page.getByRole('button', { name: 'Connect and verify' }).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    for (const permission of ['User.Read.All', 'GroupMember.Read.All', 'ProfilePhoto.Read.All'])
      assert.match(await page.getByText(permission).innerText(), /granted/);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await page.getByRole('heading', { name: 'Fabrikam' }).waitFor();
  });

  it('sets a schedule: a bad time zone is said on the form; saved, the next run time shows', async () => {
    await page.getByLabel('Auto sync').check();
    await page.getByLabel('Every').fill('15');
    await page.getByLabel('Unit').selectOption('minutes');
    await page.getByLabel('Time zone').fill('Moon/Base');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('timeZone must be an IANA time zone').waitFor();
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    const connection = await server.request('GET', '/api/v1/connections/fabrikam');
    assert.equal(connection.body.schedule.every.value, 15);
    assert.equal(connection.body.schedule.timeZone, 'Europe/Paris');
    assert.ok(connection.body.nextRunAt);
    await page.getByText(/Next run: (?!auto sync is off)/).waitFor();
    await checkAccessibility('schedule');
  });
  it('the mapping editor previews a field on a real user as the expression is typed, with errors inline; save stores it', async () => {
    // The new connection's first sync, so that its users can be picked.
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('td .status.succeeded').first().waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'Mapping' }).click();
    await page.getByRole('heading', { name: 'Mapping' }).waitFor();
    const someone = emulator.tenant.user(3);
    await page.getByLabel('Preview with user').fill(String(someone.displayName));
    await page
      .getByRole('button', { name: new RegExp(String(someone.userPrincipalName).replace(/[.]/g, '\\.')) })
      .click();
    await page.getByLabel('Field').selectOption('jobTitle');
    // The function reference, from the service.
    await page.getByText('Functions', { exact: true }).click();
    await page.getByText(/Coalesce, .*ToUpper/).waitFor();
    await page.getByLabel('Expression').fill('Join(" - ", ToUpper([jobTitle]), [department])');
    const expected = `${String(someone.jobTitle).toUpperCase()} - ${someone.department}`;
    await page.locator('#expression-result code').getByText(expected, { exact: true }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Expression').fill('Join(" - ", ToUpper([jobTitle]), [department]');
    await page
      .locator('#expression-result .error')
      .getByText(/at character \d+/)
      .waitFor({ timeout: 15_000 });
    await checkAccessibility('mapping-error');
    await page.getByLabel('Expression').fill('Join(" - ", ToUpper([jobTitle]), [department])');
    await page.locator('#expression-result code').getByText(expected, { exact: true }).waitFor({ timeout: 15_000 });
    await checkAccessibility('mapping');
    await page.getByRole('button', { name: 'Save mapping' }).click();
    await page.getByText(/Saved as version \d+; the next run applies it\./).waitFor();
    const settings = await server.request('GET', '/api/v1/connections/fabrikam/settings');
    assert.deepEqual(settings.body.document.mapping.fields.jobTitle, {
      expression: 'Join(" - ", ToUpper([jobTitle]), [department])',
    });
  });

  it('the settings document as JSON: an invalid one lists every path at fault and saves nothing; a valid one is a new version', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('link', { name: 'Settings JSON' }).click();
    await page.getByRole('heading', { name: 'Settings document' }).waitFor();
    const before = (await server.request('GET', '/api/v1/connections/fabrikam/settings')).body.version;
    await page
      .getByLabel('Settings (JSON)')
      .fill('{"scope": {"filters": [[{"attribute": "department", "operator": "EQUAL", "value": "Sales"}]]}}');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').getByText('did you mean "EQUALS"?').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /scope\.filters\[0\]\[0\]\.operator/);
    await checkAccessibility('settings-invalid');
    assert.equal((await server.request('GET', '/api/v1/connections/fabrikam/settings')).body.version, before);
    await page.getByLabel('Settings (JSON)').fill('{"departments": {"sync": false}}');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page
      .getByRole('status')
      .getByText(`Saved as version ${before + 1}; the next run applies it.`)
      .waitFor();
    assert.deepEqual((await server.request('GET', '/api/v1/connections/fabrikam/settings')).body.document, {
      departments: { sync: false },
    });
  });

  it('API tokens: one made is shown once and works; revoked after a confirmation, it no longer does', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.getByLabel('Name (what uses it)').fill('hr-app');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByRole('status').locator('code').innerText();
    assert.match(token, /^usy_/);
    assert.equal((await server.request('GET', '/api/v1/connections', { token })).status, 200);
    await checkAccessibility('tokens');
    await page.getByRole('button', { name: 'Revoke hr-app' }).click();
    await page.getByRole('button', { name: 'Yes, revoke hr-app' }).click();
    await page.getByRole('button', { name: 'Revoke hr-app' }).waitFor({ state: 'detached' });
    assert.equal((await server.request('GET', '/api/v1/connections', { token })).status, 401);
  });
});
