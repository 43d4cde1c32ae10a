// Bounds for statements that carry many values: IN lists stay at 500, and a multi-row
// insert at ≤ 30,000 parameters (SQLite allows 32,766, PostgreSQL 65,535).
export const IN_LIST_LIMIT = 500;
const PARAMETER_LIMIT = 30_000;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Rows per multi-row insert for a table of `columns` columns. */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.min(500, Math.floor(PARAMETER_LIMIT / columns)));
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Groups rows by which of the optional keys they define, so each insert has one column set. */
export function byDefinedKeys<T extends object>(rows: readonly T[], optional: readonly (keyof T)[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const signature = optional.map((k) => (row[k] === undefined ? '0' : '1')).join('');
    let group = groups.get(signature);
    if (!group) groups.set(signature, (group = []));
    group.push(row);
  }
  return [...groups.values()];
}

/** PostgreSQL returns count(*) as a string (bigint), SQLite as a number. */
export function toCount(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Appends `value` to the list `map` keeps under `key` (grouping query rows by a column). */
export function addTo<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
