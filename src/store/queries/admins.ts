import type { Kysely, Selectable } from 'kysely';
import type { AdminsTable, ApiTokensTable, Database } from '../schema.ts';
import { nowIso } from './chunks.ts';

// Admins, their sessions, API tokens, one-time sign-in links, and the trail of what admins did. Tokens of every kind
// are stored as SHA-256 hashes only (admins/tokens.ts); the clear token exists once, in the response that made it.

export type AdminRow = Selectable<AdminsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;

export async function insertAdmin(db: Kysely<Database>, row: AdminRow): Promise<void> {
  await db.insertInto('admins').values(row).execute();
}

export async function getAdminByEmail(db: Kysely<Database>, email: string): Promise<AdminRow | undefined> {
  return db.selectFrom('admins').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function getAdmin(db: Kysely<Database>, id: string): Promise<AdminRow | undefined> {
  return db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAdmins(db: Kysely<Database>): Promise<AdminRow[]> {
  return db.selectFrom('admins').selectAll().orderBy('email').execute();
}

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setAdminPassword(db: Kysely<Database>, id: string, hash: string): Promise<void> {
  await db.updateTable('admins').set({ password_hash: hash }).where('id', '=', id).execute();
}

export async function deleteAdmin(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('admin_id', '=', id).execute();
  await db.deleteFrom('sign_in_links').where('admin_id', '=', id).execute();
  await db.deleteFrom('admins').where('id', '=', id).execute();
}

export async function markSignedIn(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('admins').set({ last_sign_in_at: nowIso() }).where('id', '=', id).execute();
}

// Sessions -----------------------------------------------------------------------------------------

export async function insertSession(
  db: Kysely<Database>,
  row: { token_hash: string; admin_id: string; csrf_token: string; expires_at: string },
): Promise<void> {
  await db
    .insertInto('admin_sessions')
    .values({ ...row, created_at: nowIso() })
    .execute();
}

/** A live session with its admin, or undefined (unknown or expired). */
export async function getSession(db: Kysely<Database>, tokenHash: string, now = nowIso()) {
  return db
    .selectFrom('admin_sessions')
    .innerJoin('admins', 'admins.id', 'admin_sessions.admin_id')
    .select(['admin_sessions.admin_id', 'admin_sessions.csrf_token', 'admin_sessions.expires_at', 'admins.email'])
    .where('admin_sessions.token_hash', '=', tokenHash)
    .where('admin_sessions.expires_at', '>', now)
    .executeTakeFirst();
}

export async function deleteSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
}

export async function purgeExpiredSessions(db: Kysely<Database>, now = nowIso()): Promise<void> {
  await db.deleteFrom('admin_sessions').where('expires_at', '<=', now).execute();
  await db.deleteFrom('sign_in_links').where('expires_at', '<=', now).execute();
}

// Sign-in links ------------------------------------------------------------------------------------

export async function insertSignInLink(
  db: Kysely<Database>,
  row: { token_hash: string; admin_id: string; expires_at: string },
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({ ...row, used_at: null })
    .execute();
}

/** Uses a sign-in link once: returns its admin, or undefined (unknown, expired or already used). */
export async function useSignInLink(
  db: Kysely<Database>,
  tokenHash: string,
  now = nowIso(),
): Promise<string | undefined> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return undefined;
  const row = await db
    .selectFrom('sign_in_links')
    .select('admin_id')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row?.admin_id;
}

// Setup codes (the first admin, made in the browser) -----------------------------------------------

export async function insertSetupCode(db: Kysely<Database>, row: { token_hash: string; expires_at: string }) {
  await db
    .insertInto('setup_codes')
    .values({ ...row, used_at: null })
    .execute();
}

/** Uses a setup code once: true when it was valid (known, unused, not expired). */
export async function useSetupCode(db: Kysely<Database>, tokenHash: string, now = nowIso()): Promise<boolean> {
  const result = await db
    .updateTable('setup_codes')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// API tokens ---------------------------------------------------------------------------------------

export async function insertApiToken(db: Kysely<Database>, row: ApiTokenRow): Promise<void> {
  await db.insertInto('api_tokens').values(row).execute();
}

export async function getApiTokenByHash(db: Kysely<Database>, tokenHash: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listApiTokens(db: Kysely<Database>): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().where('revoked_at', 'is', null).orderBy('created_at').execute();
}

export async function revokeApiToken(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function touchApiToken(db: Kysely<Database>, id: string, at = nowIso()): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

// Admin actions ------------------------------------------------------------------------------------

export interface AdminAction {
  seq: number;
  at: string;
  actor: string;
  action: string;
  connectionId: string | null;
  target: string | null;
  detail: unknown;
}

export async function recordAdminAction(
  db: Kysely<Database>,
  action: { actor: string; action: string; connectionId?: string | null; target?: string | null; detail?: unknown },
): Promise<void> {
  await db
    .insertInto('admin_actions')
    .values({
      at: nowIso(),
      actor: action.actor,
      action: action.action,
      connection_id: action.connectionId ?? null,
      target: action.target ?? null,
      detail: action.detail === undefined ? null : JSON.stringify(action.detail),
    })
    .execute();
}

/** Admin actions, newest first, before `beforeSeq` (0 = from the newest). */
export async function adminActionsPage(
  db: Kysely<Database>,
  options: { connectionId?: string; beforeSeq?: number; limit: number },
): Promise<AdminAction[]> {
  let query = db.selectFrom('admin_actions').selectAll();
  if (options.connectionId) query = query.where('connection_id', '=', options.connectionId);
  if (options.beforeSeq) query = query.where('seq', '<', options.beforeSeq);
  const rows = await query.orderBy('seq', 'desc').limit(options.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    connectionId: r.connection_id,
    target: r.target,
    detail: r.detail === null ? null : JSON.parse(r.detail),
  }));
}
