import {
  AuthError,
  ConfidentialClientApplication,
  ServerError,
  type INetworkModule,
  type NodeAuthOptions,
} from '@azure/msal-node';
import type { ConnectionConfig } from '../config/env.ts';
import { GraphError, networkCode, trimSentence, unreachableError, type GraphErrorCode } from './errors.ts';

// App-only tokens for Graph through msal-node: client secret or certificate, any authority host.
// msal caches the token and renews it 5 minutes before expiry; we only make concurrent callers share one
// request and turn msal's errors into actions.

export interface TokenProvider {
  /** A bearer token for Graph; `forceRefresh` skips the cache (after Graph answered 401). */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** `${graph origin}/.default` */
  readonly scope: string;
}

export interface TokenProviderOptions {
  /** msal's HTTP client; tests pass one that trusts the emulator's CA (msal otherwise uses the global fetch). */
  networkClient?: INetworkModule;
}

/** Hosts msal knows without instance discovery (its built-in cloud metadata); any other host is declared known. */
export const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
]);

/** msal's options for an app: its authority (tenant or `organizations`) on the host, and its secret or certificate. */
export function msalAuth(
  authorityHost: string,
  tenant: string,
  clientId: string,
  credential: ConnectionConfig['credential'],
): NodeAuthOptions {
  const authorityUrl = new URL(authorityHost);
  return {
    clientId,
    authority: `${authorityUrl.origin}/${tenant}`,
    // For hosts msal does not know (the emulator, a proxy) this keeps instance discovery off the internet.
    ...(MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname.toLowerCase())
      ? {}
      : { knownAuthorities: [authorityUrl.host] }),
    ...(credential.kind === 'secret'
      ? { clientSecret: credential.secret }
      : {
          clientCertificate: {
            thumbprintSha256: credential.thumbprintSha256,
            privateKey: credential.privateKeyPem,
            x5c: credential.certificatePem,
          },
        }),
  };
}

export function createTokenProvider(config: ConnectionConfig, options: TokenProviderOptions = {}): TokenProvider {
  const scope = `${new URL(config.graphUrl).origin}/.default`;
  const auth = msalAuth(config.authorityHost, config.tenantId, config.clientId, config.credential);
  const client = new ConfidentialClientApplication({
    auth,
    system: options.networkClient ? { networkClient: options.networkClient } : {},
  });

  let inFlight: Promise<string> | null = null;
  let forcedInFlight: Promise<string> | null = null;

  async function acquire(forceRefresh: boolean): Promise<string> {
    try {
      const result = await client.acquireTokenByClientCredential({ scopes: [scope], skipCache: forceRefresh });
      if (!result?.accessToken)
        throw new GraphError({
          code: 'token_failed',
          message: `The token service at ${config.authorityHost} returned no access token for app ${config.clientId}: try again, and check AZURE_AUTHORITY_HOST`,
        });
      return result.accessToken;
    } catch (error) {
      if (error instanceof GraphError) throw error;
      throw await tokenError(error, config, options.networkClient);
    }
  }

  return {
    scope,
    getToken({ forceRefresh = false } = {}) {
      // One request for everyone waiting: a burst of Graph calls at start-up must not mint a token each.
      if (forceRefresh)
        return (forcedInFlight ??= acquire(true).finally(() => {
          forcedInFlight = null;
        }));
      return (inFlight ??= acquire(false).finally(() => {
        inFlight = null;
      }));
    },
  };
}

// Errors -----------------------------------------------------------------------------------------------

