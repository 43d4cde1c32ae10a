import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { generateClientCertificate } from '../src/emulator/tls.ts';
import { openStore } from '../src/store/index.ts';
import { cliEnv, lastJson, runCli, startCli } from './support/cli.ts';
import { assertDirectoryMatches } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// The command-line contract, driven as a user would: the JSON shapes, exit codes and one-line errors,
// concurrent invocations, and runs killed with SIGKILL at random instants.

const SUMMARY_KEYS = ['status', 'mode', 'dryRun', 'users', 'groups', 'departments', 'graphRequests', 'durationMs'];
const USER_KEYS = [
  'externalId',
  'loginAccount',
  'name',
  'email',
  'firstName',
  'lastName',
  'userType',
  'jobTitle',
  'department',
  'lineManager',
  'country',
  'officeLocation',
  'city',
  'mobilePhone',
  'postalCode',
  'companyName',
  'employeeNo',
  'faxNumber',
  'photo',
  'status',
  'custom',
];

async function matches(target: Target, emulator: Emulator): Promise<void> {
  const store = await openStore(target.options());
  try {
    await assertDirectoryMatches(store, emulator);
  } finally {
    await store.close();
  }
}

function cliSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({
      users: 1500,
      groups: 30,
      seed: 'cli-suite',
      deltaPageSize: 50,
      deltaMembersPerPage: 100,
    });
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });
  const env = (extra?: Record<string, string | undefined>) => cliEnv(emulator, target, extra);

  it('sync --json ends with the contract summary; the lists have the contract shapes', async () => {
    const run = await runCli(['sync', '--json'], env());
    assert.equal(run.code, 0, run.stderr);
    const summary = lastJson(run.stdout);
    assert.deepEqual(Object.keys(summary).slice(0, SUMMARY_KEYS.length), SUMMARY_KEYS);
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.mode, 'full');
    assert.equal(summary.dryRun, false);
    assert.deepEqual(Object.keys(summary.users), ['created', 'updated', 'disabled', 'removed', 'unchanged', 'errors']);
    assert.deepEqual(Object.keys(summary.groups), ['created', 'updated', 'removed']);
    assert.deepEqual(Object.keys(summary.departments), ['created']);
    assert.equal(summary.users.created, 1500);
    assert.ok(Number.isInteger(summary.graphRequests) && summary.graphRequests > 0);

    const users = await runCli(['users', 'list', '--json'], env());
    assert.equal(users.code, 0, users.stderr);
    const list = JSON.parse(users.stdout);
    assert.equal(list.length, 1500);
    assert.deepEqual(Object.keys(list[0]), USER_KEYS);
    const groups = JSON.parse((await runCli(['groups', 'list', '--json'], env())).stdout);
    assert.deepEqual(Object.keys(groups[0]), ['externalId', 'name', 'type', 'members', 'appGroup']);
    const departments = JSON.parse((await runCli(['departments', 'list', '--json'], env())).stdout);
    assert.deepEqual(Object.keys(departments[0]), ['name', 'members']);
    await matches(target, emulator);

    const human = await runCli(['sync'], env());
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^Sync succeeded: delta read/);
  });

  it('a second sync started while one runs waits for it, and both succeed', async () => {
    const t = emulator.tenant;
    for (let i = 0; i < 40; i++) t.updateUser(t.userIdOf(i), { jobTitle: `Concurrent ${i}` });
    emulator.faults.update({ slowRatio: 1, slowMs: 30 });
    try {
      const first = startCli(['sync', '--json'], env());
      await sleep(150);
      const second = startCli(['sync', '--json'], env());
      const [a, b] = await Promise.all([first.result, second.result]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const updated = lastJson(a.stdout).users.updated + lastJson(b.stdout).users.updated;
      assert.equal(updated, 40, 'each change is applied once');
    } finally {
      emulator.faults.reset();
    }
    await matches(target, emulator);
  });

  it('converges after runs killed with SIGKILL at random instants', async () => {
    const t = emulator.tenant;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // Slow Graph down so that a run lasts longer than the kill window and most kills land mid-run.
    emulator.faults.update({ slowRatio: 1, slowMs: 40 });
    let killed = 0;
    try {
      for (let round = 0; round < 6; round++) {
        for (let k = 0; k < 25; k++) {
          const i = Math.floor(random() * 1400);
          if (!t.isLiveUser(i)) continue;
          const r = random();
          if (r < 0.5) t.updateUser(t.userIdOf(i), { department: `Dept ${round}-${k % 5}` });
          else if (r < 0.6) t.deleteUser(t.userIdOf(i));
          else if (r < 0.7) t.setPhoto(t.userIdOf(i), 'generate');
          else if (r < 0.8) {
            if (!t.userGroups(i).includes(1 + (k % 20))) t.addMember(t.group(1 + (k % 20)).id, t.userIdOf(i));
          } else
            t.createUser({
              userPrincipalName: `kill.${round}.${k}@contoso.com`,
              displayName: `Kill ${round} ${k}`,
              department: 'Killed',
            });
        }
        if (round === 3) emulator.faults.expireDeltaTokens();
        const args = round === 4 ? ['sync', '--full', '--json'] : ['sync', '--json'];
        const run = startCli(args, env());
        await sleep(100 + random() * 1200);
        run.child.kill('SIGKILL');
        if ((await run.result).signal === 'SIGKILL') killed++;
      }
    } finally {
      emulator.faults.reset();
    }
    assert.ok(killed >= 3, `most runs were killed mid-way (${killed} of 6)`);
    const final = await runCli(['sync', '--json'], env());
    assert.equal(final.code, 0, final.stderr);
    await matches(target, emulator);
    const again = lastJson((await runCli(['sync', '--json'], env())).stdout);
    assert.deepEqual(
      again.users,
      { created: 0, updated: 0, disabled: 0, removed: 0, unchanged: 0, errors: 0 },
      'nothing duplicated or left to redo',
    );
  });

  it('signs in with a certificate from AZURE_CLIENT_CERTIFICATE_PATH, registered through the control API', async () => {
    const cert = await generateClientCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'usersync-cert-'));
    const path = join(dir, 'app.pem');
    writeFileSync(path, `${cert.keyPem}${cert.certPem}`);
    const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
    try {
      const res = await fetch(`${emulator.graphUrl}/_emulator/apps/${emulator.clientId}/certificates`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pem: cert.certPem }),
      });
      assert.equal(res.status, 201);
      assert.equal(
        ((await res.json()) as { thumbprintSha256: string }).thumbprintSha256,
        cert.thumbprintSha256.toUpperCase(),
      );
      const run = await runCli(
        ['sync', '--json'],
        env({ AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: path }),
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(lastJson(run.stdout).status, 'succeeded');
    } finally {
      await dispatcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes structured logs on request, tagged with the run, without secrets', async () => {
    emulator.faults.update({ throttleRatio: 0.2, throttleRetryAfterSeconds: 0.01 });
    try {
      const run = await runCli(['sync', '--json'], env({ USERSYNC_LOG_LEVEL: 'debug' }));
      assert.equal(run.code, 0, run.stderr);
      const summary = lastJson(run.stdout);
      const lines = run.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const started = lines.find((l) => l.msg === 'sync run started');
      assert.equal(started.connectionId, 'default');
      assert.equal(started.runId, summary.runId);
      assert.ok(lines.some((l) => l.msg === 'sync run succeeded' && l.runId === summary.runId));
      const retries = lines.filter((l) => /retrying/.test(l.msg));
      assert.ok(retries.length > 0, 'throttled requests are logged at debug');
      for (const line of retries) {
        assert.equal(line.connectionId, 'default', 'a retry names its connection');
        assert.equal(line.runId, summary.runId, 'a retry names its run');
      }
      assert.ok(!run.stderr.includes(emulator.clientSecret), 'the client secret never appears in logs');
    } finally {
      emulator.faults.reset();
    }
  });

  it('explains a wrong secret, a missing permission and a missing variable in one line', async () => {
    const wrong = await runCli(['sync', '--json'], env({ AZURE_CLIENT_SECRET: 'not-the-secret' }));
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(wrong.stderr, /AZURE_CLIENT_SECRET/);
    assert.doesNotMatch(wrong.stderr, /not-the-secret/);

    const saved = emulator.app.roles;
    emulator.app.roles = ['User.Read.All', 'ProfilePhoto.Read.All'];
    try {
      const denied = await runCli(['sync', '--full', '--json'], env());
      assert.notEqual(denied.code, 0);
      assert.equal(denied.stderr.trim().split('\n').length, 1, denied.stderr);
      assert.match(denied.stderr, /GroupMember\.Read\.All/);
      assert.match(denied.stderr, /consent/);
    } finally {
      emulator.app.roles = saved;
    }

    const missing = await runCli(['sync'], env({ AZURE_TENANT_ID: undefined }));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /AZURE_TENANT_ID/);
  });
}

describe('usersync CLI on SQLite', () => cliSuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('usersync CLI on PostgreSQL', { skip: pgSkip }, () => cliSuite(postgresTarget));
