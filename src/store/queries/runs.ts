import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { ErrorDescription } from '../../core/errors.ts';
import type { Database, RunRow, RunStatus } from '../schema.ts';

/** A run record as the service shows it (booleans, the JSON summary and the failure decoded). */
export type Run = Omit<RunRow, 'dry_run' | 'fell_back_to_full' | 'summary' | 'error_code' | 'error_detail'> & {
  dry_run: boolean;
  fell_back_to_full: boolean;
  summary: unknown;
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

export async function setRunStatus(db: Kysely<Database>, id: string, status: RunStatus): Promise<void> {
  await db.updateTable('runs').set({ status }).where('id', '=', id).execute();
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
  if (outcome.failure !== undefined) {
    set.error = outcome.failure.message;
    set.error_code = outcome.failure.code;
    set.error_detail = JSON.stringify({ hint: outcome.failure.hint, context: outcome.failure.context });
  }
  if (outcome.fell_back_to_full !== undefined) set.fell_back_to_full = outcome.fell_back_to_full ? 1 : 0;
  if (outcome.mode !== undefined) set.mode = outcome.mode;
  await db.updateTable('runs').set(set).where('id', '=', id).execute();
}

export async function getRun(db: Kysely<Database>, id: string): Promise<Run | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decodeRun(row);
}

/** The connection's latest runs, newest first. */
export async function listRuns(db: Kysely<Database>, connectionId: string, limit = 50): Promise<Run[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(decodeRun);
}

function decodeRun(row: RunRow): Run {
  const { dry_run, fell_back_to_full, summary, error_code, error_detail, ...rest } = row;
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
    summary: summary === null ? null : JSON.parse(summary),
    failure,
  };
}
