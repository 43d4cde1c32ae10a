import type { Kysely } from 'kysely';
import type { AuditTable, Database } from '../schema.ts';
import { insertRows } from './bulk.ts';
import { nowIso } from './chunks.ts';

// The audit trail: appended by runs and by decisions on held leavers; read per user, per run; trimmed by retention.

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface AuditEntry {
  objectType: AuditTable['object_type'];
  objectId: string;
  action: string;
  changes?: FieldChange[] | null;
  /** How a person recognises the object (a user's login account); shown by dry runs, not stored. */
  label?: string;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  runId: string | null;
  at: string;
  actor: string;
}

const COLUMNS = ['connection_id', 'run_id', 'at', 'actor', 'object_type', 'object_id', 'action', 'changes'];

export async function appendAudit(
  db: Kysely<Database>,
  connectionId: string,
  entries: readonly AuditEntry[],
  who: { runId: string | null; actor: string },
): Promise<void> {
  if (entries.length === 0) return;
  const at = nowIso();
  await insertRows(
    db,
    'audit',
    COLUMNS,
    entries.map((e) => [
      connectionId,
      who.runId,
      at,
      who.actor,
      e.objectType,
      e.objectId,
      e.action,
      e.changes && e.changes.length > 0 ? JSON.stringify(e.changes) : null,
    ]),
    null,
  );
}

/** One object's history (or a run's changes), oldest first, a page at a time after `afterSeq`. */
export async function auditPage(
  db: Kysely<Database>,
  filter: { connectionId: string; objectId?: string; runId?: string },
  afterSeq: number,
  limit: number,
): Promise<AuditRecord[]> {
  const rows = await db
    .selectFrom('audit')
    .selectAll()
    .where('connection_id', '=', filter.connectionId)
    .$if(filter.objectId !== undefined, (q) => q.where('object_id', '=', filter.objectId!))
    .$if(filter.runId !== undefined, (q) => q.where('run_id', '=', filter.runId!))
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    runId: r.run_id,
    at: r.at,
    actor: r.actor,
    objectType: r.object_type,
    objectId: r.object_id,
    action: r.action,
    changes: r.changes ? (JSON.parse(r.changes) as FieldChange[]) : null,
  }));
}

/** Retention: deletes up to `limit` entries older than `before` (a slice per run, so a run never waits on a big purge). */
export async function purgeAudit(
  db: Kysely<Database>,
  connectionId: string,
  before: string,
  limit: number,
): Promise<number> {
  const oldest = await db
    .selectFrom('audit')
    .select('seq')
    .where('connection_id', '=', connectionId)
    .where('at', '<', before)
    .orderBy('at')
    .limit(limit)
    .execute();
  if (oldest.length === 0) return 0;
  const last = Math.max(...oldest.map((r) => Number(r.seq)));
  const result = await db
    .deleteFrom('audit')
    .where('connection_id', '=', connectionId)
    .where('at', '<', before)
    .where('seq', '<=', last)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
