import { aad } from './errors.ts';
import { findApp, lookupTenant, tenantName } from './tenants.ts';
import type { AadError, ConsentDecision, EmulatorTenantAuth } from './types.ts';

export type ConsentGrant = { tenantId: string; clientId: string };

export type AdminConsentContext = {
  tenants: () => readonly EmulatorTenantAuth[];
  consentDecision: (grant: ConsentGrant) => ConsentDecision;
  onConsent: (grant: ConsentGrant) => void;
};

export type AdminConsentRequest = {
  /** `v1`: `/{tenant}/adminconsent`; `v2`: `/{tenant}/v2.0/adminconsent` (requires `scope`). */
  version: 'v1' | 'v2';
  tenantSegment: string;
  query: URLSearchParams;
};

/** Where the admin's browser goes next: back to the app, or (no usable redirect_uri) nowhere. */
export type AdminConsentOutcome =
  { kind: 'redirect'; location: string } | { kind: 'page'; status: 400; message: string };

/**
 * The admin-consent round trip with the admin's click decided by `consentDecision`.
 * Failures Entra would show on its own page are sent back to redirect_uri as `error`/`error_description`
 * instead, so that callers can exercise their error handling.
 */
export function adminConsent(ctx: AdminConsentContext, req: AdminConsentRequest): AdminConsentOutcome {
  const { query } = req;
  const redirectUri = parseRedirectUri(query.get('redirect_uri'));
  if (!redirectUri) {
    return { kind: 'page', status: 400, message: `AADSTS900144: ${aad.missingParameter('redirect_uri').message}` };
  }
  const state = query.get('state');
  const back = (params: Record<string, string>, afterState: Record<string, string> = {}): AdminConsentOutcome => {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
    if (state !== null) url.searchParams.append('state', state);
    for (const [k, v] of Object.entries(afterState)) url.searchParams.append(k, v);
    return { kind: 'redirect', location: url.toString() };
  };
  const failure = (err: AadError) => back({ error: err.error, error_description: `AADSTS${err.code}: ${err.message}` });

  const clientId = query.get('client_id');
  if (!clientId) return failure(aad.missingParameter('client_id'));
  const scope = query.get('scope');
  if (req.version === 'v2' && !scope) return failure(aad.missingParameter('scope'));

  const tenants = ctx.tenants();
  const lookup = lookupTenant(tenants, req.tenantSegment);
  if (lookup.kind === 'error') return failure(lookup.error);
  // With common/organizations the admin's sign-in picks the tenant: the first one that has the app.
  const tenant = lookup.kind === 'tenant' ? lookup.tenant : tenants.find((t) => findApp(t, clientId));
  const app = tenant && findApp(tenant, clientId);
  if (!tenant || !app) return failure(aad.appNotFound(clientId, tenant ? tenantName(tenant) : req.tenantSegment));

  const grant = { tenantId: tenant.tenantId, clientId: app.clientId };
  if (ctx.consentDecision(grant) === 'decline') {
    return back({
      error: req.version === 'v1' ? 'permission_denied' : 'access_denied',
      error_description: 'The admin canceled the request',
    });
  }
  ctx.onConsent(grant);
  return back({ admin_consent: 'True', tenant: tenant.tenantId }, scope && req.version === 'v2' ? { scope } : {});
}

function parseRedirectUri(value: string | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
