import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely';
import { StoreError } from './errors.ts';
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
};

// What lock.ts needs to open its own session; kept out of Store so it is never logged.
const connectionStrings = new WeakMap<Store, string>();

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const store = isPostgresUrl(options.databaseUrl)
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : openSqlite(options.dataDir ?? './.usersync');
  try {
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
export function transaction<T>(store: Store | Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const db = store instanceof Kysely ? store : store.db;
  return db.transaction().execute(fn);
}

/** @internal the full connection string of a PostgreSQL store (for dedicated sessions). */
export function postgresConnectionString(store: Store): string {
  const url = connectionStrings.get(store);
  if (!url) throw new Error(`store at ${store.location} is not a PostgreSQL store`);
  return url;
}

function openSqlite(dataDir: string): Store {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, 'usersync.db');
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

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
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
