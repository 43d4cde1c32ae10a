import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { connectionBody, createAdmin, ADMIN_PASSWORD, startServer, type Server } from '../api/support.ts';

// The admin console in a real browser (Debian's Chromium driven by playwright-core) against `usersync serve` and the
// emulator: signing in, the connections, Sync Now with its progress to the end, the directory with search; every page
// passes an automated accessibility check (axe-core) with no serious violations, and is saved as a screenshot in
// test-artifacts/console/ (docs/console.md shows them).

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
const AXE = join(createRequire(import.meta.url).resolve('axe-core'), '..', 'axe.min.js');

describe(
  'the admin console in a browser',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (.ci/run installs it)` },
  () => {
    let emulator: Emulator;
    let target: Target;
    let server: Server;
    let browser: Browser;
    let page: Page;

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      target = sqliteTarget();
      await target.setup();
      emulator = await startEmulator({ users: 40, groups: 4, seed: 'console' });
      server = await startServer(emulator, target);
      await createAdmin(server);
      const created = await server.request('POST', '/api/v1/connections', { body: connectionBody(emulator) });
      assert.equal(created.status, 201, created.text);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      await emulator?.stop();
      await target?.teardown();
    });

    async function checkAccessibility(name: string): Promise<void> {
      await page.addScriptTag({ path: AXE });
      const result = (await page.evaluate('axe.run()')) as {
        violations: { id: string; impact: string; help: string; nodes: unknown[] }[];
      };
      const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(
        serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`),
        [],
        `${name}: serious accessibility violations`,
      );
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    }

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
      assert.match(await row.innerText(), /now\s+succeeded\s+40 created/);
      await checkAccessibility('dashboard');
    });

    it('the directory lists the users, with search', async () => {
      await page.getByRole('link', { name: 'Directory' }).click();
      await page.getByRole('heading', { name: 'Directory' }).waitFor();
      await page.locator('tbody tr').nth(39).waitFor();
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
  },
);
