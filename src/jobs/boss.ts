import PgBoss from 'pg-boss';
import { describeError } from '../core/errors.ts';
import { getRun, requestCancel } from '../store/index.ts';
import { executeRun, queueRequest, type LiveProgress, type Runner, type RunnerDeps } from './runner.ts';

// Runs on PostgreSQL: every `usersync serve` and `usersync worker` process takes runs from one pg-boss queue. The
// queue's `singleton` policy keeps one run per connection active cluster-wide (the run lock backs it up). A worker that
// dies leaves its job active; when the job expires pg-boss hands it to another worker, which takes the run over under
// the run lock and resumes from the last committed page. A run recorded as ended is never run again.

export const RUN_QUEUE = 'usersync-runs';

export interface BossOptions {
  databaseUrl: string;
  /** Runs at once in this process (0: this process only queues, e.g. an API-only server). */
  concurrency: number;
  /** A job whose worker is silent this long is given to another worker (default 1 h, USERSYNC_RUN_EXPIRE_SECONDS). */
  expireInSeconds?: number;
  /** How often pg-boss looks for expired jobs (default 60 s, USERSYNC_JOB_MAINTENANCE_SECONDS). */
  maintenanceSeconds?: number;
  pollingSeconds?: number;
}

export async function createBossRunner(deps: RunnerDeps, options: BossOptions): Promise<Runner> {
  const { store, logger } = deps;
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: 'usersync_jobs',
    maintenanceIntervalSeconds: options.maintenanceSeconds ?? 60,
    monitorStateIntervalSeconds: options.maintenanceSeconds ?? 60,
    max: Math.max(2, options.concurrency + 1),
  });
  boss.on('error', (error) => logger.error({ error: describeError(error) }, 'job queue error'));
  await boss.start();
  await boss
    .createQueue(RUN_QUEUE, {
      name: RUN_QUEUE,
      policy: 'singleton',
      retryLimit: 20,
      retryDelay: 1,
      expireInSeconds: options.expireInSeconds ?? 3600,
    })
    .catch((error: Error) => {
      // Another process created it first.
      if (!/exists/i.test(error.message)) throw error;
    });
  const active = new Map<string, { controller: AbortController; progress: LiveProgress; done: Promise<void> }>();
  let closing = false;

  async function handle(jobs: PgBoss.Job<{ runId: string }>[]): Promise<void> {
    for (const job of jobs) {
      const run = await getRun(store.db, job.data.runId);
      // Cancelled while queued, or ended (a job retried after its run finished): nothing to do.
      if (!run || !['queued', 'running'].includes(run.status)) continue;
      const slot = {
        controller: new AbortController(),
        progress: { phase: 'users' as const, done: 0, graphRequests: 0, startedAt: new Date().toISOString() },
      };
      const done = executeRun(deps, run, slot, { takeOver: true }).catch((error) =>
        logger.error({ runId: run.id, error: describeError(error) }, 'run could not be executed'),
      );
      active.set(run.id, { ...slot, done });
      try {
        await done;
      } finally {
        active.delete(run.id);
      }
    }
  }

  for (let i = 0; i < options.concurrency; i++)
    await boss.work<{ runId: string }>(
      RUN_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: options.pollingSeconds ?? 1 },
      handle,
    );

  return {
    async enqueue(connectionId, request) {
      const { run, fresh } = await queueRequest(store, connectionId, request);
      if (fresh) await boss.send(RUN_QUEUE, { runId: run.id }, { singletonKey: connectionId });
      return run;
    },
    async cancel(runId) {
      const outcome = await requestCancel(store.db, runId);
      active.get(runId)?.controller.abort();
      return outcome;
    },
    progress(runId) {
      const slot = active.get(runId);
      return slot ? { ...slot.progress } : null;
    },
    kick() {},
    async close() {
      if (closing) return;
      closing = true;
      for (const slot of active.values()) slot.controller.abort('shutdown');
      await Promise.allSettled([...active.values()].map((s) => s.done));
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
    get running() {
      return active.size;
    },
  };
}
