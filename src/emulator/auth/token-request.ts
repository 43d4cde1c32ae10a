import { createHash, timingSafeEqual } from 'node:crypto';
import {
  accessTokenIssuer,
  mintAccessToken,
  newTokenId,
  servicePrincipalObjectId,
  type AccessTokenClaims,
  type TokenSigner,
} from './access-token.ts';
import { jwtBearerAssertionType, verifyClientAssertion } from './client-assertion.ts';
import { aad } from './errors.ts';
import { findApp, lookupTenant, tenantName } from './tenants.ts';
import type { AadError, EmulatorApp, EmulatorTenantAuth } from './types.ts';

export type TokenServiceContext = {
  /** The authorization-code grant of admins signing in (sign-in.ts); without it only client credentials are served. */
  redeemCode?: (
    form: URLSearchParams,
    clientId: string,
    authenticate: (tenant: EmulatorTenantAuth) => Promise<AadError | EmulatorApp>,
  ) => Promise<TokenResult>;
  tenants: () => readonly EmulatorTenantAuth[];
  baseUrl: () => string;
  /** Epoch milliseconds. */
  now: () => number;
  signer: TokenSigner;
  tokenLifetimeSeconds: () => number;
};

export type TokenRequest = {
  tenantSegment: string;
  form: URLSearchParams;
  /** The request's Authorization header, for client_secret_basic. */
  authorization: string | undefined;
  /** Origin the request arrived at, accepted as assertion audience besides baseUrl. */
  requestOrigin: string;
};

export type TokenResponseBody = {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  /** The authorization-code grant's extras. */
  scope?: string;
  id_token?: string;
  client_info?: string;
};

export type TokenResult = { ok: true; body: TokenResponseBody } | { ok: false; error: AadError };

const defaultScopeSuffix = '/.default';
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The client-credentials grant of `POST /{tenant}/oauth2/v2.0/token`. */
export async function requestToken(ctx: TokenServiceContext, req: TokenRequest): Promise<TokenResult> {
  const fail = (error: AadError): TokenResult => ({ ok: false, error });
  const lookup = lookupTenant(ctx.tenants(), req.tenantSegment);
  if (lookup.kind === 'error') return fail(lookup.error);

  const { form } = req;
  const grantType = form.get('grant_type');
  if (!grantType) return fail(aad.missingParameter('grant_type'));
  const basic = basicCredentials(req.authorization);
  const clientId = form.get('client_id') || basic?.clientId;
  if (grantType === 'authorization_code' && ctx.redeemCode) {
    if (!clientId) return fail(aad.missingParameter('client_id'));
    return ctx.redeemCode(form, clientId, async (tenant) => {
      if (lookup.kind === 'tenant' && lookup.tenant.tenantId !== tenant.tenantId) return aad.noTenantInformation();
      const app = findApp(tenant, clientId);
      if (!app) return aad.appNotFound(clientId, tenantName(tenant));
      const credential = await authenticateClient(ctx, req, tenant, app, basic?.secret);
      return typeof credential === 'string' ? app : credential;
    });
  }
  if (grantType !== 'client_credentials') return fail(aad.unsupportedGrantType(grantType));

  if (!clientId) return fail(aad.missingParameter('client_id'));
  if (lookup.kind === 'multi') return fail(aad.noTenantInformation());
  const tenant = lookup.tenant;

  const scope = form.get('scope');
  if (!scope) return fail(aad.missingParameter('scope'));
  const resource = resourceOfScope(scope);
  if (typeof resource !== 'string') return fail(resource);

  const app = findApp(tenant, clientId);
  if (!app) return fail(aad.appNotFound(clientId, tenantName(tenant)));

  const nowMs = ctx.now();
  const credential = await authenticateClient(ctx, req, tenant, app, basic?.secret);
  if (typeof credential !== 'string') return fail(credential);
  if (!knownResource(resource, tenant, [ctx.baseUrl(), req.requestOrigin]))
    return fail(aad.resourceNotFound(resource, tenantName(tenant)));

  const lifetime = ctx.tokenLifetimeSeconds();
  const nowSeconds = Math.floor(nowMs / 1000);
  const oid = servicePrincipalObjectId(tenant.tenantId, app.clientId);
  const claims: AccessTokenClaims = {
    aud: resource,
    iss: accessTokenIssuer(tenant.tenantId),
    // Entra back-dates iat/nbf by five minutes to absorb clock skew at the resource.
    iat: nowSeconds - 300,
    nbf: nowSeconds - 300,
    exp: nowSeconds + lifetime,
    app_displayname: app.displayName,
    appid: app.clientId,
    appidacr: credential,
    idp: accessTokenIssuer(tenant.tenantId),
    idtyp: 'app',
    oid,
    ...(app.roles.length > 0 ? { roles: [...app.roles] } : {}),
    sub: oid,
    tid: tenant.tenantId,
    uti: newTokenId(),
    ver: '1.0',
  };
  return {
    ok: true,
    body: {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: mintAccessToken(ctx.signer, claims),
    },
  };
}

