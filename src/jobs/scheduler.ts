import type { Logger } from 'pino';
import { describeError } from '../core/errors.ts';
import { activeRun, advanceSchedule, dueConnections, type Store } from '../store/index.ts';
import { nextRunAt, parseSchedule } from './schedule.ts';
import type { Runner } from './runner.ts';

// The embedded scheduler: every tick, connections whose next run time has come get a run queued (trigger schedule)
// and their next run time moved on. Moving it is a compare-and-set on the stored time, so when several processes
// tick over the same store, each occurrence queues one run. An occurrence that finds the previous run still going
// is skipped (and logged): runs never pile up behind a slow one.

export interface SchedulerOptions {
  store: Store;
  runner: Runner;
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
  tickMs?: number;
}

export interface Scheduler {
  /** One pass: queues the due runs; returns the connections it queued a run for. */
  tick(): Promise<string[]>;
  start(): void;
  stop(): Promise<void>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { store, runner, logger } = options;
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> = Promise.resolve();

  async function tick(): Promise<string[]> {
    const at = now();
    const queued: string[] = [];
    for (const row of await dueConnections(store.db, at.toISOString())) {
      const schedule = parseSchedule(JSON.parse(row.schedule));
      const next = nextRunAt(schedule, at)?.toISOString() ?? null;
      if (!(await advanceSchedule(store.db, row.id, row.next_run_at!, next))) continue;
      const active = await activeRun(store.db, row.id);
      if (active) {
        logger.warn(
          { connectionId: row.id, runId: active.id, due: row.next_run_at, nextRunAt: next },
          'scheduled run skipped: the previous run is still going',
        );
        continue;
      }
      await runner.enqueue(row.id, { trigger: 'schedule', requestedBy: null });
      queued.push(row.id);
    }
    return queued;
  }

  return {
    tick,
    start() {
      const every = options.tickMs ?? 5_000;
      const loop = () => {
        pass = tick()
          .catch((error) => logger.error({ error: describeError(error) }, 'scheduler pass failed'))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, every);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await pass;
    },
  };
}
