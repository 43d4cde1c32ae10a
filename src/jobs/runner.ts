import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/env.ts';
import { describeError, UsersyncError } from '../core/errors.ts';
import type { GraphHttp } from '../entra/http.ts';
import type { SecretBox } from '../secrets/box.ts';
import {
  activeRun,
  cancelRequested,
  claimRun,
  finishRun,
  getConnection,
  getRun,
  queuedRuns,
  queueRun,
  releaseDeadClaims,
  requestCancel,
  saveRunChanges,
  saveRunProgress,
  startQueuedRun,
  type Run,
  type RunTrigger,
  type Store,
} from '../store/index.ts';
import type { Settings } from '../core/settings.ts';
import type { AuditEntry } from '../store/queries/audit.ts';
import { loadSettings } from '../sync/applied-settings.ts';
import { deliverMails } from '../sync/mailer.ts';
import { runSync, type SyncProgress, type SyncSummary } from '../sync/run.ts';
import { connectionConfigOf } from '../connections/connections.ts';
import type { ServiceApp } from '../connections/consent.ts';
import { postgresConnectionString } from '../store/db.ts';

// Runs the service was asked for (Sync Now, the API, the schedule), one per connection at a time: queued in the store,
// started by a runner, stoppable. The run's own lock still guards against a CLI sync of the same connection.

export interface RunRequest {
  full?: boolean;
  dryRun?: boolean;
  trigger: RunTrigger;
  requestedBy: string | null;
  /** With dryRun: test these settings (a draft, validated by the caller) instead of the stored ones. */
  settings?: Settings;
}

/** Live progress of a run this process is running. */
export interface LiveProgress extends SyncProgress {
  startedAt: string;
}

/** Changes a dry run keeps for the test sync's diff. */
const DRY_RUN_CHANGES = 1000;
/** How often a running run looks for a stop asked by another process. */
const CANCEL_POLL_MS = 1000;

export interface RunnerDeps {
  store: Store;
  box: SecretBox;
  /** usersync's own app, for connections made by admin consent. */
  app?: ServiceApp | null;
  /** The Graph client of a connection (the default trusts NODE_EXTRA_CA_CERTS; the demo trusts its emulator's CA). */
  graphFor: (config: ConnectionConfig, logger: Logger) => GraphHttp;
  logger: Logger;
  /** Runs of different connections at once in this process. */
  concurrency?: number;
  /** Called when a run ends, whatever its status (metrics). */
  onFinished?: (run: Run, throttled: number) => void;
}

export interface Runner {
  /** Queues a run (or returns the connection's run already waiting, for a non-dry request) and starts it when a slot is free. */
  enqueue(connectionId: string, request: RunRequest): Promise<Run>;
  cancel(runId: string): Promise<'cancelled' | 'stopping' | 'finished'>;
  progress(runId: string): LiveProgress | null;
  /** Starts queued runs while slots are free (called by enqueue, the scheduler, and at start for runs left queued). */
  kick(): void;
  /** Stops taking runs; running ones stop after their current page. Resolves when they have. */
  close(): Promise<void>;
  readonly running: number;
}

