import { UsersyncError } from '../core/errors.ts';

// Failures talking to Microsoft, as values: a stable code to branch on, a one-line message that says what
// failed, why and what to do next, and the context (HTTP status, Graph error code, request-id, path).

export type GraphErrorCode =
  | 'bad_secret' // AADSTS7000215 / 7000222
  | 'bad_certificate' // AADSTS700027 / 700024, or the certificate file is unusable
  | 'missing_credential' // AADSTS7000218
  | 'unknown_app' // AADSTS700016
  | 'unknown_tenant' // AADSTS90002 / 900023, msal endpoints_resolution_error
  | 'bad_scope' // AADSTS70011 / 700022: USERSYNC_GRAPH_URL is not a Graph resource
  | 'token_failed' // any other token-service failure
  | 'unreachable' // DNS, refused connection, TLS trust
  | 'unauthorized' // Graph 401 even with a fresh token
  | 'permission_denied' // Graph 403
  | 'not_found' // Graph 404 the caller did not expect
  | 'throttled' // 429 after every retry
  | 'unavailable' // 503/504 or network failures after every retry
  | 'timeout' // no answer within timeoutMs, after every retry
  | 'delta_token_expired' // syncStateNotFound / 410 Gone / resyncRequired
  | 'foreign_link' // a nextLink pointing away from USERSYNC_GRAPH_URL (would leak the token)
  | 'malformed_response' // not JSON, or not the shape Graph documents
  | 'graph_error'; // any other Graph error status

export interface GraphErrorInit {
  code: GraphErrorCode;
  message: string;
  status?: number;
  /** Graph `error.code` or `AADSTS…`. */
  graphCode?: string;
  requestId?: string;
  /** Graph path without origin, version or query (`/groups/delta`). */
  path?: string;
  /** What to do next, also part of the message. */
  hint?: string;
  cause?: unknown;
}

export class GraphError extends UsersyncError {
  declare readonly code: GraphErrorCode;
  readonly status: number | undefined;
  readonly graphCode: string | undefined;
  readonly requestId: string | undefined;
  readonly path: string | undefined;

  constructor(init: GraphErrorInit) {
    const context = Object.fromEntries(
      Object.entries({
        object: init.path,
        status: init.status,
        graphCode: init.graphCode,
        requestId: init.requestId,
      }).filter(([, v]) => v !== undefined),
    );
    super(init.code, oneLine(init.message), { hint: init.hint, context, cause: init.cause });
    this.name = 'GraphError';
    this.status = init.status;
    this.graphCode = init.graphCode;
    this.requestId = init.requestId;
    this.path = init.path;
  }
}

/** The stored deltaLink (or a resume nextLink) is no longer valid: read everything again. */
export class DeltaTokenExpiredError extends GraphError {
  constructor(init: Omit<GraphErrorInit, 'code'>) {
    super({ ...init, code: 'delta_token_expired' });
    this.name = 'DeltaTokenExpiredError';
  }
}

// Graph responses ----------------------------------------------------------------------------------

/** The application permission that is least privileged for a Graph path (reference §9). */
export function permissionFor(path: string): string {
  const segments = graphPath(path).split('/').filter(Boolean);
  const [root, , nav] = segments;
  if (root === 'users') {
    if (nav === 'photo' || nav === 'photos') return 'ProfilePhoto.Read.All';
    if (nav === 'memberOf' || nav === 'transitiveMemberOf') return 'GroupMember.Read.All';
    return 'User.Read.All';
  }
  if (root === 'groups') return 'GroupMember.Read.All';
  if (root === 'directory')
    return segments.includes('microsoft.graph.group') ? 'GroupMember.Read.All' : 'User.Read.All';
  return 'Directory.Read.All';
}

/** `https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=…` → `/groups/delta`. */
export function graphPath(pathOrUrl: string): string {
  let path = pathOrUrl;
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      /* keep as given */
    }
  }
  path = path.split('?')[0];
  if (!path.startsWith('/')) path = `/${path}`;
  return path.replace(/^\/(v1\.0|beta)(?=\/|$)/, '') || '/';
}

interface GraphErrorBody {
  error?: {
    code?: unknown;
    message?: unknown;
    innerError?: Record<string, unknown>;
    innererror?: Record<string, unknown>;
  };
}

/** Graph's `error.code`, `error.message` and request-id from a parsed error body, when present. */
export function readErrorBody(body: unknown): { code?: string; message?: string; requestId?: string } {
  const error = (body as GraphErrorBody | null)?.error;
  if (typeof error !== 'object' || error === null) return {};
  const inner = error.innerError ?? error.innererror;
  const requestId = inner?.['request-id'];
  return {
    code: typeof error.code === 'string' ? error.code : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
    requestId: typeof requestId === 'string' ? requestId : undefined,
  };
}

const DELTA_RESET_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid']);

export interface FailedResponse {
  status: number;
  /** The path or URL that was requested (for $batch items: the item's url). */
  url: string;
  body: unknown;
  requestId?: string | null;
  /** Retries already spent, for the throttling message. */
  retries?: number;
}

