import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

// A connection's settings are its newest version; every version is kept, so `config show --history` can say who
// changed what and when. A version is written whole and never changed.

export interface SettingsVersion {
  version: number;
  document: Record<string, unknown>;
  changedAt: string;
  changedBy: string;
}

/** The current settings, or null when they were never set (the defaults apply). */
export async function getSettings(db: Kysely<Database>, connectionId: string): Promise<SettingsVersion | null> {
  const row = await db
    .selectFrom('settings_versions')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? decode(row) : null;
}

/** Every version, newest first. */
export async function listSettingsVersions(db: Kysely<Database>, connectionId: string): Promise<SettingsVersion[]> {
  const rows = await db
    .selectFrom('settings_versions')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map(decode);
}

/** Stores a new version (validate it first). Returns it; an identical document is not stored again and returns the current one. */
export async function saveSettings(
  db: Kysely<Database>,
  connectionId: string,
  document: Record<string, unknown>,
  changedBy: string,
  at = new Date().toISOString(),
): Promise<{ saved: boolean; version: SettingsVersion }> {
  return db.transaction().execute(async (trx) => {
    const current = await getSettings(trx, connectionId);
    if (current && JSON.stringify(current.document) === JSON.stringify(document))
      return { saved: false, version: current };
    const version = (current?.version ?? 0) + 1;
    await trx
      .insertInto('settings_versions')
      .values({
        connection_id: connectionId,
        version,
        document: JSON.stringify(document),
        changed_at: at,
        changed_by: changedBy,
      })
      .execute();
    return { saved: true, version: { version, document, changedAt: at, changedBy } };
  });
}

function decode(row: { version: number; document: string; changed_at: string; changed_by: string }): SettingsVersion {
  return {
    version: Number(row.version),
    document: JSON.parse(row.document) as Record<string, unknown>,
    changedAt: row.changed_at,
    changedBy: row.changed_by,
  };
}