export function createRunner(deps: RunnerDeps): Runner {
  const { store, logger } = deps;
  const concurrency = deps.concurrency ?? 4;
  const active = new Map<string, { runId: string; controller: AbortController; progress: LiveProgress }>();
  const finished = new Set<Promise<void>>();
  let closing = false;
  let kicking = false;
  let again = false;

  async function pick(): Promise<void> {
    if (kicking) {
      again = true;
      return;
    }
    kicking = true;
    try {
      do {
        again = false;
        if (closing || active.size >= concurrency) return;
        for (const run of await queuedRuns(store.db)) {
          if (closing || active.size >= concurrency) return;
          if (active.has(run.connection_id)) continue;
          if (!(await claimRun(store.db, run.id))) continue;
          start(run);
        }
      } while (again);
    } finally {
      kicking = false;
    }
  }

  function start(run: Run): void {
    const controller = new AbortController();
    const slot = {
      runId: run.id,
      controller,
      progress: { phase: 'users' as const, done: 0, graphRequests: 0, startedAt: new Date().toISOString() },
    };
    active.set(run.connection_id, slot);
    const done = executeRun(deps, run, slot)
      .catch((error) => logger.error({ runId: run.id, error: describeError(error) }, 'run could not be executed'))
      .finally(() => {
        active.delete(run.connection_id);
        finished.delete(done);
        void pick();
      });
    finished.add(done);
  }

  return {
    async enqueue(connectionId, request) {
      const { run } = await queueRequest(store, connectionId, request);
      void pick();
      return run;
    },
    async cancel(runId) {
      const outcome = await requestCancel(store.db, runId);
      for (const slot of active.values()) if (slot.runId === runId) slot.controller.abort();
      return outcome;
    },
    progress(runId) {
      for (const slot of active.values()) if (slot.runId === runId) return { ...slot.progress };
      return null;
    },
    kick() {
      void releaseDeadClaims(store.db)
        .catch(() => 0)
        .then(() => pick());
    },
    async close() {
      closing = true;
      for (const slot of active.values()) slot.controller.abort('shutdown');
      await Promise.allSettled([...finished]);
    },
    get running() {
      return active.size;
    },
  };
}

/**
 * Runs one queued run to its end in this process: the connection's credential opened, the sync (or test sync) run with
 * a stop signal, progress and stop requests exchanged through the run record every second (so any process can show
 * and stop it), queued mails delivered. `takeOver`: the run may be `running` already — its worker died and the queue
 * gave it to this one; the run lock (held from here on) proves nobody else runs it.
 */
export async function executeRun(
  deps: RunnerDeps,
  run: Run,
  slot: { controller: AbortController; progress: LiveProgress },
  options: { takeOver?: boolean } = {},
): Promise<void> {
  const { store, logger } = deps;
  const log = logger.child({ connectionId: run.connection_id, runId: run.id });
  const poll = setInterval(() => {
    cancelRequested(store.db, run.id)
      .then((yes) => yes && slot.controller.abort())
      .catch(() => {});
    void saveRunProgress(store.db, run.id, slot.progress).catch(() => {});
  }, CANCEL_POLL_MS);
  let http: GraphHttp | undefined;
  try {
    const row = await getConnection(store.db, run.connection_id);
    if (!row) {
      await failBeforeStart(
        store,
        run,
        new UsersyncError('not_found', `connection "${run.connection_id}" no longer exists`),
      );
      return;
    }
    try {
      http = deps.graphFor(connectionConfigOf(row, deps.box, deps.app ?? null), log);
    } catch (error) {
      await failBeforeStart(store, run, error);
      return;
    }
    const changes: unknown[] = [];
    const syncOptions = {
      connectionId: run.connection_id,
      full: run.full_read,
      dryRun: run.dry_run,
      settings: run.dry_run && run.draft_settings ? (JSON.parse(run.draft_settings) as Settings) : undefined,
      runId: run.id,
      takeOver: options.takeOver,
      signal: slot.controller.signal,
      logger: log,
      onProgress: (p: SyncProgress) => Object.assign(slot.progress, p),
      onChange: run.dry_run
        ? (c: AuditEntry) => {
            if (changes.length < DRY_RUN_CHANGES)
              changes.push({
                object: c.objectType,
                id: c.objectId,
                label: c.label ?? null,
                action: c.action,
                changes: c.changes ?? [],
              });
          }
        : undefined,
    };
    if (run.dry_run) {
      // A dry run writes nothing, its record included: the runner keeps the record of the test sync.
      if (
        !(await startQueuedRun(store.db, {
          id: run.id,
          connection_id: run.connection_id,
          mode: run.mode,
          dry_run: true,
        }))
      )
        return;
      const started = Date.now();
      try {
        const summary: SyncSummary = await runSync({ store, http }, syncOptions);
        await saveRunChanges(store.db, run.id, changes);
        await finishRun(store.db, run.id, {
          status: 'succeeded',
          duration_ms: summary.durationMs,
          summary,
          graph_requests: summary.graphRequests,
          throttled: http.throttleCount,
          mode: summary.mode,
        });
      } catch (error) {
        await finishRun(store.db, run.id, {
          status: (error as Error).name === 'RunCancelledError' ? 'cancelled' : 'failed',
          duration_ms: Date.now() - started,
          failure: describeError(error, { connectionId: run.connection_id }),
        });
      }
    } else {
      await runSync({ store, http }, syncOptions).catch((error) => {
        // The run record says why; the log has it too (runSync logged it).
        log.debug({ error: describeError(error) }, 'run ended with an error');
      });
    }
    await deliverQueued(store, run.connection_id, log);
  } finally {
    clearInterval(poll);
    const final = await getRun(store.db, run.id).catch(() => undefined);
    if (final) deps.onFinished?.(final, http?.throttleCount ?? 0);
  }
}

