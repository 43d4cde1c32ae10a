import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createConnection, setSchedule } from '../../src/connections/connections.ts';
import { emulatorClients } from '../../src/emulator/connect.ts';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { createRunner } from '../../src/jobs/runner.ts';
import { createScheduler } from '../../src/jobs/scheduler.ts';
import { boxOf, generateKey } from '../../src/secrets/box.ts';
import { findRuns, getConnection, openStore, type Store } from '../../src/store/index.ts';

// Schedules firing, with a clock the test moves: a due schedule queues one run (trigger schedule) and moves on to the
// next time; two schedulers over one store queue each occurrence once; an occurrence that finds a run still going is
// skipped; a paused schedule never fires.

describe('the scheduler', () => {
  let emulator: Emulator;
  let dir: string;
  let store: Store;
  let clock = new Date('2026-12-01T08:59:00Z');
  let clients: ReturnType<typeof emulatorClients>;
  const logger = pino({ level: 'silent' });
  const box = boxOf([generateKey()], 'test');

  before(async () => {
    emulator = await startEmulator({ users: 20, groups: 2, seed: 'scheduler' });
    dir = mkdtempSync(join(tmpdir(), 'usersync-scheduler-'));
    store = await openStore({ dataDir: dir });
    const env = emulator.env();
    await createConnection(
      store,
      box,
      {
        name: 'Scheduled',
        tenantId: env.AZURE_TENANT_ID,
        clientId: env.AZURE_CLIENT_ID,
        clientSecret: env.AZURE_CLIENT_SECRET,
        authorityHost: env.AZURE_AUTHORITY_HOST,
        graphUrl: env.USERSYNC_GRAPH_URL,
      },
      'test',
    );
    clients = emulatorClients(emulator);
  });
  after(async () => {
    await clients.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  });

  it('queues a run when the schedule is due, once across schedulers, and moves to the next time', async () => {
    const runner = createRunner({ store, box, logger, graphFor: clients.graphFor });
    const now = () => clock;
    const a = createScheduler({ store, runner, logger, now });
    const b = createScheduler({ store, runner, logger, now });
    await setSchedule(
      store,
      'scheduled',
      { enabled: true, every: { value: 15, unit: 'minutes' }, startAt: '2026-12-01T09:00' },
      'test',
      clock,
    );
    assert.equal((await getConnection(store.db, 'scheduled'))!.next_run_at, '2026-12-01T09:00:00.000Z');
    assert.deepEqual(await a.tick(), [], 'not due yet');
    clock = new Date('2026-12-01T09:00:01Z');
    const [first, second] = await Promise.all([a.tick(), b.tick()]);
    assert.equal(first.length + second.length, 1, 'one run for one occurrence');
    assert.equal((await getConnection(store.db, 'scheduled'))!.next_run_at, '2026-12-01T09:15:00.000Z');
    let runs = await findRuns(store.db, { connectionId: 'scheduled', limit: 10 });
    assert.equal(runs.length, 1);
    assert.equal(runs[0].trigger, 'schedule');
    await runner.close();
    // The runner was closed before the run could finish, or it finished: either way it is no longer queued or running.
    runs = await findRuns(store.db, { connectionId: 'scheduled', limit: 10 });
    assert.ok(['succeeded', 'cancelled'].includes(runs[0].status), runs[0].status);
  });

  it('skips an occurrence while the previous run is still going, and a paused schedule never fires', async () => {
    const slow = createRunner({ store, box, logger, graphFor: clients.graphFor, concurrency: 0 });
    const scheduler = createScheduler({ store, runner: slow, logger, now: () => clock });
    clock = new Date('2026-12-01T09:15:00Z');
    assert.deepEqual(await scheduler.tick(), ['scheduled'], 'queued (the runner has no slot, so it stays queued)');
    clock = new Date('2026-12-01T09:30:00Z');
    assert.deepEqual(await scheduler.tick(), [], 'the queued run is still waiting: this occurrence is skipped');
    assert.equal((await getConnection(store.db, 'scheduled'))!.next_run_at, '2026-12-01T09:45:00.000Z');
    await setSchedule(
      store,
      'scheduled',
      { enabled: true, paused: true, every: { value: 15, unit: 'minutes' } },
      'test',
      clock,
    );
    assert.equal((await getConnection(store.db, 'scheduled'))!.next_run_at, null);
    clock = new Date('2026-12-02T00:00:00Z');
    assert.deepEqual(await scheduler.tick(), []);
    await slow.close();
  });
});
