import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database, DirectoryUserRow, DirectoryUsersTable, SourceState, UserStatus } from '../schema.ts';
import { idChunkSize, inIds, insertRows, isPostgres } from './bulk.ts';
import { addTo, byDefinedKeys, chunks, IN_LIST_LIMIT, nowIso, toCount } from './chunks.ts';
import { markSeen, notSeen, setStates } from './rounds.ts';

/** A directory user as the sync reads and writes it (booleans and JSON decoded). */
export type DirectoryUser = Omit<DirectoryUserRow, 'connection_id' | 'account_enabled' | 'custom_fields'> & {
  account_enabled: boolean;
  custom_fields: Record<string, unknown>;
};

/**
 * A full user row to write. Optional fields left undefined keep their stored value on
 * update (and take the default — null, {} — on insert); null clears them.
 */
export type DirectoryUserInput = Omit<
  DirectoryUser,
  'created_at' | 'updated_at' | 'custom_fields' | 'seen_round' | 'photo_pending' | 'removed_at'
> & {
  /** When lifecycle.onLeave "remove" took the user out of the directory; null brings them back (left as stored when undefined). */
  removed_at?: string | null;
  /** 1 = check this user's photo in the photo step (left as stored when undefined). */
  photo_pending?: number;
  custom_fields?: Record<string, unknown>;
  seen_round?: string | null;
};

export type UserStatePatch = {
  source_state?: SourceState;
  status?: UserStatus;
  account_enabled?: boolean;
  seen_round?: string | null;
};

/** The shape of `usersync users list --json` (DESIGN.md). */
export type DirectoryUserListing = {
  externalId: string;
  loginAccount: string | null;
  name: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  userType: string | null;
  jobTitle: string | null;
  department: string | null;
  lineManager: string | null;
  country: string | null;
  officeLocation: string | null;
  city: string | null;
  mobilePhone: string | null;
  postalCode: string | null;
  companyName: string | null;
  employeeNo: string | null;
  faxNumber: string | null;
  photo: string | null;
  status: UserStatus;
  /** Custom directory fields (mapping.custom); {} when none. */
  custom: Record<string, unknown>;
};

// Written on every upsert; external_id and created_at are the identity and birth date.
const REQUIRED_COLUMNS = [
  'login_account',
  'name',
  'email',
  'first_name',
  'last_name',
  'user_type',
  'job_title',
  'department',
  'manager_external_id',
  'country',
  'office_location',
  'city',
  'mobile_phone',
  'postal_code',
  'company_name',
  'employee_no',
  'fax_number',
  'account_enabled',
  'source_state',
  'status',
  'fingerprint',
] as const satisfies readonly (keyof DirectoryUsersTable)[];
const OPTIONAL_COLUMNS = [
  'custom_fields',
  'seen_round',
  'photo_pending',
  'removed_at',
] as const satisfies readonly (keyof DirectoryUserInput)[];

export async function getUsersByIds(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<DirectoryUser[]> {
  const out: DirectoryUser[] = [];
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_users')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const row of rows) out.push(decodeUser(row));
  }
  return out;
}

export type UserFingerprint = {
  fingerprint: string;
  source_state: SourceState;
  status: UserStatus;
  seen_round: string | null;
};

/** The cheap part of getUsersByIds, for diffing: id → fingerprint and lifecycle state. */
export async function getUserFingerprints(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, UserFingerprint>> {
  const out = new Map<string, UserFingerprint>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_users')
      .select(['external_id', 'fingerprint', 'source_state', 'status', 'seen_round'])
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const r of rows)
      out.set(r.external_id, {
        fingerprint: r.fingerprint,
        source_state: r.source_state,
        status: r.status,
        seen_round: r.seen_round,
      });
  }
  return out;
}