async function failBeforeStart(store: Store, run: Run, error: unknown): Promise<void> {
  await startQueuedRun(store.db, {
    id: run.id,
    connection_id: run.connection_id,
    mode: run.mode,
    dry_run: run.dry_run,
  });
  await finishRun(store.db, run.id, {
    status: 'failed',
    duration_ms: 0,
    failure: describeError(error, { connectionId: run.connection_id }),
  });
}

async function deliverQueued(store: Store, conn: string, log: Logger): Promise<void> {
  const url = process.env.USERSYNC_SMTP_URL;
  if (!url) return;
  try {
    const { settings } = await loadSettings(store.db, conn);
    await deliverMails(store, conn, url, { from: settings.email?.from, log });
  } catch (error) {
    log.warn({ error: describeError(error) }, 'mails were not sent; they stay queued');
  }
}

/** Records a queued run for a request; a non-dry request while the connection has a run waiting gets that one. */
export async function queueRequest(
  store: Store,
  connectionId: string,
  request: RunRequest,
): Promise<{ run: Run; fresh: boolean }> {
  if (!request.dryRun) {
    const waiting = await activeRun(store.db, connectionId);
    if (waiting?.status === 'queued') return { run: waiting, fresh: false };
  }
  const id = randomUUID();
  await queueRun(store.db, {
    id,
    connection_id: connectionId,
    full: request.full ?? false,
    dry_run: request.dryRun ?? false,
    trigger: request.trigger,
    requested_by: request.requestedBy,
    draft_settings: request.dryRun && request.settings ? JSON.stringify(request.settings) : null,
  });
  return { run: (await getRun(store.db, id))!, fresh: true };
}

/**
 * The runner a process uses over its store: on PostgreSQL the shared pg-boss queue (any number of serve and worker
 * processes), on SQLite the embedded queue of this one process. Concurrency: USERSYNC_RUN_CONCURRENCY (default 4).
 */
export async function runnerFor(
  deps: RunnerDeps,
  env: Record<string, string | undefined> = process.env,
  overrides: { concurrency?: number } = {},
): Promise<Runner> {
  const number = (name: string, fallback: number, min: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min)
      throw new UsersyncError('config_invalid', `${name} must be a whole number of at least ${min} (got "${raw}")`, {
        context: { field: name },
      });
    return value;
  };
  const concurrency = overrides.concurrency ?? number('USERSYNC_RUN_CONCURRENCY', 4, 0);
  if (deps.store.dialect !== 'postgres') return createRunner({ ...deps, concurrency });
  const { createBossRunner } = await import('./boss.ts');
  return createBossRunner(deps, {
    databaseUrl: postgresConnectionString(deps.store),
    concurrency,
    expireInSeconds: number('USERSYNC_RUN_EXPIRE_SECONDS', 3600, 5),
    maintenanceSeconds: number('USERSYNC_JOB_MAINTENANCE_SECONDS', 60, 1),
  });
}
