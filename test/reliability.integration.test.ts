import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { getSyncState, listRuns, openStore, type Store } from '../src/store/index.ts';
import { cliEnv, lastJson, runCli, startCli } from './support/cli.ts';
import { assertDirectoryMatches } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// What a crash probe of the engine found (issue 8), each reproduced with the real command killed by SIGKILL:
// a full run killed inside its photo sweep, and runs killed mid-way left `running` in the history.

async function withStore<T>(target: Target, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(target.options());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Polls until `check` is true (or fails after `ms`). */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function reliabilitySuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 2600, groups: 20, seed: 'reliability', deltaPageSize: 200 });
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });
  const env = () => cliEnv(emulator, target);

  it('a --full killed inside its photo sweep, then a complete --full: every photo is right', async () => {
    const first = await runCli(['sync', '--json'], env());
    assert.equal(first.code, 0, first.stderr);

    // Slow the photo batches so the sweep of a --full lasts, and kill it once it has committed a position.
    emulator.faults.update({ slowRatio: 1, slowMs: 60, paths: '\\$batch' });
    let position = '';
    try {
      const run = startCli(['sync', '--full', '--json'], env());
      await until(async () => {
        position = (await withStore(target, (s) => getSyncState(s.db, 'default'))).photo_sweep_after ?? '';
        return position !== '';
      }, 60_000, 'the photo sweep to commit a position');
      run.child.kill('SIGKILL');
      assert.equal((await run.result).signal, 'SIGKILL');
    } finally {
      emulator.faults.reset();
    }

    // Photos change on both sides of the saved position, and new people arrive with photos.
    const t = emulator.tenant;
    const live = [...t.liveUsers()].map((i) => t.user(i).id);
    const before = live.filter((id) => id <= position);
    const beyond = live.filter((id) => id > position);
    assert.ok(before.length > 20 && beyond.length > 20, 'the kill landed mid-sweep');
    const planted = [...before.slice(0, 12), ...beyond.slice(0, 5)];
    for (const id of planted) t.setPhoto(id, 'generate');
    for (let k = 0; k < 4; k++) {
      const hire = t.createUser({ userPrincipalName: `sweep.hire.${k}@contoso.com`, displayName: `Sweep Hire ${k}` });
      t.setPhoto(hire.id, 'generate');
    }

    const full = await runCli(['sync', '--full', '--json'], env());
    assert.equal(full.code, 0, full.stderr);
    const summary = lastJson(full.stdout);
    assert.equal(summary.users.created, 4);
    assert.equal(summary.users.updated, planted.length, 'each changed photo counts as an updated user');
    await withStore(target, async (store) => {
      await assertDirectoryMatches(store, emulator);
      const state = await getSyncState(store.db, 'default');
      assert.equal(state.photo_sweep_after, null, 'the sweep finished');
    });
  });

  it('a run killed mid-way is closed as failed by the next run, which names it as its resumer', async () => {
    const t = emulator.tenant;
    for (let i = 0; i < 300; i++) t.updateUser(t.user(i).id, { jobTitle: `Interrupted ${i}` });
    emulator.faults.update({ slowRatio: 1, slowMs: 400 });
    let killedRun = '';
    try {
      const run = startCli(['sync', '--json'], env());
      await until(async () => {
        const runs = await withStore(target, (s) => listRuns(s.db, 'default'));
        killedRun = runs.find((r) => r.status === 'running')?.id ?? '';
        return killedRun !== '';
      }, 30_000, 'the run to be recorded');
      await sleep(100);
      run.child.kill('SIGKILL');
      assert.equal((await run.result).signal, 'SIGKILL');
    } finally {
      emulator.faults.reset();
    }
    const next = await runCli(['sync', '--json'], env());
    assert.equal(next.code, 0, next.stderr);
    const resumer = lastJson(next.stdout).runId;
    assert.match(next.stderr, new RegExp(`run ${killedRun} \\(pid \\d+ on .+\\) stopped without finishing; it is now marked failed`));
    await withStore(target, async (store) => {
      const runs = await listRuns(store.db, 'default');
      assert.deepEqual(runs.filter((r) => r.status === 'running'), [], 'no phantom running run');
      const dead = runs.find((r) => r.id === killedRun)!;
      assert.equal(dead.status, 'failed');
      assert.ok(dead.finished_at, 'the dead run has an end');
      assert.match(dead.error ?? '', /^interrupted: process \d+ on \S+ stopped without finishing; resumed by run /);
      assert.ok(dead.error!.endsWith(resumer), dead.error!);
      await assertDirectoryMatches(store, emulator);
    });
  });
}

describe('reliability on SQLite', () => reliabilitySuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('reliability on PostgreSQL', { skip: pgSkip }, () => reliabilitySuite(postgresTarget));
