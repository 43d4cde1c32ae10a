import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { ErrorDescription } from '../../core/errors.ts';
import { statusesBefore } from '../../core/run-lifecycle.ts';
import type { Database, RunRow, RunStatus, RunTrigger } from '../schema.ts';

/** A run record as the service shows it (booleans, the JSON summary and the failure decoded). */
export type Run = Omit<
  RunRow,
  | 'dry_run'
  | 'fell_back_to_full'
  | 'summary'
  | 'error_code'
  | 'error_detail'
  | 'full_read'
  | 'cancel_requested'
  | 'changes'
  | 'progress'
> & {
  /** A running run's last reported progress (phase, objects done, Graph requests). */
  progress: unknown;
  dry_run: boolean;
  fell_back_to_full: boolean;
  full_read: boolean;
  cancel_requested: boolean;
  summary: unknown;
  /** Dry runs queued by the service: the changes they would make (the first ones). */
  changes: unknown[] | null;
  /** Why it failed, in the product's one error shape; null unless it failed. */
  failure: ErrorDescription | null;
};

export type NewRun = {
  id: string;
  connection_id: string;
  mode: string;
  dry_run: boolean;
  status?: RunStatus;
  started_at?: string;
  /** The process running it; default this one. */
  pid?: number;
  host?: string;
};

export type RunOutcome = {
  status: Exclude<RunStatus, 'queued' | 'running'>;
  finished_at?: string;
  duration_ms?: number | null;
  summary?: unknown;
  graph_requests?: number | null;
  /** Answers of Graph that throttled the run (429, 503). */
  throttled?: number;
  /** Why it failed: the message goes to `error`, the code, hint and context beside it. */
  failure?: ErrorDescription;
  fell_back_to_full?: boolean;
  /** The mode actually run, when it changed (a delta run that fell back to full). */
  mode?: string;
};

export async function insertRun(db: Kysely<Database>, run: NewRun): Promise<void> {
  await db
    .insertInto('runs')
    .values({
      id: run.id,
      connection_id: run.connection_id,
      mode: run.mode,
      dry_run: run.dry_run ? 1 : 0,
      status: run.status ?? 'running',
      started_at: run.started_at ?? new Date().toISOString(),
      fell_back_to_full: 0,
      pid: run.pid ?? process.pid,
      host: run.host ?? hostname(),
    })
    .execute();
}

/**
 * Closes the connection's runs still marked `running` as failed: call it holding the connection's run lock, when no other
 * run can be alive, so each of them belongs to a process that stopped without finishing (killed, crashed, power lost).
 * Returns the runs it closed.
 */
export async function closeInterruptedRuns(
  db: Kysely<Database>,
  connectionId: string,
  resumedBy: string,
  at = new Date().toISOString(),
): Promise<Run[]> {
  const dead = await db
    .selectFrom('runs')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'running')
    .where('dry_run', '=', 0)
    .where('id', '!=', resumedBy)
    .execute();
  for (const run of dead) {
    const who = run.pid === null ? 'its process' : `process ${run.pid} on ${run.host ?? 'an unknown host'}`;
    const error = `interrupted: ${who} stopped without finishing; resumed by run ${resumedBy}`;
    const detail = JSON.stringify({
      hint: 'nothing to do: the resuming run carries on from its last committed page',
      context: { connectionId, pid: run.pid, host: run.host, resumedBy },
    });
    // When it died is unknown: it ends when it is found, and its duration stays unknown.
    await db
      .updateTable('runs')
      .set({ status: 'failed', finished_at: at, error, error_code: 'run_interrupted', error_detail: detail })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .execute();
    Object.assign(run, {
      status: 'failed',
      finished_at: at,
      error,
      error_code: 'run_interrupted',
      error_detail: detail,
    });
  }
  return dead.map(decodeRun);
}

/** A run the service accepted, waiting for a worker (status queued). */
export async function queueRun(
  db: Kysely<Database>,
  run: {
    id: string;
    connection_id: string;
    full: boolean;
    dry_run: boolean;
    trigger: RunTrigger;
    requested_by: string | null;
    queued_at?: string;
    /** A test sync of draft settings: the document as JSON. */
    draft_settings?: string | null;
  },
): Promise<void> {
  await db
    .insertInto('runs')
    .values({
      id: run.id,
      connection_id: run.connection_id,
      mode: run.full ? 'full' : 'delta',
      dry_run: run.dry_run ? 1 : 0,
      status: 'queued',
      started_at: null,
      fell_back_to_full: 0,
      pid: null,
      host: null,
      trigger: run.trigger,
      requested_by: run.requested_by,
      queued_at: run.queued_at ?? new Date().toISOString(),
      full_read: run.full ? 1 : 0,
      draft_settings: run.draft_settings ?? null,
    })
    .execute();
}

