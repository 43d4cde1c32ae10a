import type { AadError } from './types.ts';

const certificateDocs =
  'Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .';

/** Every AADSTS failure the emulated token service produces, worded as Entra words it. */
export const aad = {
  invalidInstance: (): AadError => ({
    status: 400,
    error: 'invalid_instance',
    code: 50049,
    message: 'Unknown or invalid instance.',
  }),
  missingParameter: (name: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrantType: (grantType: string): AadError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: `The app requested an unsupported grant type '${grantType}'.`,
  }),
  malformedTenant: (tenant: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900023,
    message: `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
  }),
  tenantNotFound: (tenant: string): AadError => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    message:
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. ` +
      'Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.',
  }),
  noTenantInformation: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50059,
    message: 'No tenant-identifying information found in either the request or implied by any provided credentials.',
  }),
  invalidScope: (scope: string): AadError => ({
    status: 400,
    error: 'invalid_scope',
    code: 70011,
    message: `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  }),
  multipleResources: (scope: string): AadError => ({
    status: 400,
    error: 'invalid_scope',
    code: 700022,
    message: `The provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
  }),
  resourceNotFound: (resource: string, tenantName: string): AadError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    message:
      `The resource principal named ${resource} was not found in the tenant named ${tenantName}. ` +
      'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
      'You might have sent your authentication request to the wrong tenant.',
  }),
  appNotFound: (clientId: string, tenantName: string): AadError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message:
      `Application with identifier '${clientId}' was not found in the directory '${tenantName}'. ` +
      'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
      'You may have sent your authentication request to the wrong tenant.',
  }),
  noCredential: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  wrongSecret: (clientId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message:
      'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
      `not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  expiredSecret: (clientId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    message:
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: ` +
      'https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.',
  }),
  malformedAssertion: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50027,
    message: 'JWT token is invalid or malformed.',
  }),
  assertionSignature: (reason: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `Client assertion contains an invalid signature. [Reason - ${reason}]`,
  }),
  assertionClientMismatch: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 700021,
    message: `Client assertion application identifier doesn't match 'client_id' parameter. ${certificateDocs}`,
  }),
  assertionAudience: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 700023,
    message: `Client assertion audience claim does not match Realm issuer. ${certificateDocs}`,
  }),
  assertionTime: (nowSeconds: number, nbf: number | undefined, exp: number | undefined): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 700024,
    message:
      `Client assertion is not within its valid time range. Current time: ${assertionTime(nowSeconds)}, ` +
      `assertion valid from ${assertionTime(nbf)}, expiry time of assertion ${assertionTime(exp)}. ${certificateDocs}`,
  }),
} as const;

export type AadErrorBody = {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
};

/** The JSON body Entra sends with an error, e.g. `{"error":"invalid_client","error_codes":[7000215],…}`. */
export function aadErrorBody(
  err: AadError,
  ctx: { now: number; traceId: string; correlationId: string; baseUrl: string },
): AadErrorBody {
  const timestamp = entraTimestamp(ctx.now);
  return {
    error: err.error,
    error_description:
      `AADSTS${err.code}: ${err.message}\r\nTrace ID: ${ctx.traceId}\r\n` +
      `Correlation ID: ${ctx.correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: ctx.traceId,
    correlation_id: ctx.correlationId,
    error_uri: `${ctx.baseUrl}/error?code=${err.code}`,
  };
}

/** `YYYY-MM-DD HH:MM:SSZ`, the token service's timestamp format. */
export function entraTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

function assertionTime(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'unknown';
  return new Date(seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}
