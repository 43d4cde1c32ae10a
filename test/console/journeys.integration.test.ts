import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { ADMIN_PASSWORD, startServer, type Server } from '../api/support.ts';
import { changesOf } from '../../web/src/charts.ts';
import { CHROMIUM_MISSING, checkAccessibility as checkPage, launchBrowser } from './browser.ts';

// A new admin's whole first hour, in a real browser against `usersync serve` and the emulator, from a store with no
// admin and no tenant: the first admin made with the setup link serve printed; the tenant connected by admin consent
// (the emulator's consent page, Accept); the setup wizard end to end — groups picked live, an exclusion, an invalid
// expression said on its field, a group mapped, the test sync's per-user diff, left and resumed, a bad time zone said
// on its field, finished; then Sync Now creating exactly what the test sync said, the run charts, a user's audit
// trail, the admins page, and the pages on a phone.

describe('a new admin in the browser: first run, consent, the setup wizard', { skip: CHROMIUM_MISSING }, () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let conn = '';
  let testCreated = 0;
  let testGroups = 0;
  const group = { id: '', name: '' };

  before(async () => {
    target = sqliteTarget();
    await target.setup();
    emulator = await startEmulator({ users: 60, groups: 10, seed: 'journeys' });
    const env = emulator.env();
    server = await startServer(emulator, target, {
      USERSYNC_APP_CLIENT_ID: env.AZURE_CLIENT_ID,
      USERSYNC_APP_CLIENT_SECRET: env.AZURE_CLIENT_SECRET,
      USERSYNC_ADMIN_TENANTS: emulator.tenant.spec.tenantId,
    });
    browser = await launchBrowser();
    // The emulator's consent page is served with its own test CA, which the browser is told to accept.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
    page = await context.newPage();
    // The group the wizard picks: a big one that is not everyone, so that the scope is a real part of the tenant.
    let best = -1;
    for (const g of emulator.tenant.liveGroups()) {
      const size = emulator.tenant.transitiveMembers(g).filter((m) => m.kind === 'user').length;
      if (size > best && size <= 40) {
        best = size;
        group.id = emulator.tenant.groupIdOf(g);
        group.name = String(emulator.tenant.group(g).displayName);
      }
    }
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await emulator?.stop();
    await target?.teardown();
  });

  const checkAccessibility = (name: string) => checkPage(page, name);

  it('first run: the admin is created with the setup link serve printed, and signed in', async () => {
    const link = /(http:\/\/\S+\/\?setup=usc_[\w-]+)/.exec(server.output())![1];
    await page.goto(link);
    await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
    assert.match(await page.getByLabel('Setup code').inputValue(), /^usc_/);
    await page.getByLabel('Your email').fill('owner@example.com');
    await page.getByLabel('Password (12 characters or more)').fill('too short');
    await page.getByLabel('Password again').fill('too short');
    await page.getByRole('button', { name: 'Create the admin and sign in' }).click();
    await page.locator('p.error', { hasText: 'password must be at least 12 characters' }).waitFor();
    await checkAccessibility('first-admin');
    await page.getByLabel('Password (12 characters or more)').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password again').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Create the admin and sign in' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    await page.getByText('No tenant is connected yet.').waitFor();
    assert.equal(new URL(page.url()).search, '', 'the setup code leaves the address bar');
  });

  it("connects the tenant by admin consent: Microsoft's consent page, Accept, back to usersync", async () => {
    await page.getByRole('link', { name: 'Connect a tenant' }).click();
    await page.getByRole('heading', { name: 'Connect a tenant' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Journeys');
    await page.getByRole('button', { name: 'Sign in with Microsoft and connect' }).click();
    await page.getByText('Permissions requested').waitFor();
    await page.screenshot({ path: 'test-artifacts/console/consent-page.png', fullPage: true });
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('status').getByText('Connected:').waitFor();
    conn = new URL(page.url()).searchParams.get('connected') ?? '';
    assert.equal(conn, 'journeys');
    await checkAccessibility('consent-done');
  });

  it('the setup wizard: who, exclusions, fields with an invalid expression, groups, lifecycle, then the test sync diff', async () => {
    await page.getByRole('link', { name: 'Set up the sync' }).click();
    await page.getByRole('heading', { name: '1. Auto sync' }).waitFor();
    await page.getByLabel('Sync automatically').check();
    await checkAccessibility('wizard-auto-sync');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '2. Who is synced' }).waitFor();
    await page.getByLabel('Members of the groups I pick').check();
    await page.getByLabel('Find groups').fill(group.name.slice(0, 5));
    await page.getByRole('list', { name: 'Groups found' }).getByLabel(group.name).check();
    await page.getByRole('button', { name: `${group.name} (remove)` }).waitFor();
    await checkAccessibility('wizard-who');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '3. Filters and exclusions' }).waitFor();
    const members = groupUsers();
    const excluded = String(members[0].userPrincipalName);
    await page.getByLabel('Never sync these addresses').fill(excluded);
    await checkAccessibility('wizard-filters');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '4. Fields' }).waitFor();
    await page.getByLabel('jobTitle: mapped from').selectOption('expression');
    await page.getByLabel('jobTitle: expression').fill('Join(" - ", [jobTitle]');
    await page.getByRole('button', { name: 'Next' }).click();
    // The API refuses the draft; the message is on the field, and the wizard stays on the step.
    await page.getByRole('alert').filter({ hasText: 'mapping.fields.jobTitle.expression' }).first().waitFor();
    await page.getByRole('heading', { name: '4. Fields' }).waitFor();
    await checkAccessibility('wizard-fields-error');
    await page.getByLabel('jobTitle: expression').fill('Join(" - ", [jobTitle], [department])');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '5. Groups' }).waitFor();
    await page.getByLabel('Find Entra groups to map').fill(group.name.slice(0, 5));
    await page.getByRole('list', { name: 'Groups found' }).getByLabel(group.name).check();
    await page.getByLabel(`App group for ${group.name}`).fill('All staff');
    await checkAccessibility('wizard-groups');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '6. Leavers and safety' }).waitFor();
    await page.getByLabel('Users (default 500)').fill('50');
    await checkAccessibility('wizard-lifecycle');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '7. Emails' }).waitFor();
    await checkAccessibility('wizard-emails');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '8. Test sync' }).waitFor();
    await page.getByRole('button', { name: 'Run the test sync' }).click();
    const summary = page.getByRole('status').filter({ hasText: 'What a sync would do' });
    await summary.waitFor({ timeout: 30_000 });
    testCreated = Number(/(\d+)\s*users created/.exec(await summary.innerText())![1]);
    testGroups = Number(/(\d+)\s*groups created/.exec(await summary.innerText())![1]);
    assert.equal(testCreated, members.length - 1, 'the group members in scope, less the excluded address');
    const diff = page.locator('table.diff');
    await diff.locator('tbody tr').first().waitFor();
    const text = (await diff.textContent()) ?? '';
    assert.ok(!text.includes(excluded), 'the excluded address is not synced');
    const withTitle = members.find((m) => m.jobTitle && m.department && m.userPrincipalName !== excluded)!;
    assert.ok(text.includes(`${withTitle.jobTitle} - ${withTitle.department}`), 'the expression applies in the diff');
    await page.getByLabel('Show').selectOption({ label: `users created (${testCreated})` });
    await checkAccessibility('wizard-test-sync');
    assert.equal(
      (await server.request('GET', `/api/v1/connections/${conn}/users`)).body.items.length,
      0,
      'the test sync wrote nothing',
    );
  });

  it('the wizard can be left and resumed where it was, test sync included; a bad time zone is said on its field; finish applies it', async () => {
    await page.getByRole('button', { name: 'Save and continue later' }).click();
    await page.getByRole('status').getByText('Saved. You can leave and come back.').waitFor();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Journeys' }).waitFor();
    await page.getByRole('link', { name: 'Set up' }).click();
    await page.getByRole('heading', { name: '8. Test sync' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'What a sync would do' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '9. Schedule' }).waitFor();
    await page.getByLabel('Every').fill('6');
    await page.getByLabel('Unit').selectOption('hours');
    await page.getByLabel('Time zone').fill('Mars/Base');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('timeZone must be an IANA time zone').first().waitFor();
    assert.equal(await page.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');
    await checkAccessibility('wizard-schedule');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: '10. Finish' }).waitFor();
    await page.getByText('on, every 6 hours').waitFor();
    await page.getByRole('button', { name: 'Finish and apply' }).click();
    await page.getByRole('status').getByText('Setup finished').waitFor();
    await checkAccessibility('wizard-done');
    const settings = (await server.request('GET', `/api/v1/connections/${conn}/settings`)).body;
    assert.equal(settings.version, 1);
    assert.deepEqual(settings.document.scope, {
      groups: [group.id],
      excludeEmails: [String(groupUsers()[0].userPrincipalName)],
    });
    assert.deepEqual(settings.document.groups, { map: { [group.id]: 'All staff' } });
    assert.deepEqual(settings.document.safety, { deletionThreshold: { count: 50 } });
    const schedule = (await server.request('GET', `/api/v1/connections/${conn}/schedule`)).body;
    assert.equal(schedule.schedule.enabled, true);
    assert.deepEqual(schedule.schedule.every, { value: 6, unit: 'hours' });
    assert.equal(schedule.schedule.timeZone, 'Europe/Paris');
  });

  /** The users in the picked group, nested groups included (the wizard's scope). */
  function groupUsers() {
    return emulator.tenant
      .transitiveMembers(emulator.tenant.groupIndexOf(group.id)!)
      .filter((m) => m.kind === 'user')
      .map((m) => emulator.tenant.user(m.index));
  }

  it('Sync Now creates exactly what the test sync said; after another run the dashboard charts the history', async () => {
    await page.getByRole('link', { name: 'Open the dashboard' }).click();
    await page.getByRole('heading', { name: 'Journeys' }).waitFor();
    // The schedule the wizard set shows on the dashboard.
    await page.waitForFunction(`document.querySelector('#timeZone')?.value === 'Europe/Paris'`);
    assert.equal(await page.getByLabel('Auto sync').isChecked(), true);
    // The runs that wrote (the test sync's row says "now (test)").
    const synced = page.locator('tbody tr').filter({ hasText: /now\s*succeeded/ });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await synced.first().waitFor({ timeout: 30_000 });
    assert.match(
      await synced.first().innerText(),
      new RegExp(`now\\s+succeeded\\s+${testCreated} created\\s+${testGroups} created`),
    );
    emulator.tenant.updateUser(String(groupUsers()[1].id), { jobTitle: 'Chief Journeys Officer' });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await synced.nth(1).waitFor({ timeout: 30_000 });
    assert.match(await synced.first().innerText(), /now\s+succeeded\s+1 updated/);
    await page.getByRole('heading', { name: 'Run history' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('figure.chart canvas').count(), 4);
    const label = await page
      .getByRole('img', { name: /^Objects changed over the last 2 runs/ })
      .getAttribute('aria-label');
    const runs = (await server.request('GET', `/api/v1/connections/${conn}/runs`)).body.items;
    const first = runs.filter((r: any) => !r.dryRun).at(-1);
    assert.ok(changesOf(first.summary) > testCreated);
    assert.match(label!, new RegExp(`latest 1, highest ${changesOf(first.summary)}$`));
    await checkAccessibility('dashboard-charts');
  });

  it("a user's page shows their record and whole audit trail, field before → after", async () => {
    const user = groupUsers()[1];
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByLabel('Search users').fill(String(user.userPrincipalName));
    await page.getByRole('link', { name: String(user.displayName) }).click();
    await page.getByRole('heading', { name: String(user.displayName) }).waitFor();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    const rows = page.locator('tbody tr');
    await rows.nth(1).waitFor();
    assert.match(await rows.nth(0).innerText(), /created/);
    assert.match(await rows.nth(1).innerText(), /updated[\s\S]*jobTitle .* → Chief Journeys Officer - /);
    await checkAccessibility('user');
  });

  it('the directory filters by status and department, and lists groups with their app group', async () => {
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('link', { name: 'Groups' }).click();
    const row = page.locator('tbody tr').filter({ hasText: group.name });
    await row.waitFor();
    assert.match(await row.innerText(), /All staff/);
    await checkAccessibility('directory-groups');
    await page.getByRole('link', { name: 'Departments' }).click();
    const first = page.locator('tbody tr th a').first();
    const department = await first.innerText();
    await first.click();
    await page.getByLabel('Department').waitFor();
    assert.equal(await page.getByLabel('Department').inputValue(), department);
    const cells = page.locator('tbody tr td:nth-child(4)');
    await cells.first().waitFor();
    for (const text of await cells.allInnerTexts()) assert.equal(text, department);
  });

  it('admins: one is added, then deleted after a confirmation; the trail lists what admins did', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admins' }).click();
    await page.getByRole('heading', { name: 'Admins', exact: true }).waitFor();
    await page.getByLabel('Email').fill('second@example.com');
    await page.getByRole('button', { name: 'Add admin' }).click();
    await page.getByRole('status').getByText('Added second@example.com.').waitFor();
    await page.getByRole('button', { name: 'Delete second@example.com' }).click();
    await page.getByRole('alertdialog').getByText('They are signed out and can no longer sign in').waitFor();
    await checkAccessibility('admins');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete second@example.com' }).click();
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    const trail = page.locator('table').nth(1);
    await trail.getByText('admin.deleted').waitFor();
    assert.match(await trail.innerText(), /setup\.completed/);
  });

  it('emails: a bad report address is said on its field and nothing is saved; a good one is a new settings version', async () => {
    await page.goto(`${server.url}/connections/${conn}`);
    await page.getByRole('link', { name: 'Emails' }).click();
    await page.getByRole('heading', { name: 'Emails', exact: true }).waitFor();
    await page.getByLabel('Send to (one address per line)').fill('not-an-address');
    await page.getByLabel('a run fails').check();
    await page.getByRole('button', { name: 'Save emails' }).click();
    await page.locator('.field-errors').getByText('email.reports.to[0]: must be an e-mail address').waitFor();
    await checkAccessibility('emails');
    assert.equal((await server.request('GET', `/api/v1/connections/${conn}/settings`)).body.version, 1);
    await page.getByLabel('Send to (one address per line)').fill('it@example.com');
    await page.getByRole('button', { name: 'Save emails' }).click();
    await page.getByRole('status').getByText('Saved as settings version 2.').waitFor();
    const saved = (await server.request('GET', `/api/v1/connections/${conn}/settings`)).body.document;
    assert.deepEqual(saved.email, { reports: { to: ['it@example.com'], on: ['failed'] } });
    assert.deepEqual(saved.scope.groups, [group.id], 'the rest of the settings is kept');
  });

  it('the history lists every run a page at a time, by status and by what started it', async () => {
    await page.goto(`${server.url}/connections/${conn}`);
    await page.getByRole('link', { name: 'All runs, with filters' }).click();
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    const pager = page.getByRole('navigation', { name: 'Pages of runs' });
    await pager.getByText('runs 1–3').waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await pager.getByText('No runs').waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByLabel('Started by').selectOption('schedule');
    await pager.getByText('No runs').waitFor();
    await page.getByLabel('Started by').selectOption('now');
    await pager.getByText('runs 1–3').waitFor();
    await checkAccessibility('history');
  });

  it("signs in with Microsoft: the emulator's account page, then the console; a user without the admin role is told why", async () => {
    const admin = emulator.tenant.user(0);
    const other = emulator.tenant.user(1);
    emulator.appRoleAssignments.set(String(admin.id), ['usersync.admin']);
    const signInWith = async (user: typeof admin) => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to usersync' }).waitFor();
      await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
      await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
      await page.getByRole('button', { name: String(user.userPrincipalName) }).click();
    };
    await signInWith(other);
    await page
      .getByRole('alert')
      .getByText(`${String(other.userPrincipalName)} does not have the role usersync.admin`)
      .waitFor();
    await checkAccessibility('sign-in-refused');
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    await signInWith(admin);
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    await page.getByText(String(admin.userPrincipalName).toLowerCase()).waitFor();
  });

  it('fits a phone: no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/', 'phone-connections'],
      [`/connections/${conn}`, 'phone-dashboard'],
      [`/connections/${conn}/setup`, 'phone-wizard'],
      [`/connections/${conn}/users`, 'phone-directory'],
      [`/connections/${conn}/users/${String(groupUsers()[1].id)}`, 'phone-user'],
      [`/connections/${conn}/runs`, 'phone-history'],
      [`/connections/${conn}/emails`, 'phone-emails'],
      ['/admins', 'phone-admins'],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      const widest = await page.evaluate(
        `[...document.querySelectorAll('body *')].filter((e) => !e.closest('table') && e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map((e) => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40)).join(' | ')`,
      );
      assert.ok(overflow <= 1, `${path} is ${overflow}px wider than the phone: ${widest}`);
      await checkAccessibility(name);
    }
  });
});