/** The client's proof: a certificate-signed assertion ('2') or a secret ('1'), or why it fails. */
async function authenticateClient(
  ctx: TokenServiceContext,
  req: TokenRequest,
  tenant: EmulatorTenantAuth,
  app: EmulatorApp,
  basicSecret: string | undefined,
): Promise<AccessTokenClaims['appidacr'] | AadError> {
  const { form } = req;
  const nowMs = ctx.now();
  const assertion = form.get('client_assertion');
  const secret = form.get('client_secret') ?? basicSecret;
  if (assertion) {
    if (form.get('client_assertion_type') !== jwtBearerAssertionType)
      return aad.missingParameter('client_assertion_type');
    const audiences = assertionAudiences(tenant, [ctx.baseUrl(), req.requestOrigin]);
    const error = await verifyClientAssertion({ assertion, clientId: app.clientId, app, audiences, nowMs });
    return error ?? '2';
  }
  if (secret) return checkSecret(app, secret, nowMs) ?? '1';
  return aad.noCredential();
}

/** The resource of a client-credentials scope (`https://graph.microsoft.com/.default` → `https://graph.microsoft.com`). */
function resourceOfScope(scope: string): string | AadError {
  const scopes = [...new Set(scope.split(/\s+/).filter(Boolean))];
  const resources = scopes
    .filter((s) => s.endsWith(defaultScopeSuffix))
    .map((s) => s.slice(0, -defaultScopeSuffix.length));
  if (resources.length !== scopes.length || resources.length === 0 || !resources.every(isResourceId)) {
    return aad.invalidScope(scope);
  }
  if (resources.length > 1) return aad.multipleResources(scope);
  return resources[0];
}

/**
 * Resource principals every emulated tenant has: Microsoft Graph (its URL in every cloud, and its app id), the
 * emulator itself (it serves Graph) and any https service on this machine, Azure Resource Manager and Key Vault, and
 * the tenant's own app registrations (by client id or `api://` URI). Entra refuses any other resource with AADSTS500011.
 */
const WELL_KNOWN_RESOURCES = new Set(
  [
    'https://graph.microsoft.com',
    'https://graph.microsoft.us',
    'https://dod-graph.microsoft.us',
    'https://microsoftgraph.chinacloudapi.cn',
    '00000003-0000-0000-c000-000000000000',
    'https://management.azure.com',
    'https://management.core.windows.net',
    'https://vault.azure.net',
  ].map((r) => r.toLowerCase()),
);

function knownResource(resource: string, tenant: EmulatorTenantAuth, origins: readonly string[]): boolean {
  const key = resource.toLowerCase().replace(/\/+$/, '');
  if (WELL_KNOWN_RESOURCES.has(key)) return true;
  if (origins.some((o) => o.toLowerCase().replace(/\/+$/, '') === key)) return true;
  // Any service on this machine (another emulator, a local proxy in front of Graph) is a resource too.
  if (/^https:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(key)) return true;
  return tenant.apps.some((a) => {
    const id = a.clientId.toLowerCase();
    return key === id || key === `api://${id}`;
  });
}

function isResourceId(resource: string): boolean {
  if (guid.test(resource)) return true;
  try {
    const url = new URL(resource);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

function checkSecret(app: EmulatorApp, presented: string, nowMs: number): AadError | undefined {
  const match = app.secrets.find((s) => sameSecret(s.value, presented));
  if (!match) return aad.wrongSecret(app.clientId);
  if (match.expiresAt && match.expiresAt.getTime() <= nowMs) return aad.expiredSecret(app.clientId);
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** client_secret_basic: `Basic base64(urlencode(client_id):urlencode(secret))` (RFC 6749 §2.3.1). */
function basicCredentials(authorization: string | undefined): { clientId: string; secret: string } | undefined {
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

/** Token URLs of a tenant under each origin, by GUID and by every domain, v2 and v1 forms. */
function assertionAudiences(tenant: EmulatorTenantAuth, origins: readonly string[]): string[] {
  const names = [tenant.tenantId, ...tenant.domains];
  return [...new Set(origins.map((o) => o.replace(/\/+$/, '')))].flatMap((origin) =>
    names.flatMap((name) => [`${origin}/${name}/oauth2/v2.0/token`, `${origin}/${name}/oauth2/token`]),
  );
}
