import { ConfidentialClientApplication, CryptoProvider, type INetworkModule } from '@azure/msal-node';
import { randomBytes } from 'node:crypto';
import type { Env } from '../config/env.ts';
import type { ServiceApp } from '../connections/consent.ts';
import { UsersyncError } from '../core/errors.ts';
import { msalAuth } from '../entra/token.ts';
import type { SecretBox } from '../secrets/box.ts';

// "Sign in with Microsoft" for admins: OpenID Connect authorization code with PKCE through msal-node, with usersync's
// own app registration. Only users of the configured tenants (USERSYNC_ADMIN_TENANTS) holding one of the configured
// app roles (USERSYNC_ADMIN_ROLES, default usersync.admin) get in. The PKCE verifier, state and nonce travel in a
// sealed, short-lived cookie, so any server process can finish a sign-in another one started.

export interface MicrosoftSignIn {
  app: ServiceApp;
  /** Allowed tenant ids (lower case). */
  tenants: string[];
  /** App roles that make an admin; ['*'] admits every user of the allowed tenants. */
  roles: string[];
  /** msal's HTTP client, for a process that trusts a CA it did not start with (the demo's emulator). */
  networkClient?: INetworkModule;
}

export const DEFAULT_ADMIN_ROLE = 'usersync.admin';
const FLOW_PLACE = 'microsoft-sign-in';
const FLOW_MINUTES = 10;

/** Microsoft sign-in as the environment configures it; null when USERSYNC_ADMIN_TENANTS or the app is not set. */
export function microsoftSignIn(app: ServiceApp | null, env: Env = process.env): MicrosoftSignIn | null {
  const tenants = (env.USERSYNC_ADMIN_TENANTS ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  if (!app || tenants.length === 0) return null;
  const roles = (env.USERSYNC_ADMIN_ROLES ?? DEFAULT_ADMIN_ROLE)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return { app, tenants, roles };
}

function client(config: MicrosoftSignIn, networkClient?: INetworkModule): ConfidentialClientApplication {
  const { app } = config;
  return new ConfidentialClientApplication({
    // One tenant allowed: sign in there; several: the user's sign-in picks, and the callback checks it is allowed.
    auth: msalAuth(
      app.authorityHost,
      config.tenants.length === 1 ? config.tenants[0] : 'organizations',
      app.clientId,
      app.credential,
    ),
    system: (networkClient ?? config.networkClient) ? { networkClient: networkClient ?? config.networkClient } : {},
  });
}

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
}

/** Where to send the browser, and the sealed cookie value that lets the callback finish. */
export async function startMicrosoftSignIn(
  config: MicrosoftSignIn,
  box: SecretBox,
  redirectUri: string,
  options: { loginHint?: string; networkClient?: INetworkModule } = {},
): Promise<{ url: string; cookie: string }> {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const flow: Flow = {
    verifier,
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    expiresAt: Date.now() + FLOW_MINUTES * 60_000,
  };
  const url = await client(config, options.networkClient).getAuthCodeUrl({
    scopes: ['openid', 'profile', 'email'],
    redirectUri,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    state: flow.state,
    nonce: flow.nonce,
    responseMode: 'query',
    // Entra refuses an account hint together with prompt=select_account.
    ...(options.loginHint ? { loginHint: options.loginHint } : { prompt: 'select_account' }),
  });
  return { url, cookie: box.seal(JSON.stringify(flow), FLOW_PLACE) };
}

export interface MicrosoftAdmin {
  email: string;
  name: string | null;
  tenantId: string;
  objectId: string;
  roles: string[];
}

/** The browser is back with a code: redeems it (PKCE) and checks tenant and roles. Errors say what to do. */
export async function finishMicrosoftSignIn(
  config: MicrosoftSignIn,
  box: SecretBox,
  redirectUri: string,
  query: URLSearchParams,
  cookie: string | undefined,
  options: { networkClient?: INetworkModule } = {},
): Promise<MicrosoftAdmin> {
  let flow: Flow;
  try {
    flow = JSON.parse(box.open(cookie ?? '', FLOW_PLACE)) as Flow;
  } catch {
    throw signInError(
      'this sign-in was not started here, or its cookie was lost',
      'start again with Sign in with Microsoft (cookies must be allowed)',
    );
  }
  if (flow.expiresAt < Date.now())
    throw signInError('the sign-in took longer than 10 minutes', 'start again with Sign in with Microsoft');
  if (query.get('state') !== flow.state)
    throw signInError(
      'the answer from Microsoft does not match this sign-in',
      'start again with Sign in with Microsoft',
    );
  const error = query.get('error');
  if (error)
    throw signInError(
      `Microsoft refused the sign-in: ${query.get('error_description') ?? error}`,
      'sign in with an account of the organization, or ask its admin',
    );
  const code = query.get('code');
  if (!code) throw signInError('the answer from Microsoft has no code', 'start again with Sign in with Microsoft');
  let claims: Record<string, unknown>;
  try {
    const result = await client(config, options.networkClient).acquireTokenByCode(
      // msal checks the returned state and the ID token's nonce against these.
      {
        code,
        redirectUri,
        codeVerifier: flow.verifier,
        scopes: ['openid', 'profile', 'email'],
        nonce: flow.nonce,
        state: flow.state,
      },
      { code, state: query.get('state') ?? '' },
    );
    claims = (result?.idTokenClaims ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw signInError(
      `the sign-in could not be completed: ${(e as Error).message}`,
      'start again; if it keeps failing, check USERSYNC_APP_CLIENT_ID and its secret or certificate',
    );
  }
  if (claims.nonce !== flow.nonce)
    throw signInError('the ID token does not belong to this sign-in', 'start again with Sign in with Microsoft');
  const tenantId = String(claims.tid ?? '').toLowerCase();
  if (!config.tenants.includes(tenantId))
    throw signInError(
      `accounts of tenant ${tenantId} may not administer usersync`,
      'sign in with an account of an allowed organization, or add its tenant id to USERSYNC_ADMIN_TENANTS',
    );
  const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  if (!config.roles.includes('*') && !roles.some((r) => config.roles.includes(r)))
    throw signInError(
      `${String(claims.preferred_username ?? 'this account')} does not have the role ${config.roles.join(' or ')} in usersync's app`,
      `in Entra, assign the app role ${config.roles[0]} to the user (Enterprise applications → usersync → Users and groups)`,
    );
  const email = String(claims.preferred_username ?? claims.email ?? '').toLowerCase();
  if (!email) throw signInError('the ID token names no account', 'sign in with a work account');
  return {
    email,
    name: typeof claims.name === 'string' ? claims.name : null,
    tenantId,
    objectId: String(claims.oid ?? ''),
    roles,
  };
}

function signInError(message: string, hint: string): UsersyncError {
  return new UsersyncError('sign_in_refused', message, { hint });
}
