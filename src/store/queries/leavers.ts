import type { Kysely } from 'kysely';
import type { Database, LeaverReason } from '../schema.ts';
import { idChunkSize, inIds, insertRows } from './bulk.ts';
import { chunks, nowIso, toCount } from './chunks.ts';

// Leavers waiting for the deletion threshold (pending, during a run) or for an administrator (held).

export interface Leaver {
  externalId: string;
  reason: LeaverReason;
  status: 'pending' | 'held';
  runId: string | null;
  since: string;
}

/** Records leavers as pending (a user already recorded keeps their status, and since, and takes the newest reason). */
export async function addLeavers(
  db: Kysely<Database>,
  connectionId: string,
  leavers: readonly { externalId: string; reason: LeaverReason }[],
  runId: string,
): Promise<void> {
  const now = nowIso();
  await insertRows(
    db,
    'leavers',
    ['connection_id', 'external_id', 'reason', 'status', 'run_id', 'since'],
    leavers.map((l) => [connectionId, l.externalId, l.reason, 'pending', runId, now]),
    { columns: ['connection_id', 'external_id'], update: ['reason'] },
  );
}

/** Drops leavers (they came back, or were applied or discarded). */
export async function deleteLeavers(db: Kysely<Database>, connectionId: string, ids: readonly string[]): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db)))
    await db
      .deleteFrom('leavers')
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
}

/** Leavers of a status, counted per connection in one query (connections without any are absent). */
export async function countLeaversByConnection(
  db: Kysely<Database>,
  status: Leaver['status'],
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('leavers')
    .select(['connection_id', (eb) => eb.fn.countAll().as('n')])
    .where('status', '=', status)
    .groupBy('connection_id')
    .execute();
  return new Map(rows.map((r) => [r.connection_id, toCount(r.n)]));
}

export async function countLeavers(
  db: Kysely<Database>,
  connectionId: string,
  status: Leaver['status'],
): Promise<number> {
  const row = await db
    .selectFrom('leavers')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('connection_id', '=', connectionId)
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return toCount(row.n);
}

/** Leavers of one status in id order after `after` (every one when `ids` is undefined, else only those). */
export async function leaversPage(
  db: Kysely<Database>,
  connectionId: string,
  status: Leaver['status'],
  after: string,
  limit: number,
  ids?: readonly string[],
): Promise<Leaver[]> {
  const rows = await db
    .selectFrom('leavers')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('status', '=', status)
    .where('external_id', '>', after)
    .$if(ids !== undefined, (q) => q.where(inIds(db, 'external_id', ids!)))
    .orderBy('external_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    externalId: r.external_id,
    reason: r.reason,
    status: r.status,
    runId: r.run_id,
    since: r.since,
  }));
}

/** The run's pending leavers become held (over the threshold); returns how many. */
export async function holdPendingLeavers(db: Kysely<Database>, connectionId: string): Promise<number> {
  const result = await db
    .updateTable('leavers')
    .set({ status: 'held' })
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
