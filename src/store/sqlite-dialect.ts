import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { sqliteFailure } from './errors.ts';

// A Kysely dialect over Node's built-in `node:sqlite` (no native addon). One
// connection per store, guarded by a mutex, like Kysely's own SqliteDialect.
// Every SQLite failure that an operator must act on (a damaged file, permissions, a full disk) leaves
// here as a StoreError naming the file and the fix.

export type NodeSqliteDialectConfig = {
  /** Path of the database file, or ':memory:'. */
  path: string;
  /** How long a statement waits for another process's write lock, in ms. */
  busyTimeoutMs?: number;
};

export class NodeSqliteDialect implements Dialect {
  readonly #config: NodeSqliteDialectConfig;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

// SQLite runs DDL inside transactions; saying so makes the Migrator wrap migrations in
// one `begin immediate`, which also serialises two processes migrating the same file.
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Opens a file with the pragmas usersync relies on (WAL, busy timeout, foreign keys). */
export function openSqliteDatabase(path: string, busyTimeoutMs = 10_000): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
  db.exec(`pragma busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  // 16 KB pages (set before the first write; ignored for an existing file): photos (a few KB each) pack
  // several to a page instead of one, which halves what a 100k-user sync writes.
  db.exec('pragma page_size = 16384');
  if (path !== ':memory:') db.exec('pragma journal_mode = wal');
  db.exec('pragma synchronous = normal');
  // 16 MB of page cache (default 2 MB): index updates of a 100k-user tenant stay in memory.
  db.exec('pragma cache_size = -16000');
  db.exec('pragma foreign_keys = on');
  return db;
}

class NodeSqliteDriver implements Driver {
  readonly #config: NodeSqliteDialectConfig;
  readonly #mutex = new ConnectionMutex();
  #db: DatabaseSync | undefined;
  #connection: NodeSqliteConnection | undefined;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    try {
      this.#db = openSqliteDatabase(this.#config.path, this.#config.busyTimeoutMs);
    } catch (error) {
      throw sqliteFailure(error, this.#config.path);
    }
    this.#connection = new NodeSqliteConnection(this.#db, this.#config.path);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection!;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // Writers take the write lock up front: a deferred transaction that later upgrades
    // can fail with SQLITE_BUSY at once, without honouring busy_timeout.
    const begin = settings.accessMode === 'read only' ? 'begin deferred' : 'begin immediate';
    await connection.executeQuery(CompiledQuery.raw(begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.#connection?.clear();
    if (this.#db?.isOpen) this.#db.close();
  }
}

const STATEMENT_CACHE_SIZE = 200;

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #path: string;
  // Chunked multi-row statements repeat the same SQL thousands of times per run;
  // preparing each once saves most of the per-statement cost.
  readonly #statements = new Map<string, { stmt: StatementSync; reader: boolean }>();

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
  }

  clear(): void {
    this.#statements.clear();
  }

  #prepare(sql: string): { stmt: StatementSync; reader: boolean } {
    const cached = this.#statements.get(sql);
    if (cached) {
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const stmt = this.#db.prepare(sql);
    const entry = { stmt, reader: stmt.columns().length > 0 };
    this.#statements.set(sql, entry);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value!;
      this.#statements.delete(oldest);
    }
    return entry;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return this.#execute<R>(compiledQuery);
    } catch (error) {
      throw sqliteFailure(error, this.#path);
    }
  }

  #execute<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const { stmt, reader } = this.#prepare(compiledQuery.sql);
    const params = bindable(compiledQuery.parameters);
    if (reader) {
      return { rows: stmt.all(...params) as R[] };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return {
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 1000): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('node:sqlite dialect: only select queries can be streamed');
    }
    try {
      // Not cached: an unfinished iterator keeps its statement busy.
      const stmt = this.#db.prepare(compiledQuery.sql);
      let rows: R[] = [];
      for (const row of stmt.iterate(...bindable(compiledQuery.parameters))) {
        rows.push(row as R);
        if (rows.length >= chunkSize) {
          yield { rows };
          rows = [];
        }
      }
      if (rows.length > 0) yield { rows };
    } catch (error) {
      throw sqliteFailure(error, this.#path);
    }
  }
}

function bindable(parameters: readonly unknown[]): SQLInputValue[] {
  return parameters.map((value) => {
    if (value === undefined) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    return value as SQLInputValue;
  });
}

class ConnectionMutex {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#promise) await this.#promise;
    this.#promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  unlock(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
