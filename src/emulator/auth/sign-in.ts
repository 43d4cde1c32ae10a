import { createHash, randomBytes } from 'node:crypto';
import { signJwt, type TokenSigner } from './access-token.ts';
import { escapeHtml, hiddenFields } from './pages.ts';
import { findApp, lookupTenant } from './tenants.ts';
import type { AadError, EmulatorApp, EmulatorTenantAuth } from './types.ts';
import type { TokenResult } from './token-request.ts';

// Users signing in to an app (OpenID Connect, authorization code with PKCE), as an admin does to usersync's console:
// `/{tenant}/oauth2/v2.0/authorize` shows a sign-in page to browsers (pick a user of the tenant) and signs programs in
// as their `login_hint`; it returns a one-time code that the token endpoint exchanges, with the client's credential and
// the PKCE verifier, for an ID token (tid, oid, preferred_username, name, the user's app roles) and an access token.

export interface SignInUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail?: string | null;
}

export interface SignInDirectory {
  /** A user of the tenant by UPN or id (live users only). */
  find(tenantId: string, loginHint: string): SignInUser | undefined;
  /** Users the sign-in page offers. */
  list(tenantId: string, limit: number): SignInUser[];
  /** App roles assigned to the user in the app: the ID token's `roles`. */
  appRoles(clientId: string, userId: string): string[];
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  method: 'S256' | 'plain';
  nonce: string | null;
  scope: string;
  user: SignInUser;
  tenantId: string;
  expiresAt: number;
}

const CODE_LIFETIME_MS = 10 * 60_000;

const aadError = (status: 400 | 401, error: string, code: number, message: string): AadError => ({
  status,
  error,
  code,
  message,
});

export type AuthorizeOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'page'; html: string }
  | { kind: 'error'; status: 400; message: string };

