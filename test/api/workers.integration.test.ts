import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { CLI } from '../support/cli.ts';
import { postgresTarget, postgresUnreachable, type Target } from '../support/targets.ts';
import { connectionBody, startServer, waitForRun, type Server } from './support.ts';

// Workers on PostgreSQL: an API-only server queues the run, two `usersync worker` processes share the pg-boss queue,
// the one running it is killed (SIGKILL) mid-run; the job expires and the other worker takes the run over and resumes
// it from its last committed page. The run ends succeeded once, and every user was created exactly once.

const pgDown = await postgresUnreachable();

describe('workers on PostgreSQL', { skip: pgDown }, () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  const workers: ChildProcess[] = [];
  const jobEnv = { USERSYNC_RUN_EXPIRE_SECONDS: '15', USERSYNC_JOB_MAINTENANCE_SECONDS: '1' };

  function startWorker(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...server.env, ...jobEnv, USERSYNC_RUN_CONCURRENCY: '1', USERSYNC_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', () => out.includes('"worker"') && resolve(child));
      child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)));
    });
  }

  before(async () => {
    target = postgresTarget();
    await target.setup();
    emulator = await startEmulator({ users: 3000, groups: 4, seed: 'workers', deltaPageSize: 100 });
    // This server only takes requests and queues runs: the workers run them.
    server = await startServer(emulator, target, {
      ...jobEnv,
      USERSYNC_RUN_CONCURRENCY: '0',
      USERSYNC_LOG_LEVEL: 'warn',
    });
    await startWorker();
    await startWorker();
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode === null && w.signalCode === null ? once(w, 'exit') : null)));
    await server?.stop();
    await emulator?.stop();
    await target?.teardown();
  });

  it('a worker killed mid-run: another takes the run over and it completes exactly once', async () => {
    const created = await server.request('POST', '/api/v1/connections', { body: connectionBody(emulator) });
    assert.equal(created.status, 201, created.text);
    const conn = created.body.id;
    emulator.faults.update({ slowRatio: 1, slowMs: 400 });
    const queued = await server.request('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
    // Pages are committed 2,000 users at a time: kill the worker once the first ones are in.
    const running = await waitForRun(
      server,
      queued.body.id,
      (r) => r.status === 'running' && (r.progress?.done ?? 0) >= 2000,
    );
    const victim = workers.find((w) => w.pid === running.worker.pid);
    assert.ok(victim, `the run is on one of the workers (pid ${running.worker.pid})`);
    victim!.kill('SIGKILL');
    await once(victim!, 'exit');
    emulator.faults.update({ slowRatio: 0 });

    const done = await waitForRun(server, queued.body.id, undefined, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    assert.notEqual(done.worker.pid, victim!.pid, 'the other worker finished it');
    assert.equal(done.summary.users.created + done.summary.users.unchanged >= 1000, true);

    let users = 0;
    for (let cursor: string | null = ''; cursor !== null;) {
      const page: any = await server.request(
        'GET',
        `/api/v1/connections/${conn}/users?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      );
      users += page.body.items.length;
      cursor = page.body.nextCursor;
    }
    assert.equal(users, 3000);
    const createdIds: string[] = [];
    for (let after = ''; ;) {
      const page = await server.request(
        'GET',
        `/api/v1/connections/${conn}/events?limit=1000${after ? `&after=${after}` : ''}`,
      );
      if (page.body.items.length === 0) break;
      createdIds.push(...page.body.items.filter((e: any) => e.type === 'user.created').map((e: any) => e.objectId));
      after = page.body.nextCursor;
    }
    assert.equal(createdIds.length, 3000, 'every user created once');
    assert.equal(new Set(createdIds).size, 3000, 'no user created twice');
    const runs = await server.request('GET', `/api/v1/connections/${conn}/runs`);
    assert.deepEqual(
      runs.body.items.map((r: any) => [r.id, r.status]),
      [[queued.body.id, 'succeeded']],
      'one run, ended once',
    );
  });
});
