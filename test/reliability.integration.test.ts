import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { loadConnectionConfig } from '../src/config/env.ts';
import { caNetworkClient } from '../src/emulator/auth/ca-network-client.ts';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import type { GraphError } from '../src/entra/errors.ts';
import type { FetchLike } from '../src/entra/http.ts';
import { getSyncState, getUsersByIds, listRuns, openStore, type Store } from '../src/store/index.ts';
import { connectGraph } from '../src/sync/connect.ts';
import { runSync } from '../src/sync/run.ts';
import { cliEnv, lastJson, runCli, startCli } from './support/cli.ts';
import { assertDirectoryMatches } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// What a crash probe of the engine found (issue 8), each reproduced with the real command killed by SIGKILL:
// a full run killed inside its photo sweep, and runs killed mid-way left `running` in the history; and links to a
// foreign host that a rewriting proxy slipped into Graph's answers.

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
      await until(
        async () => {
          position = (await withStore(target, (s) => getSyncState(s.db, 'default'))).photo_sweep_after ?? '';
          return position !== '';
        },
        60_000,
        'the photo sweep to commit a position',
      );
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
      await until(
        async () => {
          const runs = await withStore(target, (s) => listRuns(s.db, 'default'));
          killedRun = runs.find((r) => r.status === 'running')?.id ?? '';
          return killedRun !== '';
        },
        30_000,
        'the run to be recorded',
      );
      await sleep(100);
      run.child.kill('SIGKILL');
      assert.equal((await run.result).signal, 'SIGKILL');
    } finally {
      emulator.faults.reset();
    }
    const next = await runCli(['sync', '--json'], env());
    assert.equal(next.code, 0, next.stderr);
    const resumer = lastJson(next.stdout).runId;
    assert.match(
      next.stderr,
      new RegExp(`run ${killedRun} \\(pid \\d+ on .+\\) stopped without finishing; it is now marked failed`),
    );
    await withStore(target, async (store) => {
      const runs = await listRuns(store.db, 'default');
      assert.deepEqual(
        runs.filter((r) => r.status === 'running'),
        [],
        'no phantom running run',
      );
      const dead = runs.find((r) => r.id === killedRun)!;
      assert.equal(dead.status, 'failed');
      assert.ok(dead.finished_at, 'the dead run has an end');
      assert.match(dead.error ?? '', /^interrupted: process \d+ on \S+ stopped without finishing; resumed by run /);
      assert.ok(dead.error!.endsWith(resumer), dead.error!);
      await assertDirectoryMatches(store, emulator);
    });
  });

  it('a next or delta link rewritten to a foreign host stops the run: nothing of its page, and no foreign link, is stored', async () => {
    const store = await openStore(target.options());
    const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
    // A proxy between usersync and Graph that rewrites the links of users delta pages.
    let rewrite: '@odata.deltaLink' | '@odata.nextLink' = '@odata.deltaLink';
    const fetch: FetchLike = async (url, init) => {
      const res = await undiciFetch(url, { ...init, dispatcher });
      let text = Buffer.from(await res.arrayBuffer()).toString('utf8');
      if (new URL(url).pathname.endsWith('/users/delta'))
        text = text.replace(new RegExp(`("${rewrite.replace('.', '\\.')}":")https://[^/]+`), '$1https://evil.example');
      const bytes = new TextEncoder().encode(text);
      return { status: res.status, headers: res.headers, arrayBuffer: async () => bytes.buffer as ArrayBuffer };
    };
    const http = connectGraph(loadConnectionConfig(emulator.env()), {
      fetch,
      networkClient: caNetworkClient(emulator.caPem),
    });
    const links = async () => {
      const state = await getSyncState(store.db, 'default');
      return [state.users_delta_link, state.users_next_link, state.groups_delta_link, state.groups_next_link];
    };
    try {
      assert.equal((await runCli(['sync', '--json'], env())).code, 0, 'a delta link to start from');
      const t = emulator.tenant;
      const changed = [0, 1, 2].map((i) => t.user(i).id);
      for (const id of changed) t.updateUser(id, { jobTitle: 'Rewritten away' });
      const before = await links();
      const refused = (e: GraphError) => {
        assert.equal(e.code, 'foreign_link');
        assert.match(e.message, /for \/users\/delta carried an @odata\.(delta|next)Link to https:\/\/evil\.example/);
        assert.doesNotMatch(e.message, /set USERSYNC_GRAPH_URL/);
        return true;
      };
      await assert.rejects(runSync({ store, http }), refused);
      assert.deepEqual(await links(), before, 'the stored links are as they were');
      const rows = await getUsersByIds(store.db, 'default', changed);
      assert.ok(
        rows.every((r) => r.job_title !== 'Rewritten away'),
        'nothing of the refused page was written',
      );

      rewrite = '@odata.nextLink';
      await assert.rejects(runSync({ store, http }, { full: true }), refused);
      for (const link of await links())
        assert.ok(link === null || link.startsWith(emulator.graphUrl), `only Graph links are stored (${link})`);

      const run = await runCli(['sync', '--json'], env());
      assert.equal(run.code, 0, run.stderr);
      await assertDirectoryMatches(store, emulator);
    } finally {
      await dispatcher.close();
      await store.close();
    }
  });
}

describe('reliability on SQLite', () => reliabilitySuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('reliability on PostgreSQL', { skip: pgSkip }, () => reliabilitySuite(postgresTarget));