export function createSignIn(ctx: {
  tenants: () => readonly EmulatorTenantAuth[];
  baseUrl: () => string;
  now: () => number;
  signer: TokenSigner;
  directory: SignInDirectory;
}) {
  const codes = new Map<string, IssuedCode>();

  function authorize(path: string, tenantSegment: string, query: URLSearchParams, browser: boolean): AuthorizeOutcome {
    const clientId = query.get('client_id');
    const redirectUri = query.get('redirect_uri');
    // Without a valid client and reply address Entra shows its error page: nothing may be sent anywhere.
    if (!clientId)
      return {
        kind: 'error',
        status: 400,
        message: "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
      };
    const lookup = lookupTenant(ctx.tenants(), tenantSegment);
    if (lookup.kind === 'error')
      return { kind: 'error', status: 400, message: `AADSTS${lookup.error.code}: ${lookup.error.message}` };
    const candidates = lookup.kind === 'tenant' ? [lookup.tenant] : ctx.tenants().filter((t) => findApp(t, clientId));
    if (candidates.length === 0 || !candidates.some((t) => findApp(t, clientId)))
      return {
        kind: 'error',
        status: 400,
        message: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'.`,
      };
    if (!redirectUri || !/^https?:\/\//i.test(redirectUri))
      return {
        kind: 'error',
        status: 400,
        message: "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.",
      };
    const state = query.get('state');
    const back = (params: Record<string, string>): AuthorizeOutcome => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (state !== null) url.searchParams.set('state', state);
      return { kind: 'redirect', location: url.toString() };
    };
    const fail = (error: string, description: string) => back({ error, error_description: description });
    if (query.get('response_type') !== 'code')
      return fail(
        'unsupported_response_type',
        `AADSTS70005: response_type '${query.get('response_type') ?? ''}' is not enabled for the client.`,
      );
    const scope = query.get('scope') ?? '';
    if (!scope.split(/\s+/).includes('openid'))
      return fail('invalid_request', "AADSTS90014: The required field 'scope' must include 'openid'.");
    const method = query.get('code_challenge_method') ?? (query.get('code_challenge') ? 'plain' : 'S256');
    if (method !== 'S256' && method !== 'plain')
      return fail('invalid_request', `AADSTS501491: Invalid code_challenge_method '${method}'.`);

    const picked = query.get('emulator_user') ?? (browser ? null : query.get('login_hint'));
    if (picked === null) {
      if (!browser)
        return fail('interaction_required', 'AADSTS50058: A silent sign-in request was sent but no user is signed in.');
      return {
        kind: 'page',
        html: signInPage(
          path,
          query,
          candidates.flatMap((t) => ctx.directory.list(t.tenantId, 20)),
        ),
      };
    }
    let found: { user: SignInUser; tenant: EmulatorTenantAuth } | undefined;
    for (const tenant of candidates) {
      const user = ctx.directory.find(tenant.tenantId, picked);
      if (user) found = { user, tenant };
    }
    if (!found)
      return fail(
        'access_denied',
        `AADSTS50034: The user account ${picked} does not exist in the ${candidates[0].domains[0] ?? candidates[0].tenantId} directory. To sign into this application, the account must be added to the directory.`,
      );
    const code = randomBytes(32).toString('base64url');
    codes.set(code, {
      clientId: clientId.toLowerCase(),
      redirectUri,
      challenge: query.get('code_challenge'),
      method,
      nonce: query.get('nonce'),
      scope,
      user: found.user,
      tenantId: found.tenant.tenantId,
      expiresAt: ctx.now() + CODE_LIFETIME_MS,
    });
    return back({ code, session_state: randomBytes(16).toString('hex') });
  }

  async function redeemCode(
    form: URLSearchParams,
    clientId: string,
    authenticate: (tenant: EmulatorTenantAuth) => Promise<AadError | EmulatorApp>,
  ): Promise<TokenResult> {
    const fail = (error: AadError): TokenResult => ({ ok: false, error });
    const code = form.get('code');
    if (!code)
      return fail(
        aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'."),
      );
    const issued = codes.get(code);
    // A code works once: a second redemption finds nothing.
    codes.delete(code);
    if (!issued || issued.expiresAt < ctx.now())
      return fail(
        aadError(
          400,
          'invalid_grant',
          70008,
          'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
        ),
      );
    if (issued.clientId !== clientId.toLowerCase())
      return fail(
        aadError(
          400,
          'invalid_grant',
          70000,
          "The provided value for the 'code' parameter is not valid. The code was issued to another client.",
        ),
      );
    if (form.get('redirect_uri') !== issued.redirectUri)
      return fail(
        aadError(
          400,
          'invalid_grant',
          500112,
          `The reply address '${form.get('redirect_uri') ?? ''}' does not match the reply address '${issued.redirectUri}' provided when requesting Authorization code.`,
        ),
      );
    if (issued.challenge !== null) {
      const verifier = form.get('code_verifier') ?? '';
      const derived = issued.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (!verifier || derived !== issued.challenge)
        return fail(
          aadError(
            400,
            'invalid_grant',
            501481,
            'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
          ),
        );
    }
    const tenant = ctx.tenants().find((t) => t.tenantId === issued.tenantId)!;
    const app = await authenticate(tenant);
    if ('status' in app) return fail(app);

    const nowSeconds = Math.floor(ctx.now() / 1000);
    const lifetime = 3600;
    const origin = ctx.baseUrl().replace(/\/+$/, '');
    const roles = ctx.directory.appRoles(app.clientId, issued.user.id);
    const idToken = signJwt(ctx.signer, {
      aud: app.clientId,
      iss: `${origin}/${tenant.tenantId}/v2.0`,
      iat: nowSeconds,
      nbf: nowSeconds,
      exp: nowSeconds + lifetime,
      name: issued.user.displayName,
      ...(issued.nonce ? { nonce: issued.nonce } : {}),
      oid: issued.user.id,
      preferred_username: issued.user.userPrincipalName,
      ...(issued.user.mail ? { email: issued.user.mail } : {}),
      ...(roles.length > 0 ? { roles } : {}),
      sub: createHash('sha256').update(`${app.clientId}/${issued.user.id}`).digest('base64url').slice(0, 43),
      tid: tenant.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    });
    const accessToken = signJwt(ctx.signer, {
      aud: '00000003-0000-0000-c000-000000000000',
      iss: `https://sts.windows.net/${tenant.tenantId}/`,
      iat: nowSeconds,
      nbf: nowSeconds,
      exp: nowSeconds + lifetime,
      appid: app.clientId,
      idtyp: 'user',
      oid: issued.user.id,
      scp: 'openid profile email User.Read',
      tid: tenant.tenantId,
      upn: issued.user.userPrincipalName,
      ver: '1.0',
    });
    return {
      ok: true,
      body: {
        token_type: 'Bearer',
        scope: [...new Set([...issued.scope.split(/\s+/).filter(Boolean), 'User.Read'])].join(' '),
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: accessToken,
        id_token: idToken,
        client_info: Buffer.from(JSON.stringify({ uid: issued.user.id, utid: tenant.tenantId })).toString('base64url'),
      },
    };
  }

  return { authorize, redeemCode };
}

/** The sign-in page: the tenant's first users as buttons, or any account typed in. */
function signInPage(path: string, query: URLSearchParams, users: SignInUser[]): string {
  const hidden = hiddenFields(query, 'emulator_user');
  const hint = query.get('login_hint') ?? '';
  const buttons = users
    .map(
      (u) =>
        `<li><button type="submit" name="emulator_user" value="${escapeHtml(u.userPrincipalName)}">${escapeHtml(u.displayName)} <small>${escapeHtml(u.userPrincipalName)}</small></button></li>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in to your account</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}ul{list-style:none;padding:0}li{margin:.25rem 0}button{width:100%;text-align:left;padding:.5rem;font-size:1rem}small{color:#555;display:block}</style></head>
<body><main><p>Microsoft Entra ID (emulated)</p><h1>Sign in</h1>
<form method="get" action="${escapeHtml(path)}">${hidden}
<label for="account">Email, phone, or Skype</label>
<input id="account" name="emulator_user" value="${escapeHtml(hint)}" autocomplete="username">
<button type="submit">Next</button></form>
<h2>Pick an account</h2><form method="get" action="${escapeHtml(path)}">${hidden}<ul>${buttons}</ul></form></main></body></html>`;
}
