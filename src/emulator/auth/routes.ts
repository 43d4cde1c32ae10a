import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { TokenSigner } from './access-token.ts';
import { adminConsent, type ConsentGrant } from './consent.ts';
import { aadErrorBody } from './errors.ts';
import { instanceDiscovery, openIdConfiguration } from './metadata.ts';
import { escapeHtml, hiddenFields } from './pages.ts';
import { createSignIn, type SignInDirectory } from './sign-in.ts';
import { lookupTenant } from './tenants.ts';
import { requestToken, type TokenServiceContext } from './token-request.ts';
import type { AadError, ConsentDecision, EmulatorTenantAuth } from './types.ts';

export type AuthRequestKind =
  'openid-configuration' | 'instance-discovery' | 'jwks' | 'token' | 'admin-consent' | 'authorize';

export type AuthRoutesOptions = {
  /** Read on every request: tests may add apps, secrets, certificates or roles at any time. */
  tenants: () => readonly EmulatorTenantAuth[];
  /** Public origin of the token service, e.g. `https://127.0.0.1:8443`. */
  baseUrl: () => string;
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  signer: TokenSigner;
  /** `expires_in` of issued tokens; default 3599. MSAL renews 300 s before expiry, so less means a token call per use. */
  tokenLifetimeSeconds?: () => number;
  /** The admin's click on the consent page; default approve. */
  consentDecision?: (grant: ConsentGrant) => ConsentDecision;
  /** Called when an admin approves consent. */
  onConsent?: (grant: ConsentGrant) => void;
  /** Users who may sign in to apps (OpenID Connect authorization code with PKCE); without it /authorize is not served. */
  signIn?: SignInDirectory;
  /** Called once per request handled, for request counting in tests and benchmarks. */
  onRequest?: (kind: AuthRequestKind) => void;
};

const jsonType = 'application/json; charset=utf-8';

/**
 * The Entra ID token service as a Hono app, paths as on login.microsoftonline.com:
 * mount it at the root of the emulator's authority host (`app.route('/', createAuthRoutes(…))`).
 */
