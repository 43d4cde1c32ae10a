import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { hashToken, sameSecret } from '../admins/credentials.ts';
import { getApiTokenByHash, getSession, touchApiToken, type Store } from '../store/index.ts';
import { ApiError } from './problem.ts';

// Who is calling: an API token (`Authorization: Bearer usy_…`, for automation) or an admin's session cookie (the
// console). A cookie alone never changes anything: requests that write must also send the session's CSRF token in
// X-CSRF-Token, which a page of another site cannot read.

export const SESSION_COOKIE = 'usersync_session';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Principal {
  kind: 'admin' | 'token';
  id: string;
  /** How the audit trail names them: the admin's email, or `token:<name>`. */
  actor: string;
}

export type AuthEnv = { Variables: { principal: Principal } };

/** Requires a caller; 401 problem+json without one, 403 for a cookie request that writes without its CSRF token. */
export function requireAuth(store: Store): MiddlewareHandler<AuthEnv> {
  const touched = new Map<string, number>();
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const token = match ? await getApiTokenByHash(store.db, hashToken(match[1])) : undefined;
      if (!token)
        throw new ApiError(401, 'unauthorized', 'the bearer token is not a valid API token (unknown or revoked)', {
          hint: 'create one with `usersync token create --name NAME` (or in the console under Settings → API tokens)',
        });
      // Last use is kept to the minute: a busy client does not write on every request.
      if ((touched.get(token.id) ?? 0) < Date.now() - 60_000) {
        touched.set(token.id, Date.now());
        await touchApiToken(store.db, token.id);
      }
      c.set('principal', { kind: 'token', id: token.id, actor: `token:${token.name}` });
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await getSession(store.db, hashToken(cookie)) : undefined;
    if (!session)
      throw new ApiError(401, 'unauthorized', 'sign in first: this request has no valid session or API token', {
        hint: 'send Authorization: Bearer <token> (usersync token create), or sign in at POST /api/v1/auth/sign-in',
      });
    if (!SAFE.has(c.req.method) && !sameSecret(c.req.header('x-csrf-token') ?? '', session.csrf_token))
      throw new ApiError(403, 'csrf', "this request changes something and lacks the session's CSRF token", {
        hint: 'send the csrfToken of GET /api/v1/auth/session in the X-CSRF-Token header',
      });
    c.set('principal', { kind: 'admin', id: session.admin_id, actor: session.email });
    return next();
  };
}

export function actorOf(c: Context<AuthEnv>): string {
  return c.get('principal').actor;
}

/**
 * Failed sign-ins per client address and per account: after `limit` failures in `windowMs`, sign-in is refused with 429
 * until the window passes. In memory: each server process counts its own.
 */
export function signInLimiter(limit = 5, windowMs = 15 * 60_000) {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((t) => t > now - windowMs);
  return {
    /** Seconds to wait, or 0 when sign-in may be tried. */
    retryAfter(keys: readonly string[], now = Date.now()): number {
      let wait = 0;
      for (const key of keys) {
        const times = recent(key, now);
        if (times.length >= limit) wait = Math.max(wait, Math.ceil((times[0] + windowMs - now) / 1000));
      }
      return wait;
    },
    fail(keys: readonly string[], now = Date.now()): void {
      for (const key of keys) failures.set(key, [...recent(key, now), now]);
      if (failures.size > 10_000) for (const [k] of failures) if (recent(k, now).length === 0) failures.delete(k);
    },
    succeed(keys: readonly string[]): void {
      for (const key of keys) failures.delete(key);
    },
  };
}
