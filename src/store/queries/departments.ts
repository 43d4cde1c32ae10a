import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { idChunkSize, inIds, insertRows } from './bulk.ts';
import { chunks, nowIso } from './chunks.ts';

/** The shape of `usersync departments list --json`. */
export type DepartmentListing = { name: string; members: string[] };

function distinctNames(names: Iterable<string | null | undefined>): string[] {
  const out = new Set<string>();
  for (const name of names) if (name) out.add(name);
  return [...out];
}

/** Creates the departments not yet known (empty names ignored); returns how many were created. */
export async function ensureDepartments(
  db: Kysely<Database>,
  connectionId: string,
  names: Iterable<string | null | undefined>,
  runId: string | null,
): Promise<number> {
  const now = nowIso();
  const rows = distinctNames(names).map((name) => [connectionId, name, now, runId]);
  return insertRows(db, 'departments', ['connection_id', 'name', 'created_at', 'created_run_id'], rows, {
    columns: ['connection_id', 'name'],
    update: 'nothing',
  });
}

/** Which of these names have no department yet (for dry runs). */
export async function missingDepartments(
  db: Kysely<Database>,
  connectionId: string,
  names: Iterable<string | null | undefined>,
): Promise<string[]> {
  const wanted = distinctNames(names);
  const known = new Set<string>();
  for (const chunk of chunks(wanted, idChunkSize(db))) {
    const rows = await db
      .selectFrom('departments')
      .select('name')
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'name', chunk))
      .execute();
    for (const r of rows) known.add(r.name);
  }
  return wanted.filter((n) => !known.has(n));
}

/** Departments by name, each with the sorted loginAccounts of present users in it. */
export async function listDepartments(db: Kysely<Database>, connectionId: string): Promise<DepartmentListing[]> {
  const departments = await db
    .selectFrom('departments')
    .select('name')
    .where('connection_id', '=', connectionId)
    .orderBy('name')
    .execute();
  const listing = departments.map((d): DepartmentListing => ({ name: d.name, members: [] }));
  const byName = new Map(listing.map((d) => [d.name, d]));
  const users = await db
    .selectFrom('directory_users')
    .select(['department', 'login_account'])
    .where('connection_id', '=', connectionId)
    .where('source_state', '=', 'present')
    .where('department', 'is not', null)
    .where('login_account', 'is not', null)
    .orderBy('login_account')
    .execute();
  for (const u of users) byName.get(u.department!)?.members.push(u.login_account!);
  return listing;
}