export function createAuthRoutes(opts: AuthRoutesOptions): Hono {
  const now = opts.now ?? Date.now;
  const count = opts.onRequest ?? (() => {});
  const tokenService: TokenServiceContext = {
    tenants: opts.tenants,
    baseUrl: opts.baseUrl,
    now,
    signer: opts.signer,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? (() => 3599),
  };
  const signIn = opts.signIn
    ? createSignIn({ tenants: opts.tenants, baseUrl: opts.baseUrl, now, signer: opts.signer, directory: opts.signIn })
    : null;
  if (signIn) tokenService.redeemCode = signIn.redeemCode;
  const consent = {
    tenants: opts.tenants,
    consentDecision: opts.consentDecision ?? (() => 'approve' as const),
    onConsent: opts.onConsent ?? (() => {}),
  };
  const origin = () => opts.baseUrl().replace(/\/+$/, '');

  const errorResponse = (c: Context, err: AadError, correlationId: string = randomUUID()) => {
    const traceId = randomUUID();
    const body = aadErrorBody(err, { now: now(), traceId, correlationId, baseUrl: origin() });
    return c.body(JSON.stringify(body), err.status, {
      'Content-Type': jsonType,
      'Cache-Control': 'no-store, no-cache',
      Pragma: 'no-cache',
      'x-ms-request-id': traceId,
    });
  };

  const app = new Hono();

  app.get('/common/discovery/instance', (c) => {
    count('instance-discovery');
    const result = instanceDiscovery(c.req.query('authorization_endpoint'), [origin(), new URL(c.req.url).origin]);
    if (!result.ok) return errorResponse(c, result.error);
    return c.body(JSON.stringify(result.body), 200, {
      'Content-Type': jsonType,
      'Cache-Control': 'max-age=86400, private',
    });
  });

  app.get('/:tenant/v2.0/.well-known/openid-configuration', (c) => {
    count('openid-configuration');
    const lookup = lookupTenant(opts.tenants(), c.req.param('tenant'));
    if (lookup.kind === 'error') return errorResponse(c, lookup.error);
    const document =
      lookup.kind === 'tenant'
        ? openIdConfiguration(origin(), lookup.tenant.tenantId, lookup.tenant.tenantId)
        : openIdConfiguration(origin(), lookup.segment, '{tenantid}');
    return c.body(JSON.stringify(document), 200, {
      'Content-Type': jsonType,
      'Cache-Control': 'max-age=86400, private',
    });
  });

  app.get('/:tenant/discovery/v2.0/keys', (c) => {
    count('jwks');
    const lookup = lookupTenant(opts.tenants(), c.req.param('tenant'));
    if (lookup.kind === 'error') return errorResponse(c, lookup.error);
    return c.body(JSON.stringify(opts.signer.jwks), 200, {
      'Content-Type': jsonType,
      'Cache-Control': 'max-age=86400, private',
    });
  });

  app.post('/:tenant/oauth2/v2.0/token', async (c) => {
    count('token');
    const form = new URLSearchParams(await c.req.text());
    // Entra reports the caller's client-request-id as the correlation id.
    const correlationId =
      c.req.header('client-request-id') ||
      c.req.query('client-request-id') ||
      form.get('client-request-id') ||
      randomUUID();
    const result = await requestToken(tokenService, {
      tenantSegment: c.req.param('tenant'),
      form,
      authorization: c.req.header('authorization'),
      requestOrigin: new URL(c.req.url).origin,
    });
    if (!result.ok) return errorResponse(c, result.error, correlationId);
    return c.body(JSON.stringify(result.body), 200, {
      'Content-Type': jsonType,
      'Cache-Control': 'no-store, no-cache',
      Pragma: 'no-cache',
      'x-ms-request-id': randomUUID(),
    });
  });

  const consentRoute = (version: 'v1' | 'v2') => (c: Context) => {
    count('admin-consent');
    const query = new URL(c.req.url).searchParams;
    // A browser gets Entra's consent page first (Accept or Cancel); a program gets the decision set on the emulator.
    const clicked = query.get('emulator_decision');
    if (clicked === null && (c.req.header('accept') ?? '').includes('text/html'))
      return c.html(consentPage(c.req.path, query));
    query.delete('emulator_decision');
    const decided =
      clicked === 'approve' || clicked === 'decline'
        ? { ...consent, consentDecision: () => clicked as ConsentDecision }
        : consent;
    const outcome = adminConsent(decided, {
      version,
      tenantSegment: c.req.param('tenant') ?? '',
      query,
    });
    if (outcome.kind === 'page') return c.text(outcome.message, outcome.status);
    return c.redirect(outcome.location, 302);
  };
  if (signIn)
    app.get('/:tenant/oauth2/v2.0/authorize', (c) => {
      count('authorize');
      const outcome = signIn.authorize(
        c.req.path,
        c.req.param('tenant'),
        new URL(c.req.url).searchParams,
        (c.req.header('accept') ?? '').includes('text/html'),
      );
      if (outcome.kind === 'page') return c.html(outcome.html);
      if (outcome.kind === 'error') return c.text(outcome.message, outcome.status);
      return c.redirect(outcome.location, 302);
    });
  app.get('/:tenant/adminconsent', consentRoute('v1'));
  app.get('/:tenant/v2.0/adminconsent', consentRoute('v2'));

  return app;
}

/** The admin-consent page: what the app asks for, Accept or Cancel (each a GET back here with the decision). */
function consentPage(path: string, query: URLSearchParams): string {
  // The query never holds emulator_decision here: the page is shown only without it.
  const hidden = hiddenFields(query, 'emulator_decision');
  const app = escapeHtml(query.get('client_id') ?? 'an application');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Permissions requested</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}</style></head>
<body><main><p>Microsoft Entra ID (emulated)</p><h1>Permissions requested</h1>
<p>The application <strong>${app}</strong> asks for these permissions for your whole organization:</p>
<ul><li>Read all users' full profiles (User.Read.All)</li><li>Read all group memberships (GroupMember.Read.All)</li><li>Read all users' profile photos (ProfilePhoto.Read.All)</li></ul>
<p>Accepting grants them for every user of the organization.</p>
<form method="get" action="${escapeHtml(path)}">${hidden}
<button type="submit" name="emulator_decision" value="approve">Accept</button>
<button type="submit" name="emulator_decision" value="decline">Cancel</button></form></main></body></html>`;
}
