import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import { checkStore, type Store } from './db.ts';
import { corruptStoreError, sqliteFailure, StoreError } from './errors.ts';

// An online, consistent copy of the embedded store: SQLite's `VACUUM INTO` reads one snapshot (a sync may keep
// writing meanwhile) and writes a compact file that is a complete store of its own. PostgreSQL has pg_dump.

export interface Backup {
  /** The copy's absolute path. */
  file: string;
  bytes: number;
  /** The store that was copied. */
  source: string;
  users: number;
}

export const POSTGRES_BACKUP_ADVICE =
  'back it up with pg_dump, e.g. `pg_dump --format=custom --file usersync.dump "$DATABASE_URL"`, and restore it with pg_restore (docs/operations.md).';

export async function backupStore(store: Store, target: string): Promise<Backup> {
  if (store.dialect !== 'sqlite') {
    throw new StoreError(
      'STORE_UNREACHABLE',
      `usersync backup copies the embedded SQLite store, and this store is PostgreSQL (${store.location}): ${POSTGRES_BACKUP_ADVICE}`,
      { location: store.location },
    );
  }
  const file = resolve(target);
  if (existsSync(file))
    throw new StoreError(
      'STORE_CANNOT_OPEN',
      `${file} already exists: usersync backup never overwrites a file; choose a new name or remove it first.`,
      { location: file },
    );
  if (!existsSync(dirname(file)) || !statSync(dirname(file)).isDirectory()) {
    throw new StoreError(
      'STORE_CANNOT_OPEN',
      `The folder ${dirname(file)} does not exist: create it first, or choose a file in an existing folder.`,
      { location: file },
    );
  }
  if (file === store.location)
    throw new StoreError('STORE_CANNOT_OPEN', `${file} is the store itself: choose another file.`, { location: file });
  // A damaged store is not copied as if it were a good one.
  await checkStore(store);
  await sql`vacuum into ${file}`.execute(store.db);
  // The copy must open and pass the same check before it is called a backup.
  try {
    const copy = new DatabaseSync(file, { readOnly: true });
    try {
      const check = (copy.prepare('pragma quick_check(1)').get() as { quick_check: string }).quick_check;
      if (check !== 'ok') throw corruptStoreError(file, `quick_check of the copy: ${check}`);
      const { count } = copy.prepare('select count(*) as count from directory_users').get() as { count: number };
      return { file, bytes: statSync(file).size, source: store.location, users: Number(count) };
    } finally {
      copy.close();
    }
  } catch (error) {
    throw sqliteFailure(error, file);
  }
}