/** Inserts or fully updates users (multi-row statements; wrap big batches in a transaction). */
export async function upsertUsers(
  db: Kysely<Database>,
  connectionId: string,
  users: readonly DirectoryUserInput[],
): Promise<void> {
  if (users.length === 0) return;
  const now = nowIso();
  for (const group of byDefinedKeys(users, OPTIONAL_COLUMNS)) {
    const optional = OPTIONAL_COLUMNS.filter((c) => group[0][c] !== undefined);
    const columns = ['connection_id', 'external_id', ...REQUIRED_COLUMNS, ...optional, 'created_at', 'updated_at'];
    const rows = group.map((u) => {
      const row: unknown[] = [connectionId, u.external_id];
      for (const c of REQUIRED_COLUMNS) row.push(c === 'account_enabled' ? (u.account_enabled ? 1 : 0) : u[c]);
      for (const c of optional) row.push(c === 'custom_fields' ? JSON.stringify(u.custom_fields ?? {}) : u[c]);
      row.push(now, now);
      return row;
    });
    await insertRows(db, 'directory_users', columns, rows, {
      columns: ['connection_id', 'external_id'],
      update: [...REQUIRED_COLUMNS, ...optional, 'updated_at'],
    });
  }
}

/** Sets lifecycle columns on many users; returns how many rows changed. */
export async function setUserStates(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
  patch: UserStatePatch,
): Promise<number> {
  const set: Record<string, unknown> = { updated_at: nowIso() };
  if (patch.source_state !== undefined) set.source_state = patch.source_state;
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.account_enabled !== undefined) set.account_enabled = patch.account_enabled ? 1 : 0;
  if (patch.seen_round !== undefined) set.seen_round = patch.seen_round;
  return setStates(db, 'directory_users', connectionId, ids, set);
}

/** Records that a full read (round) saw these users; updated_at is left alone. */
export const markUsersSeen = (db: Kysely<Database>, connectionId: string, ids: readonly string[], round: string) =>
  markSeen(db, 'directory_users', connectionId, ids, round);

/** Ids of users still 'present' that the round did not see (gone from the source). */
export const usersNotSeen = (db: Kysely<Database>, connectionId: string, round: string) =>
  notSeen(db, 'directory_users', connectionId, round);

export async function countUsers(
  db: Kysely<Database>,
  connectionId: string,
  filter: { source_state?: SourceState; status?: UserStatus } = {},
): Promise<number> {
  let query = db
    .selectFrom('directory_users')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('connection_id', '=', connectionId);
  if (filter.source_state) query = query.where('source_state', '=', filter.source_state);
  if (filter.status) query = query.where('status', '=', filter.status);
  const row = await query.executeTakeFirstOrThrow();
  return toCount(row.n);
}

/**
 * Every directory user, disabled ones too, in the contract shape, ordered by loginAccount.
 * lineManager is the manager's loginAccount while the manager row is present, else null.
 */
export async function listDirectoryUsers(db: Kysely<Database>, connectionId: string): Promise<DirectoryUserListing[]> {
  const out: DirectoryUserListing[] = [];
  for await (const page of pagesOfDirectoryUsers(db, connectionId)) out.push(...page);
  return out;
}

/** The same listing a page at a time (keyset on loginAccount, externalId), so a big directory streams. */
export async function* pagesOfDirectoryUsers(
  db: Kysely<Database>,
  connectionId: string,
  pageSize = 5000,
): AsyncGenerator<DirectoryUserListing[]> {
  let after: { login: string | null; id: string } | null = null;
  for (;;) {
    const page = await listingQuery(db, connectionId, after, pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1];
    after = { login: last.loginAccount, id: last.externalId };
  }
}

/** One directory user in the contract shape, or undefined when the directory does not have them. */
export async function getDirectoryUserListing(
  db: Kysely<Database>,
  connectionId: string,
  externalId: string,
): Promise<DirectoryUserListing | undefined> {
  return (await listingQuery(db, connectionId, null, 1, externalId))[0];
}

/** What the API's user list narrows by: text in the login, name or email; status; department; manager. */
export interface UserFilter {
  search?: string;
  status?: UserStatus;
  department?: string;
  /** Direct reports of this user (external id); '' = users without a manager in the directory. */
  managerId?: string;
}

