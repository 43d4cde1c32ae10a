import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { idChunkSize, inIds } from './bulk.ts';
import { chunks } from './chunks.ts';

// A full read marks every object it sees with the round's id; what is still 'present' but unmarked at
// the end is gone from the source. Users and groups keep their rounds the same way.

export type RoundTable = 'directory_users' | 'directory_groups';

/** Records that a round saw these objects (updated_at is left alone). */
export async function markSeen(
  db: Kysely<Database>,
  table: RoundTable,
  connectionId: string,
  ids: readonly string[],
  round: string,
): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db))) {
    await (db as Kysely<any>)
      .updateTable(table)
      .set({ seen_round: round })
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
  }
}

/** Ids of objects still 'present' that the round did not see. */
export async function notSeen(
  db: Kysely<Database>,
  table: RoundTable,
  connectionId: string,
  round: string,
): Promise<string[]> {
  const rows: { external_id: string }[] = await (db as Kysely<any>)
    .selectFrom(table)
    .select('external_id')
    .where('connection_id', '=', connectionId)
    .where('source_state', '=', 'present')
    .where((eb) => eb.or([eb('seen_round', 'is', null), eb('seen_round', '<>', round)]))
    .orderBy('external_id')
    .execute();
  return rows.map((r) => r.external_id);
}

/** Sets lifecycle columns on many objects; returns how many rows changed. */
export async function setStates(
  db: Kysely<Database>,
  table: RoundTable,
  connectionId: string,
  ids: readonly string[],
  set: Record<string, unknown>,
): Promise<number> {
  let changed = 0;
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const result = await (db as Kysely<any>)
      .updateTable(table)
      .set(set)
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .executeTakeFirst();
    changed += Number(result.numUpdatedRows);
  }
  return changed;
}
