import type { Kysely } from 'kysely';
import type { Database, SyncStateRow } from '../schema.ts';
import { nowIso } from './chunks.ts';

export type SyncState = SyncStateRow;
export type SyncStatePatch = Partial<Omit<SyncStateRow, 'connection_id' | 'updated_at'>>;

const EMPTY: Omit<SyncStateRow, 'connection_id'> = {
  users_delta_link: null,
  users_next_link: null,
  groups_delta_link: null,
  groups_next_link: null,
  round_id: null,
  round_mode: null,
  users_round_mode: null,
  groups_round_mode: null,
  photo_sweep_after: null,
  last_photo_sweep_at: null,
  users_select: null,
  applied_settings_version: null,
  project_after: null,
  read_scope: null,
  updated_at: null,
};

/** The connection's checkpoint; all fields null before its first run. */
export async function getSyncState(db: Kysely<Database>, connectionId: string): Promise<SyncState> {
  const row = await db
    .selectFrom('sync_state')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .executeTakeFirst();
  return { ...EMPTY, ...row, connection_id: connectionId };
}

/** Writes the given fields (undefined ones are left as they are; null clears). */
export async function saveSyncState(db: Kysely<Database>, connectionId: string, patch: SyncStatePatch): Promise<void> {
  const set: Record<string, string | number | null> = { updated_at: nowIso() };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined && key in EMPTY) set[key] = value;
  await db
    .insertInto('sync_state')
    .values({ ...EMPTY, ...set, connection_id: connectionId } as SyncStateRow)
    .onConflict((oc) => oc.column('connection_id').doUpdateSet(set))
    .execute();
}