/**
 * queued → running, by this process; false when it was no longer queued (cancelled, or taken by another worker).
 * `takeOver`: a run left `running` by a worker that died is taken over too (call it holding the run lock).
 */
export async function startQueuedRun(db: Kysely<Database>, run: NewRun, takeOver = false): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({
      status: 'running',
      mode: run.mode,
      started_at: run.started_at ?? new Date().toISOString(),
      pid: run.pid ?? process.pid,
      host: run.host ?? hostname(),
    })
    .where('id', '=', run.id)
    .where('status', 'in', takeOver ? ['queued', 'running'] : ['queued'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A runner takes a queued run (it stays queued until its run lock is held): false when another process took it first.
 */
export async function claimRun(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({ pid: process.pid, host: hostname() })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .where('pid', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Queued runs taken by processes of this host that are gone: they go back to the queue. */
export async function releaseDeadClaims(db: Kysely<Database>): Promise<number> {
  const rows = await db
    .selectFrom('runs')
    .select(['id', 'pid'])
    .where('status', '=', 'queued')
    .where('pid', 'is not', null)
    .where('host', '=', hostname())
    .execute();
  let released = 0;
  for (const row of rows) {
    if (row.pid === process.pid || processAlive(row.pid!)) continue;
    await db
      .updateTable('runs')
      .set({ pid: null, host: null })
      .where('id', '=', row.id)
      .where('status', '=', 'queued')
      .execute();
    released++;
  }
  return released;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Queued runs, oldest first. */
export async function queuedRuns(db: Kysely<Database>, limit = 100): Promise<Run[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('status', '=', 'queued')
    .where('pid', 'is', null)
    .orderBy('queued_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(decodeRun);
}

/** The connection's run that is queued or running, if any (the newest). */
export async function activeRun(db: Kysely<Database>, connectionId: string): Promise<Run | undefined> {
  const row = await db
    .selectFrom('runs')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('status', 'in', ['queued', 'running'])
    .where('dry_run', '=', 0)
    .orderBy('queued_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && decodeRun(row);
}

/** An administrator asks a run to stop: a queued one is cancelled now; a running one stops at its next page. */
export async function requestCancel(db: Kysely<Database>, id: string): Promise<'cancelled' | 'stopping' | 'finished'> {
  const queued = await db
    .updateTable('runs')
    .set({ status: 'cancelled', finished_at: new Date().toISOString(), cancel_requested: 1 })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  if (Number(queued.numUpdatedRows) === 1) return 'cancelled';
  const running = await db
    .updateTable('runs')
    .set({ cancel_requested: 1 })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(running.numUpdatedRows) === 1 ? 'stopping' : 'finished';
}

export async function cancelRequested(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db.selectFrom('runs').select('cancel_requested').where('id', '=', id).executeTakeFirst();
  return row?.cancel_requested === 1;
}

/** A running run's progress, for processes that do not run it (the API of another server, the console). */
export async function saveRunProgress(db: Kysely<Database>, id: string, progress: unknown): Promise<void> {
  // Only by the process that runs it (a second attempt waiting for the run lock has nothing to say yet).
  await db
    .updateTable('runs')
    .set({ progress: JSON.stringify(progress) })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('pid', '=', process.pid)
    .where('host', '=', hostname())
    .execute();
}

export async function saveRunChanges(db: Kysely<Database>, id: string, changes: unknown[]): Promise<void> {
  await db
    .updateTable('runs')
    .set({ changes: JSON.stringify(changes) })
    .where('id', '=', id)
    .execute();
}

export interface RunFilter {
  connectionId?: string;
  status?: RunStatus;
  trigger?: RunTrigger;
  /** Runs queued or started before this run (paging: the last id of the previous page). */
  before?: { at: string; id: string };
  limit: number;
}

/** Runs newest first (by when they were queued or started), with filters; for the history. */
export async function findRuns(db: Kysely<Database>, filter: RunFilter): Promise<Run[]> {
  const at = sql<string>`coalesce(queued_at, started_at)`;
  let query = db.selectFrom('runs').selectAll();
  if (filter.connectionId) query = query.where('connection_id', '=', filter.connectionId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.trigger) query = query.where('trigger', '=', filter.trigger);
  if (filter.before) {
    const { at: b, id } = filter.before;
    query = query.where((eb) => eb.or([eb(at, '<', b), eb.and([eb(at, '=', b), eb('id', '<', id)])]));
  }
  const rows = await query.orderBy(at, 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(decodeRun);
}

export async function setRunStatus(db: Kysely<Database>, id: string, status: RunStatus): Promise<void> {
  await db
    .updateTable('runs')
    .set({ status })
    .where('id', '=', id)
    .where('status', 'in', statusesBefore(status))
    .execute();
}

export async function finishRun(db: Kysely<Database>, id: string, outcome: RunOutcome): Promise<void> {
  const set: Record<string, unknown> = {
    status: outcome.status,
    finished_at: outcome.finished_at ?? new Date().toISOString(),
  };
  if (outcome.duration_ms !== undefined)
    set.duration_ms = outcome.duration_ms === null ? null : Math.round(outcome.duration_ms);
  if (outcome.summary !== undefined) set.summary = JSON.stringify(outcome.summary);
  if (outcome.graph_requests !== undefined) set.graph_requests = outcome.graph_requests;
  if (outcome.throttled !== undefined) set.throttled = outcome.throttled;
  if (outcome.failure !== undefined) {
    set.error = outcome.failure.message;
    set.error_code = outcome.failure.code;
    set.error_detail = JSON.stringify({ hint: outcome.failure.hint, context: outcome.failure.context });
  }
  if (outcome.fell_back_to_full !== undefined) set.fell_back_to_full = outcome.fell_back_to_full ? 1 : 0;
  if (outcome.mode !== undefined) set.mode = outcome.mode;
  // Only along the lifecycle's edges: a run that already ended keeps its outcome.
  await db
    .updateTable('runs')
    .set(set)
    .where('id', '=', id)
    .where('status', 'in', statusesBefore(outcome.status))
    .execute();
}

export async function getRun(db: Kysely<Database>, id: string): Promise<Run | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decodeRun(row);
}

/** The connection's latest runs, newest first. */
/** The latest run of every connection (by start, else queue time), in one query: the connections list's status. */
export async function latestRunOfEachConnection(
  db: Kysely<Database>,
): Promise<Map<string, { id: string; status: RunStatus; started_at: string | null; finished_at: string | null }>> {
  const ranked = db
    .selectFrom('runs')
    .select([
      'id',
      'connection_id',
      'status',
      'started_at',
      'finished_at',
      sql<number>`row_number() over (partition by connection_id order by coalesce(started_at, queued_at) desc, id desc)`.as(
        'rank',
      ),
    ])
    .as('ranked');
  const rows = await db.selectFrom(ranked).selectAll().where('rank', '=', 1).execute();
  return new Map(rows.map((r) => [r.connection_id, r]));
}

export async function listRuns(db: Kysely<Database>, connectionId: string, limit = 50): Promise<Run[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .orderBy(sql`coalesce(started_at, queued_at)`, 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(decodeRun);
}

function decodeRun(row: RunRow): Run {
  const {
    dry_run,
    fell_back_to_full,
    summary,
    error_code,
    error_detail,
    full_read,
    cancel_requested,
    changes,
    progress,
    ...rest
  } = row;
  const detail =
    error_detail === null
      ? null
      : (JSON.parse(error_detail) as { hint: string | null; context: Record<string, unknown> });
  const failure =
    row.error === null
      ? null
      : {
          code: error_code ?? 'internal',
          message: row.error,
          hint: detail?.hint ?? null,
          context: detail?.context ?? {},
        };
  return {
    ...rest,
    dry_run: dry_run === 1,
    fell_back_to_full: fell_back_to_full === 1,
    full_read: full_read === 1,
    cancel_requested: cancel_requested === 1,
    summary: summary === null ? null : JSON.parse(summary),
    changes: changes === null ? null : (JSON.parse(changes) as unknown[]),
    progress: progress === null ? null : JSON.parse(progress),
    failure,
  };
}
