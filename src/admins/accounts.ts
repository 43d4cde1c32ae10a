import { randomUUID } from 'node:crypto';
import { UsersyncError } from '../core/errors.ts';
import {
  countAdmins,
  getAdminByEmail,
  insertAdmin,
  insertApiToken,
  insertSession,
  insertSetupCode,
  insertSignInLink,
  markSignedIn,
  recordAdminAction,
  useSetupCode,
  type AdminRow,
  type Store,
} from '../store/index.ts';
import { checkPassword, hashPassword, hashToken, newToken, verifyPassword } from './credentials.ts';

// Admin accounts, sessions, sign-in links and API tokens: the behaviour behind `usersync admin create`, `usersync token
// create` and the API's sign-in routes. Clear tokens are returned once and never stored.

export const SESSION_HOURS = 12;
export const SIGN_IN_LINK_MINUTES = 15;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A new admin's email (normalised) and password, checked; an error names the field at fault. */
function checkNewAdmin(input: { email: string; password?: string | null }): string {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email))
    throw new UsersyncError('invalid_email', `email "${input.email}" is not an email address`, {
      hint: "give the admin's address, such as it@example.com",
      context: { field: 'email' },
    });
  if (input.password !== undefined && input.password !== null) checkPassword(input.password);
  return email;
}

export async function createAdmin(
  store: Store,
  input: { email: string; password?: string | null },
  actor: string,
): Promise<AdminRow> {
  const email = checkNewAdmin(input);
  if (await getAdminByEmail(store.db, email))
    throw new UsersyncError('admin_exists', `an admin with email ${email} already exists`, {
      hint: 'sign in with it, or choose another address',
      context: { field: 'email' },
    });
  const row: AdminRow = {
    id: randomUUID(),
    email,
    password_hash: input.password ? await hashPassword(input.password) : null,
    created_at: new Date().toISOString(),
    last_sign_in_at: null,
  };
  await insertAdmin(store.db, row);
  await recordAdminAction(store.db, { actor, action: 'admin.created', target: email });
  return row;
}

export const SETUP_CODE_HOURS = 24;

/** A one-time code that creates the first admin in the browser (`usersync serve` prints it while there is none). */
export async function createSetupCode(store: Store, now = Date.now()): Promise<string> {
  const code = newToken('usc');
  await insertSetupCode(store.db, {
    token_hash: hashToken(code),
    expires_at: new Date(now + SETUP_CODE_HOURS * 3_600_000).toISOString(),
  });
  return code;
}

/**
 * The first admin, made with a setup code: refused once any admin exists, and the code works once. The email and
 * password are checked before the code is used, so a typo does not cost the code.
 */
export async function createFirstAdmin(
  store: Store,
  input: { setupCode: string; email: string; password: string },
): Promise<AdminRow> {
  if (await hasAdmins(store))
    throw new UsersyncError('admin_exists', 'the first admin exists already', {
      hint: 'sign in; an admin can add others on the Admins page',
    });
  checkNewAdmin(input);
  if (!(await useSetupCode(store.db, hashToken(input.setupCode.trim()))))
    throw new UsersyncError('forbidden', 'the setup code is wrong, used or expired', {
      hint: '`usersync serve` prints a new setup link each time it starts without an admin; or run `usersync admin create` on the server',
      context: { field: 'setupCode' },
    });
  return createAdmin(store, { email: input.email, password: input.password }, 'setup code');
}

export async function hasAdmins(store: Store): Promise<boolean> {
  return (await countAdmins(store.db)) > 0;
}

/** Checks an email and password; the same answer (null) for an unknown email and a wrong password. */
export async function checkSignIn(store: Store, email: string, password: string): Promise<AdminRow | null> {
  const admin = await getAdminByEmail(store.db, email.trim());
  const ok = await verifyPassword(password, admin?.password_hash ?? null);
  return ok && admin ? admin : null;
}

export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: string;
}

export async function startSession(store: Store, admin: { id: string }, now = Date.now()): Promise<NewSession> {
  const token = newToken('uss');
  const csrfToken = newToken('csrf');
  const expiresAt = new Date(now + SESSION_HOURS * 3_600_000).toISOString();
  await insertSession(store.db, {
    token_hash: hashToken(token),
    admin_id: admin.id,
    csrf_token: csrfToken,
    expires_at: expiresAt,
  });
  await markSignedIn(store.db, admin.id);
  return { token, csrfToken, expiresAt };
}

/** A one-time link token that signs an admin in (the demo prints one; admins without a password use it). */
export async function createSignInLink(
  store: Store,
  adminId: string,
  now = Date.now(),
): Promise<{ token: string; expiresAt: string }> {
  const token = newToken('usl');
  const expiresAt = new Date(now + SIGN_IN_LINK_MINUTES * 60_000).toISOString();
  await insertSignInLink(store.db, { token_hash: hashToken(token), admin_id: adminId, expires_at: expiresAt });
  return { token, expiresAt };
}

export async function createApiToken(
  store: Store,
  name: string,
  createdBy: string,
): Promise<{ id: string; name: string; token: string; createdAt: string }> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100)
    throw new UsersyncError('invalid_token_name', 'name must be 1 to 100 characters', {
      hint: 'name the token after what uses it, such as "hr-app"',
      context: { field: 'name' },
    });
  const token = newToken('usy');
  const row = {
    id: randomUUID(),
    name: trimmed,
    token_hash: hashToken(token),
    created_at: new Date().toISOString(),
    created_by: createdBy,
    last_used_at: null,
    revoked_at: null,
  };
  await insertApiToken(store.db, row);
  await recordAdminAction(store.db, { actor: createdBy, action: 'token.created', target: trimmed });
  return { id: row.id, name: row.name, token, createdAt: row.created_at };
}
