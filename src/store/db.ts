import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely';
import { corruptStoreError, processUser, StoreError } from './errors.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';

export type StoreDialect = 'sqlite' | 'postgres';

export type Store = {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** The SQLite file, or the PostgreSQL URL without its password (safe to log). */
  location: string;
  close(): Promise<void>;
};

export type OpenStoreOptions = {
  /** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else the embedded SQLite file. */
  databaseUrl?: string;
  /** Folder of the embedded store (USERSYNC_DATA); default `./.usersync`. */
  dataDir?: string;
  /** PostgreSQL pool size; default 10. */
  poolSize?: number;
  /**
   * Create the store when there is none yet (default true). Read commands pass false: they fail with STORE_MISSING
   * instead of leaving an empty store behind.
   */
  create?: boolean;
};

// What lock.ts needs to open its own session; kept out of Store so it is never logged.
const connectionStrings = new WeakMap<Store, string>();

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const create = options.create ?? true;
  const store = isPostgresUrl(options.databaseUrl)
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : openSqlite(options.dataDir ?? './.usersync', create);
  try {
    if (!create && store.dialect === 'postgres' && !(await hasPostgresSchema(store))) {
      throw new StoreError(
        'STORE_MISSING',
        `No usersync directory exists in the PostgreSQL database ${store.location} yet: run \`usersync sync\` to create it, or check DATABASE_URL.`,
        { location: store.location },
      );
    }
    await migrate(store);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

/**
 * Runs fn in one transaction: committed when fn resolves, rolled back when it throws.
 * Inside fn use only `trx`: on SQLite the store has a single connection, so a query on
 * `store.db` would wait for the transaction to end — forever.
 */
export function transaction<T>(
  store: Store | Kysely<Database>,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const db = store instanceof Kysely ? store : store.db;
  return db.transaction().execute(fn);
}

/** @internal the full connection string of a PostgreSQL store (for dedicated sessions). */
export function postgresConnectionString(store: Store): string {
  const url = connectionStrings.get(store);
  if (!url) throw new Error(`store at ${store.location} is not a PostgreSQL store`);
  return url;
}

/**
 * A cheap check before a run writes (SQLite's `quick_check`: every page's structure, not index contents; about 0.2 s for a
 * 100k-user store): a damaged file is refused before anything is written to it, with what to do. PostgreSQL checks its own pages.
 */
export async function checkStore(store: Store): Promise<void> {
  if (store.dialect !== 'sqlite') return;
  const { rows } = await sql<{ quick_check: string }>`pragma quick_check(1)`.execute(store.db);
  const result = rows[0]?.quick_check ?? 'no answer';
  if (result !== 'ok')
    throw corruptStoreError(
      store.location,
      `quick_check: ${result
        .replace(/\*\*\* in database main \*\*\*\s*/, '')
        .replace(/\s+/g, ' ')
        .trim()}`,
    );
}

function openSqlite(dataDir: string, create: boolean): Store {
  const dir = resolve(dataDir);
  const file = resolve(dir, 'usersync.db');
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new StoreError(
      'STORE_NOT_A_FOLDER',
      `USERSYNC_DATA points at ${dir}, which is a file; it must be a folder (usersync keeps usersync.db in it): point USERSYNC_DATA at a folder, or move the file away.`,
      { location: dir },
    );
  }
  if (!create && !existsSync(file)) {
    throw new StoreError(
      'STORE_MISSING',
      `No directory exists at ${dir} yet (no usersync.db there): run \`usersync sync\` to create it, or point USERSYNC_DATA at the folder that holds it.`,
      { location: file },
    );
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StoreError(
      'STORE_CANNOT_OPEN',
      `The folder ${dir} (USERSYNC_DATA) cannot be created by ${processUser()} (${code ?? (error as Error).message}): create it with write permission for that user, or point USERSYNC_DATA at a folder that user can write.`,
      { location: dir },
      { cause: error },
    );
  }
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect({ path: file }) });
  return {
    db,
    dialect: 'sqlite',
    location: file,
    async close() {
      // Keeps the query planner's statistics fresh; cheap when nothing changed.
      await sql`pragma optimize`.execute(db).catch(() => {});
      await db.destroy();
    },
  };
}

async function openPostgres(url: string, poolSize: number): Promise<Store> {
  const location = redact(url);
  // The driver loads only for PostgreSQL stores: the embedded store's processes stay smaller.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'usersync' });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      'STORE_UNREACHABLE',
      `Cannot open the PostgreSQL store at ${location} (${reason}): check DATABASE_URL and that the server is running and accepts connections.`,
      { location },
      { cause: error },
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const store: Store = {
    db,
    dialect: 'postgres',
    location,
    async close() {
      await db.destroy();
    },
  };
  connectionStrings.set(store, url);
  return store;
}

async function hasPostgresSchema(store: Store): Promise<boolean> {
  const { rows } = await sql<{ name: string | null }>`select to_regclass('kysely_migration')::text as name`.execute(
    store.db,
  );
  return rows[0]?.name !== null && rows[0]?.name !== undefined;
}

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  // A damaged, read-only or unopenable file already says what to do.
  if (error instanceof StoreError) throw error;
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      'STORE_MIGRATION_FAILED',
      `Could not migrate the store at ${store.location}${failed ? ` (migration ${failed})` : ''}: ${reason}. Nothing was changed by the failed migration; fix the cause and start again.`,
      { location: store.location, migration: failed },
      { cause: error },
    );
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
