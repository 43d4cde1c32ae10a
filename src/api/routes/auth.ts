import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import {
  checkSignIn,
  createAdmin,
  createFirstAdmin,
  hasAdmins,
  startSession,
  type NewSession,
} from '../../admins/accounts.ts';
import { finishMicrosoftSignIn, startMicrosoftSignIn } from '../../admins/microsoft.ts';
import { describeError } from '../../core/errors.ts';
import { hashToken } from '../../admins/credentials.ts';
import {
  deleteSession,
  getAdmin,
  getAdminByEmail,
  getSession,
  recordAdminAction,
  useSignInLink,
} from '../../store/index.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { SESSION_COOKIE, signInLimiter } from '../auth.ts';
import { ApiError, problemSchema } from '../problem.ts';
import { firstAdminSchema, sessionSchema, signInSchema } from '../schemas.ts';

// Signing in to the console: email and password (rate limited), or a one-time sign-in link (`npm start` prints one).
// A session is an HttpOnly, SameSite=Strict cookie; its CSRF token is returned in the body for the console to send back.

const problems = {
  400: { content: { 'application/problem+json': { schema: problemSchema } }, description: 'invalid request' },
  401: { content: { 'application/problem+json': { schema: problemSchema } }, description: 'not signed in' },
  429: { content: { 'application/problem+json': { schema: problemSchema } }, description: 'too many failed sign-ins' },
};