/** msal's errors → one actionable GraphError. Exported for unit tests. */
export async function tokenError(
  error: unknown,
  config: ConnectionConfig,
  networkClient?: INetworkModule,
): Promise<GraphError> {
  const app = `app ${config.clientId}`;
  const id = error instanceof AuthError && error.correlationId ? error.correlationId : undefined;
  const make = (code: GraphErrorCode, what: string, hint: string, graphCode?: string, status?: number) =>
    new GraphError({
      code,
      graphCode,
      status,
      requestId: id,
      hint,
      cause: error,
      message: `${what}: ${hint}.${id ? ` correlation-id: ${id}` : ''}`,
    });

  if (error instanceof ServerError) {
    const number = Number(error.errorNo);
    const aadsts = Number.isFinite(number) && number > 0 ? `AADSTS${number}` : error.errorCode;
    const status = error.status;
    switch (number) {
      case 7000215:
        return make(
          'bad_secret',
          `The client secret for ${app} is wrong or expired (${aadsts})`,
          'create a new secret in the app registration and set AZURE_CLIENT_SECRET to its value (not its secret id)',
          aadsts,
          status,
        );
      case 7000222:
        return make(
          'bad_secret',
          `The client secret for ${app} is wrong or expired (${aadsts}: it has expired)`,
          'create a new secret in the app registration and update AZURE_CLIENT_SECRET',
          aadsts,
          status,
        );
      case 7000218:
        return make(
          'missing_credential',
          `The token service wants a credential for ${app} (${aadsts})`,
          'set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH',
          aadsts,
          status,
        );
      case 700027:
      case 700024:
      case 50027:
        return make(
          'bad_certificate',
          `The certificate for ${app} was refused (${aadsts}: ${trimSentence(firstLine(error.errorMessage))})`,
          `upload the certificate in AZURE_CLIENT_CERTIFICATE_PATH${config.credential.kind === 'certificate' ? ` (SHA-256 thumbprint ${config.credential.thumbprintSha256})` : ''} to the app registration, or point the variable at a certificate that is registered; check the clock if the assertion is out of its time window`,
          aadsts,
          status,
        );
      case 700016:
        return make(
          'unknown_app',
          `App ${config.clientId} was not found in tenant ${config.tenantId} (${aadsts})`,
          'check AZURE_CLIENT_ID (the application (client) id) and AZURE_TENANT_ID, and that an administrator of that tenant has granted admin consent to the app',
          aadsts,
          status,
        );
      case 90002:
      case 900023:
        return make(
          'unknown_tenant',
          `Tenant ${config.tenantId} was not found at ${config.authorityHost} (${aadsts})`,
          'check AZURE_TENANT_ID (the directory (tenant) id) and that AZURE_AUTHORITY_HOST is the cloud the tenant lives in',
          aadsts,
          status,
        );
      case 70011:
      case 700022:
        return make(
          'bad_scope',
          `The token service refused the scope ${config.graphUrl}/.default (${aadsts})`,
          "set USERSYNC_GRAPH_URL to the Graph endpoint of the tenant's cloud, such as https://graph.microsoft.com",
          aadsts,
          status,
        );
    }
    if (error.errorCode === 'invalid_tenant') {
      return make(
        'unknown_tenant',
        `Tenant ${config.tenantId} was not found at ${config.authorityHost} (${aadsts})`,
        'check AZURE_TENANT_ID and AZURE_AUTHORITY_HOST',
        aadsts,
        status,
      );
    }
    return make(
      'token_failed',
      `The token service refused a token for ${app} (${aadsts}${status ? `, HTTP ${status}` : ''}: ${trimSentence(firstLine(error.errorMessage))})`,
      'check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential',
      aadsts,
      status,
    );
  }

  if (error instanceof AuthError && error.errorCode === 'endpoints_resolution_error') {
    // msal drops the cause: ask the OpenID document ourselves to tell an unknown tenant from an unreachable host.
    return diagnoseDiscovery(error, config, networkClient);
  }
  if (networkCode(error) !== undefined || (error instanceof AuthError && error.errorCode === 'network_error')) {
    return unreachableError(error, config.authorityHost, 'the token service', 'AZURE_AUTHORITY_HOST');
  }
  const code = error instanceof AuthError ? error.errorCode : 'unexpected';
  const message = error instanceof Error ? trimSentence(firstLine(error.message)) : String(error);
  return make(
    'token_failed',
    `Getting a token for ${app} from ${config.authorityHost} failed (${code}: ${message})`,
    'check AZURE_AUTHORITY_HOST, AZURE_TENANT_ID and AZURE_CLIENT_ID',
  );
}

async function diagnoseDiscovery(
  error: AuthError,
  config: ConnectionConfig,
  networkClient?: INetworkModule,
): Promise<GraphError> {
  const url = `${config.authorityHost}/${config.tenantId}/v2.0/.well-known/openid-configuration`;
  let status: number;
  let body: unknown;
  try {
    if (networkClient) {
      const res = await networkClient.sendGetRequestAsync<unknown>(url, {});
      status = res.status;
      body = res.body;
    } else {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      status = res.status;
      body = await res.json().catch(() => null);
    }
  } catch (probeError) {
    return unreachableError(probeError, config.authorityHost, 'the token service', 'AZURE_AUTHORITY_HOST');
  }
  const codes = (body as { error_codes?: unknown } | null)?.error_codes;
  const first = Array.isArray(codes) ? Number(codes[0]) : undefined;
  const tenantMissing =
    first === 90002 || first === 900023 || (body as { error?: unknown } | null)?.error === 'invalid_tenant';
  const hint = tenantMissing
    ? 'check AZURE_TENANT_ID (the directory (tenant) id) and that AZURE_AUTHORITY_HOST is the cloud the tenant lives in'
    : `check AZURE_AUTHORITY_HOST (it answered ${status} for the tenant's OpenID configuration) and AZURE_TENANT_ID`;
  return new GraphError({
    code: 'unknown_tenant',
    status,
    graphCode: first ? `AADSTS${first}` : error.errorCode,
    hint,
    cause: error,
    message: `Tenant ${config.tenantId} was not found at ${config.authorityHost}${first ? ` (AADSTS${first})` : ''}: ${hint}`,
  });
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split(/\r?\n/)[0].replace(/^AADSTS\d+:\s*/, '');
}
