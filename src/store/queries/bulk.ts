import { CompiledQuery, PostgresAdapter, sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database } from '../schema.ts';
import { chunks, IN_LIST_LIMIT, rowsPerInsert } from './chunks.ts';

// Bulk statements written directly. At 100k rows Kysely's generic builder spends more
// time parsing value objects than the database spends inserting them, and PostgreSQL
// plans one array parameter far faster than thousands of scalar ones.

export type OnConflict = { columns: readonly string[]; update: readonly string[] | 'nothing' };

/** Columns stored as integers (everything else written in bulk is text). */
const INTEGER_COLUMNS = new Set(['account_enabled', 'photo_pending', 'pending', 'attempts']);
const PG_ROWS_PER_INSERT = 5_000;
const PG_IDS_PER_QUERY = 5_000;

const cache = new Map<string, string>();

export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** How many ids one `inIds` condition should carry. */
export function idChunkSize(db: Kysely<Database>): number {
  return isPostgres(db) ? PG_IDS_PER_QUERY : IN_LIST_LIMIT;
}

/** `column in (…ids)`: one array parameter on PostgreSQL, an IN list on SQLite. */
export function inIds(db: Kysely<Database>, column: string, ids: readonly string[]): RawBuilder<SqlBool> {
  return isPostgres(db)
    ? sql<SqlBool>`${sql.ref(column)} = any(${[...ids]}::text[])`
    : sql<SqlBool>`${sql.ref(column)} in (${sql.join(ids)})`;
}

/**
 * Inserts rows (arrays in `columns` order) in chunks; returns rows inserted or updated.
 * Rows repeating a conflict key collapse to the last one (PostgreSQL refuses to update
 * a row twice in one statement).
 */
export async function insertRows(
  db: Kysely<Database>,
  table: keyof Database,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  /** null: plain inserts (an append-only table such as the audit). */
  conflict: OnConflict | null,
): Promise<number> {
  if (rows.length === 0) return 0;
  const unique = conflict ? lastPerKey(columns, rows, conflict.columns) : rows;
  const postgres = isPostgres(db);
  let affected = 0;
  for (const chunk of chunks(unique, postgres ? PG_ROWS_PER_INSERT : rowsPerInsert(columns.length))) {
    const query = postgres
      ? CompiledQuery.raw(
          pgInsertSql(table, columns, conflict),
          columns.map((_, c) => chunk.map((row) => row[c])),
        )
      : CompiledQuery.raw(sqliteInsertSql(table, columns, chunk.length, conflict), chunk.flat());
    const result = await db.executeQuery(query);
    affected += Number(result.numAffectedRows ?? 0n);
  }
  return affected;
}

function lastPerKey(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  keyColumns: readonly string[],
): (readonly unknown[])[] {
  const positions = keyColumns.map((k) => columns.indexOf(k));
  const byKey = new Map<string, readonly unknown[]>();
  for (const row of rows) byKey.set(positions.map((p) => String(row[p])).join('\u0000'), row);
  return byKey.size === rows.length ? [...rows] : [...byKey.values()];
}

const q = (name: string) => `"${name}"`;

function conflictClause(conflict: OnConflict | null): string {
  if (conflict === null) return '';
  const action =
    conflict.update === 'nothing' || conflict.update.length === 0
      ? 'do nothing'
      : `do update set ${conflict.update.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  return `on conflict (${conflict.columns.map(q).join(', ')}) ${action}`;
}

// The SQL depends only on the shape, so it is built once (and SQLite prepares it once).
function cached(key: string, build: () => string): string {
  let text = cache.get(key);
  if (!text) {
    if (cache.size > 500) cache.clear();
    cache.set(key, (text = build()));
  }
  return text;
}

function sqliteInsertSql(
  table: string,
  columns: readonly string[],
  rowCount: number,
  conflict: OnConflict | null,
): string {
  return cached(`sqlite|${table}|${columns}|${rowCount}|${conflict?.columns}|${conflict?.update}`, () => {
    const tuple = `(${columns.map(() => '?').join(',')})`;
    return `insert into ${q(table)} (${columns.map(q).join(', ')}) values ${Array(rowCount).fill(tuple).join(',')} ${conflictClause(conflict)}`;
  });
}

// One array parameter per column, expanded by unnest: the statement has a fixed text
// whatever the row count.
function pgInsertSql(table: string, columns: readonly string[], conflict: OnConflict | null): string {
  return cached(`pg|${table}|${columns}|${conflict?.columns}|${conflict?.update}`, () => {
    const arrays = columns.map((c, i) => `$${i + 1}::${INTEGER_COLUMNS.has(c) ? 'integer' : 'text'}[]`);
    return `insert into ${q(table)} (${columns.map(q).join(', ')}) select * from unnest(${arrays.join(', ')}) ${conflictClause(conflict)}`;
  });
}