export function authRoutes(app: Api, deps: ServiceDeps): void {
  const { store } = deps;
  const limiter = signInLimiter();
  const microsoft = deps.microsoft;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/auth/status',
      tags: ['sign-in'],
      summary: 'Whether any admin exists, and how to create the first one',
      security: [],
      responses: {
        200: {
          content: {
            'application/json': {
              schema: z
                .object({
                  admins: z.boolean(),
                  firstAdmin: z.string().nullable(),
                  microsoft: z.boolean().describe('Sign in with Microsoft is configured (GET /api/v1/auth/microsoft)'),
                })
                .openapi('AuthStatus'),
            },
          },
          description: 'status',
        },
      },
    }),
    async (c) => {
      const admins = await hasAdmins(store);
      return c.json(
        {
          admins,
          firstAdmin: admins
            ? null
            : 'open the setup link `usersync serve` printed, or create the first admin on the server: usersync admin create --email YOU@EXAMPLE.COM',
          microsoft: microsoft !== null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/first-admin',
      tags: ['sign-in'],
      summary: 'Create the first admin with the setup code `usersync serve` printed, and sign in as them',
      description:
        'Only while there is no admin; the code works once. Afterwards admins add others (POST /api/v1/admins).',
      security: [],
      request: { body: { content: { 'application/json': { schema: firstAdminSchema } }, required: true } },
      responses: {
        200: { content: { 'application/json': { schema: sessionSchema } }, description: 'created and signed in' },
        ...problems,
      },
    }),
    async (c) => {
      const keys = [`ip:${clientAddress(c)}`];
      const wait = limiter.retryAfter(keys);
      if (wait > 0)
        throw new ApiError(429, 'rate_limited', `too many wrong setup codes; try again in ${wait} seconds`, {
          hint: 'copy the whole setup link `usersync serve` printed',
        });
      const admin = await createFirstAdmin(store, c.req.valid('json')).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'forbidden') limiter.fail(keys);
        throw error;
      });
      const session = await startSession(store, admin);
      setSessionCookie(c, session);
      await recordAdminAction(store.db, { actor: admin.email, action: 'admin.signed_in', detail: { method: 'setup' } });
      return c.json({ email: admin.email, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/sign-in',
      tags: ['sign-in'],
      summary: 'Sign in with email and password; sets the session cookie',
      security: [],
      request: { body: { content: { 'application/json': { schema: signInSchema } }, required: true } },
      responses: {
        200: { content: { 'application/json': { schema: sessionSchema } }, description: 'signed in' },
        ...problems,
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      const keys = [`ip:${clientAddress(c)}`, `email:${email.trim().toLowerCase()}`];
      const wait = limiter.retryAfter(keys);
      if (wait > 0)
        throw new ApiError(429, 'rate_limited', `too many failed sign-ins; try again in ${wait} seconds`, {
          hint: 'wait, or ask another admin to reset the password (usersync admin create on the server)',
        });
      const admin = await checkSignIn(store, email, password);
      if (!admin) {
        limiter.fail(keys);
        throw new ApiError(401, 'unauthorized', 'the email or password is wrong', {
          hint: 'check both; after 5 failures sign-in pauses for 15 minutes',
        });
      }
      limiter.succeed(keys);
      const session = await startSession(store, admin);
      setSessionCookie(c, session);
      await recordAdminAction(store.db, {
        actor: admin.email,
        action: 'admin.signed_in',
        detail: { method: 'password' },
      });
      return c.json({ email: admin.email, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/auth/session',
      tags: ['sign-in'],
      summary: 'The signed-in admin and the CSRF token to send with writes',
      security: [{ session: [] }],
      responses: {
        200: { content: { 'application/json': { schema: sessionSchema } }, description: 'the session' },
        ...problems,
      },
    }),
    async (c) => {
      const cookie = getCookie(c, SESSION_COOKIE);
      const session = cookie ? await getSession(store.db, hashToken(cookie)) : undefined;
      if (!session) throw new ApiError(401, 'unauthorized', 'not signed in', { hint: 'POST /api/v1/auth/sign-in' });
      return c.json({ email: session.email, csrfToken: session.csrf_token, expiresAt: session.expires_at }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/sign-out',
      tags: ['sign-in'],
      summary: 'End the session',
      security: [{ session: [] }],
      responses: { 204: { description: 'signed out' } },
    }),
    async (c) => {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie) await deleteSession(store.db, hashToken(cookie));
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/auth/link',
      tags: ['sign-in'],
      summary: 'Use a one-time sign-in link: starts a session and redirects to the console',
      security: [],
      request: { query: z.object({ token: z.string({ error: 'token is required' }) }) },
      responses: { 303: { description: 'signed in; redirected to the console' }, ...problems },
    }),
    async (c) => {
      const adminId = await useSignInLink(store.db, hashToken(c.req.valid('query').token));
      const admin = adminId ? await getAdmin(store.db, adminId) : undefined;
      if (!admin)
        throw new ApiError(401, 'unauthorized', 'this sign-in link is unknown, expired or already used', {
          hint: 'a link works once, for 15 minutes: ask for a new one (usersync admin link --email …)',
        });
      const session = await startSession(store, admin);
      setSessionCookie(c, session);
      await recordAdminAction(store.db, { actor: admin.email, action: 'admin.signed_in', detail: { method: 'link' } });
      return c.redirect('/', 303);
    },
  );

  // Sign in with Microsoft: plain redirects (a browser follows them), so not in the OpenAPI operations.
  const callbackPath = '/api/v1/auth/microsoft/callback';
  const redirectUri = (c: Context) =>
    `${(process.env.USERSYNC_PUBLIC_URL?.trim() || new URL(c.req.url).origin).replace(/\/+$/, '')}${callbackPath}`;
  app.get('/api/v1/auth/microsoft', async (c) => {
    if (!microsoft)
      throw new ApiError(404, 'not_found', 'Sign in with Microsoft is not configured on this server', {
        hint: 'set USERSYNC_APP_CLIENT_ID (with its secret or certificate) and USERSYNC_ADMIN_TENANTS, or sign in with a password',
      });
    const started = await startMicrosoftSignIn(microsoft, deps.box, redirectUri(c), {
      loginHint: c.req.query('login_hint'),
    });
    setCookie(c, FLOW_COOKIE, started.cookie, {
      httpOnly: true,
      sameSite: 'Lax',
      path: '/api/v1/auth/microsoft',
      maxAge: 600,
      secure: isHttps(c),
    });
    return c.redirect(started.url, 302);
  });
  app.get(callbackPath, async (c) => {
    if (!microsoft) throw new ApiError(404, 'not_found', 'Sign in with Microsoft is not configured on this server');
    const cookie = getCookie(c, FLOW_COOKIE);
    deleteCookie(c, FLOW_COOKIE, { path: '/api/v1/auth/microsoft' });
    try {
      const who = await finishMicrosoftSignIn(
        microsoft,
        deps.box,
        redirectUri(c),
        new URL(c.req.url).searchParams,
        cookie,
      );
      const admin =
        (await getAdminByEmail(store.db, who.email)) ??
        (await createAdmin(store, { email: who.email, password: null }, `microsoft:${who.email}`));
      const session = await startSession(store, admin);
      setSessionCookie(c, session);
      await recordAdminAction(store.db, {
        actor: admin.email,
        action: 'admin.signed_in',
        detail: { method: 'microsoft', tenantId: who.tenantId, roles: who.roles },
      });
      return c.redirect('/', 303);
    } catch (error) {
      const d = describeError(error);
      deps.logger.warn({ error: d }, 'Microsoft sign-in refused');
      const to = new URLSearchParams({ signInError: d.message, ...(d.hint ? { hint: d.hint } : {}) });
      return c.redirect(`/?${to}`, 303);
    }
  });
}

const FLOW_COOKIE = 'usersync_ms_flow';

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

function setSessionCookie(c: Context, session: NewSession): void {
  setCookie(c, SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: isHttps(c),
    expires: new Date(session.expiresAt),
  });
}

/** The client's address for rate limiting: the socket's, or behind a trusted proxy (USERSYNC_TRUST_PROXY=1) the first X-Forwarded-For. */
function clientAddress(c: Context): string {
  if (process.env.USERSYNC_TRUST_PROXY === '1') {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