/** Translates a Graph error status into an actionable GraphError (or a DeltaTokenExpiredError). */
export function errorFromResponse(response: FailedResponse): GraphError {
  const path = graphPath(response.url);
  const parsed = readErrorBody(response.body);
  const requestId = response.requestId ?? parsed.requestId ?? undefined;
  const graphCode = parsed.code;
  const status = response.status;
  const label = `${status}${graphCode ? ` ${graphCode}` : ''}`;
  const make = (code: GraphErrorCode, what: string, hint: string, showMessage = false) => {
    const said = showMessage && parsed.message ? `: ${trimSentence(parsed.message)}` : '';
    return new GraphError({
      code,
      status,
      graphCode,
      requestId,
      path,
      hint,
      message: withRequestId(`${what} (${label}${said}): ${hint}`, requestId),
    });
  };

  if (DELTA_RESET_CODES.has((graphCode ?? '').toLowerCase()) || (status === 410 && path.endsWith('/delta'))) {
    const hint = 'the delta token expired or was reset; read everything again (a full sync)';
    return new DeltaTokenExpiredError({
      status,
      graphCode,
      requestId,
      path,
      hint,
      message: withRequestId(`Graph rejected the delta link for ${path} (${label}): ${hint}`, requestId),
    });
  }
  switch (status) {
    case 403:
      return make(
        'permission_denied',
        `Graph denied ${path}`,
        `grant ${permissionFor(path)} to the app and re-consent (grant admin consent again)`,
      );
    case 401:
      return make(
        'unauthorized',
        `Graph rejected the access token for ${path}`,
        'check that AZURE_AUTHORITY_HOST and USERSYNC_GRAPH_URL belong to the same cloud and that AZURE_TENANT_ID is the right tenant',
        true,
      );
    case 429:
      return make(
        'throttled',
        `Graph kept throttling ${path}`,
        `still throttled after ${response.retries ?? 0} retries; try again later or lower the number of requests in flight`,
      );
    case 503:
    case 504:
      return make(
        'unavailable',
        `Graph is unavailable for ${path}`,
        `still failing after ${response.retries ?? 0} retries; try again later`,
      );
    case 404:
      return make('not_found', `Graph found nothing at ${path}`, 'the object does not exist (any more)', true);
    default:
      return status >= 500
        ? make('graph_error', `Graph failed on ${path}`, "this is on Microsoft's side; try again later", true)
        : make('graph_error', `Graph refused ${path}`, 'check the properties and filters the sync asks for', true);
  }
}

// Network ------------------------------------------------------------------------------------------

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The first `code` found along an error's `cause` chain (fetch wraps the socket error: TypeError → cause). */
export function networkCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // Node and undici codes are upper case; msal's (`network_error`) are not.
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      if (/socket hang up|other side closed/i.test(message)) return 'ECONNRESET';
      const inline = /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+|ERR_TLS_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)\b/.exec(message);
      if (
        inline &&
        (TLS_CODES.has(inline[1]) ||
          TRANSIENT_CODES.has(inline[1]) ||
          inline[1] === 'ENOTFOUND' ||
          inline[1] === 'ECONNREFUSED')
      )
        return inline[1];
    }
  }
  return undefined;
}

/** A reset, hang-up or timeout that is worth retrying (DNS failures, refusals and TLS trust are not). */
export function isTransientNetworkError(error: unknown): boolean {
  const code = networkCode(error);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** `what` names the endpoint (Graph, the token service); `variable` the setting that points at it. */
export function unreachableError(error: unknown, url: string, what: string, variable: string, retries = 0): GraphError {
  const code = networkCode(error);
  const host = hostOf(url);
  let hint: string;
  let errorCode: GraphErrorCode = 'unreachable';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') hint = `the host name ${host} does not resolve; check ${variable}`;
  else if (code === 'ECONNREFUSED')
    hint = `nothing accepts connections at ${host}; check ${variable} and that the service is running`;
  else if (code !== undefined && TLS_CODES.has(code)) {
    hint = `its TLS certificate is not trusted (${code}); for a self-signed or private CA set NODE_EXTRA_CA_CERTS to the CA's PEM file, or check ${variable}`;
  } else {
    errorCode = 'unavailable';
    hint = `the connection failed (${code ?? errorText(error)})${retries > 0 ? ` ${retries + 1} times` : ''}; check the network and ${variable}, then try again`;
  }
  return new GraphError({
    code: errorCode,
    path: url.startsWith('http') ? graphPath(url) : url,
    hint,
    cause: error,
    message: `Cannot reach ${what} at ${host}: ${hint}`,
  });
}

// Helpers --------------------------------------------------------------------------------------------

export function withRequestId(message: string, requestId: string | null | undefined): string {
  const text = /[.!?]$/.test(message) ? message : `${message}.`;
  return requestId ? `${text} request-id: ${requestId}` : text;
}

/** One line, no trailing period (messages add their own punctuation). */
export function trimSentence(text: string): string {
  return oneLine(text)
    .replace(/\s*Trace ID:.*$/i, '')
    .replace(/[.\s]+$/, '');
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The innermost message: fetch's own is only "fetch failed". */
function errorText(error: unknown): string {
  let e = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? trimSentence(e.message) : String(e);
}
