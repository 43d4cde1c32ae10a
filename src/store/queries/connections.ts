import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ConnectionsTable, Database } from '../schema.ts';
import { nowIso } from './chunks.ts';

// Connections the service manages: who the tenant is, how to get a token (the credential sealed by secrets/box.ts),
// and when the schedule runs next. The CLI's connections that live only in the environment have no row here.

export type ConnectionRow = Selectable<ConnectionsTable>;

export async function insertConnection(db: Kysely<Database>, row: Insertable<ConnectionsTable>): Promise<void> {
  await db.insertInto('connections').values(row).execute();
}

export async function getConnection(db: Kysely<Database>, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listConnections(db: Kysely<Database>): Promise<ConnectionRow[]> {
  return db.selectFrom('connections').selectAll().orderBy('name').orderBy('id').execute();
}

export async function updateConnection(
  db: Kysely<Database>,
  id: string,
  patch: Partial<Omit<ConnectionRow, 'id' | 'created_at' | 'created_by'>>,
): Promise<void> {
  await db
    .updateTable('connections')
    .set({ ...patch, updated_at: patch.updated_at ?? nowIso() })
    .where('id', '=', id)
    .execute();
}

/** Connections whose schedule is due at `now`. */
export async function dueConnections(db: Kysely<Database>, now: string): Promise<ConnectionRow[]> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('next_run_at', 'is not', null)
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .execute();
}

/** Moves a due schedule on, unless another process already did (returns whether this one did). */
export async function advanceSchedule(
  db: Kysely<Database>,
  id: string,
  from: string,
  to: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('connections')
    .set({ next_run_at: to })
    .where('id', '=', id)
    .where('next_run_at', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every table holding a connection's data, in an order that deletes dependants first. */
const CONNECTION_TABLES = [
  'app_memberships',
  'outbox',
  'audit',
  'leavers',
  'source_users',
  'settings_versions',
  'runs',
  'sync_state',
  'photos',
  'departments',
  'group_members',
  'directory_groups',
  'directory_users',
] as const;

/** Deletes a connection and everything stored for it (call inside a transaction). */
export async function deleteConnectionData(db: Kysely<Database>, id: string): Promise<void> {
  for (const table of CONNECTION_TABLES) await db.deleteFrom(table).where('connection_id', '=', id).execute();
  await db.deleteFrom('connections').where('id', '=', id).execute();
}