/** A page of the directory in the contract shape, after a (loginAccount, externalId) position, with filters. */
export function directoryUsersPage(
  db: Kysely<Database>,
  connectionId: string,
  after: { login: string | null; id: string } | null,
  limit: number,
  filter: UserFilter = {},
): Promise<DirectoryUserListing[]> {
  return listingQuery(db, connectionId, after, limit, undefined, filter);
}

function listingQuery(
  db: Kysely<Database>,
  connectionId: string,
  after: { login: string | null; id: string } | null,
  limit: number,
  only?: string,
  filter: UserFilter = {},
): Promise<DirectoryUserListing[]> {
  let query = db
    .selectFrom('directory_users as u')
    .leftJoin('directory_users as m', (join) =>
      join
        .onRef('m.connection_id', '=', 'u.connection_id')
        .onRef('m.external_id', '=', 'u.manager_external_id')
        .on('m.source_state', '=', 'present'),
    )
    // The photo is its own row, written by the photo step without touching the user's row.
    .leftJoin('photos as p', (join) =>
      join.onRef('p.connection_id', '=', 'u.connection_id').onRef('p.external_id', '=', 'u.external_id'),
    )
    .where('u.connection_id', '=', connectionId)
    // Users lifecycle.onLeave "remove" took out are no longer in the directory.
    .where('u.removed_at', 'is', null)
    .select([
      'u.external_id as externalId',
      'u.login_account as loginAccount',
      'u.name as name',
      'u.email as email',
      'u.first_name as firstName',
      'u.last_name as lastName',
      'u.user_type as userType',
      'u.job_title as jobTitle',
      'u.department as department',
      'm.login_account as lineManager',
      'u.country as country',
      'u.office_location as officeLocation',
      'u.city as city',
      'u.mobile_phone as mobilePhone',
      'u.postal_code as postalCode',
      'u.company_name as companyName',
      'u.employee_no as employeeNo',
      'u.fax_number as faxNumber',
      'p.sha256 as photo',
      'u.status as status',
      'u.custom_fields as custom',
    ])
    .$if(only !== undefined, (q) => q.where('u.external_id', '=', only!))
    .$if(filter.status !== undefined, (q) => q.where('u.status', '=', filter.status!))
    .$if(filter.department !== undefined, (q) => q.where('u.department', '=', filter.department!))
    .$if(filter.managerId !== undefined && filter.managerId !== '', (q) =>
      q.where('u.manager_external_id', '=', filter.managerId!),
    )
    // Top of the org chart: no manager, or a manager the directory does not have.
    .$if(filter.managerId === '', (q) => q.where('m.external_id', 'is', null))
    .$if(filter.search !== undefined && filter.search.trim() !== '', (q) => {
      const like = `%${filter
        .search!.trim()
        .toLowerCase()
        .replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
      return q.where((eb) =>
        eb.or(
          (['u.login_account', 'u.name', 'u.email'] as const).map(
            (col) => sql<SqlBool>`lower(${sql.ref(col)}) like ${like} escape '\\'`,
          ),
        ),
      );
    })
    .orderBy('u.login_account', (ob) => ob.asc().nullsFirst())
    .orderBy('u.external_id')
    .limit(limit);
  if (after) {
    // Rows after (login, id) in (login nulls first, id) order.
    const { login, id } = after;
    // A row-value comparison lets both databases walk the (connection, login, id) index.
    query = query.where((eb) =>
      login === null
        ? eb.or([eb('u.login_account', 'is not', null), eb('u.external_id', '>', id)])
        : sql<SqlBool>`(${sql.ref('u.login_account')}, ${sql.ref('u.external_id')}) > (${login}, ${id})`,
    );
  }
  return query.execute().then((rows) => rows.map((r) => ({ ...r, custom: parseObject(r.custom) })));
}

function decodeUser(row: DirectoryUserRow): DirectoryUser {
  const { connection_id: _, account_enabled, custom_fields, ...rest } = row;
  return { ...rest, account_enabled: account_enabled === 1, custom_fields: parseObject(custom_fields) };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Users holding any of these login accounts (exact match; present ones unless told otherwise): lowercased login → holders. */
export async function usersWithLoginAccounts(
  db: Kysely<Database>,
  connectionId: string,
  logins: readonly string[],
  options: { presentOnly?: boolean } = {},
): Promise<Map<string, { id: string }[]>> {
  const out = new Map<string, { id: string }[]>();
  for (const chunk of chunks([...new Set(logins)], idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_users')
      .select(['external_id', 'login_account'])
      .where('connection_id', '=', connectionId)
      .$if(options.presentOnly ?? true, (q) => q.where('source_state', '=', 'present'))
      .where(inIds(db, 'login_account', chunk))
      .execute();
    for (const r of rows) {
      const key = r.login_account!.toLowerCase();
      addTo(out, key, { id: r.external_id });
    }
  }
  return out;
}

/** The column of each profile field. */
const FIELD_COLUMNS = {
  loginAccount: 'login_account',
  name: 'name',
  email: 'email',
  firstName: 'first_name',
  lastName: 'last_name',
  userType: 'user_type',
  jobTitle: 'job_title',
  department: 'department',
  country: 'country',
  officeLocation: 'office_location',
  city: 'city',
  mobilePhone: 'mobile_phone',
  postalCode: 'postal_code',
  companyName: 'company_name',
  employeeNo: 'employee_no',
  faxNumber: 'fax_number',
} as const;

/**
 * Accounts that did not come from Entra (`local`) whose `field` equals one of the values, case-insensitively:
 * lowercased value → their ids. Local accounts are few (imported by hand), so the comparison needs no index.
 */
export async function localAccountsMatching(
  db: Kysely<Database>,
  connectionId: string,
  field: keyof typeof FIELD_COLUMNS,
  values: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const wanted = [...new Set(values.map((v) => v.toLowerCase()))];
  const column = FIELD_COLUMNS[field];
  for (const chunk of chunks(wanted, idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_users')
      .select(['external_id', sql<string>`lower(${sql.ref(column)})`.as('value')])
      .where('connection_id', '=', connectionId)
      .where('source_state', '=', 'local')
      .where(
        isPostgres(db)
          ? sql<SqlBool>`lower(${sql.ref(column)}) = any(${chunk}::text[])`
          : sql<SqlBool>`lower(${sql.ref(column)}) in (${sql.join(chunk)})`,
      )
      .execute();
    for (const r of rows) {
      addTo(out, r.value, r.external_id);
    }
  }
  return out;
}

/** A local account adopted by the Entra user it matched: the row takes the Entra object id (inside the caller's transaction). */
export async function adoptAccount(
  db: Kysely<Database>,
  connectionId: string,
  localId: string,
  entraId: string,
): Promise<void> {
  await db
    .updateTable('directory_users')
    .set({ external_id: entraId, updated_at: nowIso() })
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', localId)
    .execute();
}

/** Whether the directory holds accounts that did not come from Entra (imported; matched by the next sync). */
export async function hasLocalAccounts(db: Kysely<Database>, connectionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('directory_users')
    .select('external_id')
    .where('connection_id', '=', connectionId)
    .where('source_state', '=', 'local')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** How many active direct reports each of these users has (the org chart's counts). */
export async function directReportCounts(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const chunk of chunks(ids, IN_LIST_LIMIT)) {
    const rows = await db
      .selectFrom('directory_users')
      .select(['manager_external_id', (eb) => eb.fn.countAll().as('n')])
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null)
      .where('status', '=', 'active')
      .where('manager_external_id', 'in', chunk)
      .groupBy('manager_external_id')
      .execute();
    for (const r of rows) out.set(r.manager_external_id!, Number(r.n));
  }
  return out;
}
