import { aad } from './errors.ts';
import type { AadError } from './types.ts';

/**
 * The v2.0 OpenID configuration document of a tenant under `origin`.
 * `tenantPath` names the tenant in endpoint URLs (its GUID, or `common`…); `issuerTenant`
 * is the GUID, or `{tenantid}` for the multi-tenant documents as Entra serves them.
 */
export function openIdConfiguration(origin: string, tenantPath: string, issuerTenant: string): Record<string, unknown> {
  const base = `${origin}/${tenantPath}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${origin}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/**
 * Instance discovery (`/common/discovery/instance?api-version=1.1&authorization_endpoint=…`),
 * answering only for the emulator's own hosts: it is its own, alias-free cloud.
 */
export function instanceDiscovery(
  authorizationEndpoint: string | undefined,
  ownOrigins: readonly string[],
): { ok: true; body: Record<string, unknown> } | { ok: false; error: AadError } {
  let url: URL;
  try {
    url = new URL(authorizationEndpoint ?? '');
  } catch {
    return { ok: false, error: aad.invalidInstance() };
  }
  const own = ownOrigins.map((o) => new URL(o)).find((o) => o.protocol === url.protocol && o.host === url.host);
  if (!own) return { ok: false, error: aad.invalidInstance() };
  const tenant = url.pathname.split('/').filter(Boolean)[0] ?? 'common';
  return {
    ok: true,
    body: {
      tenant_discovery_endpoint: `${own.origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: own.host, preferred_cache: own.host, aliases: [own.host] }],
    },
  };
}
