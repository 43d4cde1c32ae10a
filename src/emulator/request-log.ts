// What the emulator was asked: counters per endpoint (ids normalised away), totals, and the last N
// requests. Tests read it to assert request budgets ("delta needs at most k calls"); the demo shows it.

export interface RequestRecord {
  method: string;
  /** Path as received, query string allowed (it is kept in `recent`, ignored for the endpoint key). */
  path: string;
  status: number;
  durationMs: number;
  /** An item of a $batch (its path may be the item's relative url, e.g. `/users/{id}/manager`). */
  inBatch?: boolean;
  /** The emulator answered 429 (or another injected fault) to this request. */
  throttled?: boolean;
}

export type EndpointKind = 'graph' | 'token' | 'auth' | 'control' | 'other';

export interface RequestEntry {
  at: string;
  method: string;
  path: string;
  endpoint: string;
  kind: EndpointKind;
  status: number;
  durationMs: number;
  inBatch: boolean;
  throttled: boolean;
}

export interface EndpointStats {
  kind: EndpointKind;
  /** HTTP requests plus $batch items hitting this endpoint. */
  count: number;
  /** Of `count`, how many were $batch items. */
  batched: number;
  throttled: number;
  byStatus: Record<string, number>;
  totalDurationMs: number;
  maxDurationMs: number;
}

export interface RequestTotals {
  /** HTTP requests of every kind ($batch items not counted: their $batch POST is). */
  requests: number;
  /** HTTP requests to Graph (a $batch POST counts once) — what the CLI reports as graphRequests. */
  graphRequests: number;
  tokenRequests: number;
  /** Items carried inside $batch requests. */
  batchedItems: number;
  /** Requests and items marked throttled. */
  throttled: number;
  /** HTTP response statuses. */
  byStatus: Record<string, number>;
  /** Statuses of $batch items. */
  batchedByStatus: Record<string, number>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSION = /^(v1\.0|beta)$/;

/** Segments after which the next segment is a key (users/{id}, photos/{size}, members/{id}/$ref …). */
const COLLECTIONS = new Set([
  'users',
  'groups',
  'directoryObjects',
  'subscriptions',
  'servicePrincipals',
  'applications',
  'deletedItems',
  'members',
  'owners',
  'photos',
  'transitiveMembers',
  'memberOf',
  'transitiveMemberOf',
  'directReports',
  'contacts',
  'devices',
  'appRoleAssignments',
  'appRoleAssignedTo',
  'extensionProperties',
  'organization',
  'domains',
  'oauth2PermissionGrants',
  'registeredOwners',
  'registeredUsers',
  'administrativeUnits',
  'directoryRoles',
  'roleDefinitions',
  'roleAssignments',
  'schemaExtensions',
  'sites',
  'drives',
  'items',
]);

/** Names that may follow a collection without being a key. */
const ACTIONS = new Set([
  'delta',
  'getByIds',
  'validateProperties',
  'getAvailableExtensionProperties',
  'checkMemberGroups',
  'getMemberGroups',
  'checkMemberObjects',
  'getMemberObjects',
  'getUserOwnedObjects',
  'me',
  'root',
]);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function normaliseSegment(segment: string, previous: string | undefined): string {
  const decoded = decode(segment);
  // OData key syntax: users('adele@contoso.com'), users(userPrincipalName='…'); delta() stays.
  const call = /^([A-Za-z][\w.]*)\((.+)\)$/.exec(decoded);
  if (call) return `${call[1]}({id})`;
  if (GUID.test(decoded) || decoded.includes('@')) return '{id}';
  if (decoded.startsWith('$') || decoded.startsWith('microsoft.graph.') || decoded.endsWith('()')) return decoded;
  if (previous !== undefined && COLLECTIONS.has(previous) && !ACTIONS.has(decoded)) return '{id}';
  return decoded;
}

/**
 * The endpoint key a request is counted under: `GET /v1.0/users/{id}/manager`, `POST /v1.0/$batch`,
 * `POST /{tenant}/oauth2/v2.0/token`. GUIDs, UPNs (anything with @), OData keys and the segment after a
 * collection become `{id}`; a $batch item's relative url is counted under `/v1.0`.
 */
export function normaliseEndpoint(
  method: string,
  rawPath: string,
  inBatch = false,
): { endpoint: string; kind: EndpointKind } {
  const verb = method.toUpperCase();
  let path = rawPath;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  if (!path.startsWith('/')) path = `/${path}`;
  let segments = path.split('/').filter((s) => s !== '');
  if (inBatch && !(segments.length > 0 && VERSION.test(segments[0]))) segments = ['v1.0', ...segments];
  if (segments.length === 0) return { endpoint: `${verb} /`, kind: 'other' };

  const first = segments[0];
  let kind: EndpointKind;
  let out: string[];
  if (VERSION.test(first) || first === '_emulator') {
    kind = first === '_emulator' ? 'control' : 'graph';
    out = [first];
    for (let i = 1; i < segments.length; i++) out.push(normaliseSegment(segments[i], segments[i - 1]));
  } else if (
    segments.length >= 2 &&
    (segments[1] === 'oauth2' ||
      segments[1] === 'v2.0' ||
      segments[1] === 'discovery' ||
      segments[1] === 'adminconsent' ||
      segments[1] === '.well-known')
  ) {
    // Entra: /{tenant}/oauth2/v2.0/token, /{tenant}/v2.0/.well-known/openid-configuration, /common/discovery/instance
    const rest = segments.slice(1).map(decode);
    kind = rest[rest.length - 1] === 'token' && rest.includes('oauth2') ? 'token' : 'auth';
    out = ['{tenant}', ...rest];
  } else {
    kind = 'other';
    out = segments.map(decode);
  }
  return { endpoint: `${verb} /${out.join('/')}`, kind };
}

export interface RequestLogOptions {
  /** Size of the ring buffer of recent requests (default 500). */
  capacity?: number;
  now?: () => number;
}

export type RequestLog = ReturnType<typeof createRequestLog>;

export function createRequestLog(options: RequestLogOptions = {}) {
  const capacity = options.capacity ?? 500;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
  const now = options.now ?? Date.now;

  let since = now();
  let endpoints = new Map<string, EndpointStats>();
  let totals = emptyTotals();
  let ring: RequestEntry[] = [];
  let head = 0; // index of the oldest entry once the ring is full

  function record(request: RequestRecord): RequestEntry {
    const inBatch = request.inBatch ?? false;
    const throttled = request.throttled ?? false;
    const { endpoint, kind } = normaliseEndpoint(request.method, request.path, inBatch);
    const durationMs = Math.max(0, request.durationMs);
    const status = String(request.status);

    let stats = endpoints.get(endpoint);
    if (!stats)
      endpoints.set(
        endpoint,
        (stats = { kind, count: 0, batched: 0, throttled: 0, byStatus: {}, totalDurationMs: 0, maxDurationMs: 0 }),
      );
    stats.count++;
    if (inBatch) stats.batched++;
    if (throttled) stats.throttled++;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    stats.totalDurationMs += durationMs;
    if (durationMs > stats.maxDurationMs) stats.maxDurationMs = durationMs;

    if (inBatch) {
      totals.batchedItems++;
      totals.batchedByStatus[status] = (totals.batchedByStatus[status] ?? 0) + 1;
    } else {
      totals.requests++;
      if (kind === 'graph') totals.graphRequests++;
      if (kind === 'token') totals.tokenRequests++;
      totals.byStatus[status] = (totals.byStatus[status] ?? 0) + 1;
    }
    if (throttled) totals.throttled++;

    const entry: RequestEntry = {
      at: new Date(now()).toISOString(),
      method: request.method.toUpperCase(),
      path: request.path,
      endpoint,
      kind,
      status: request.status,
      durationMs,
      inBatch,
      throttled,
    };
    if (ring.length < capacity) ring.push(entry);
    else {
      ring[head] = entry;
      head = (head + 1) % capacity;
    }
    return entry;
  }

  /** The last requests, oldest first. */
  function recent(): RequestEntry[] {
    return ring.length < capacity ? ring.slice() : [...ring.slice(head), ...ring.slice(0, head)];
  }

  /** How many requests (and $batch items) hit an endpoint key, e.g. `GET /v1.0/users/delta`. */
  function count(endpoint: string): number {
    return endpoints.get(endpoint)?.count ?? 0;
  }

  function reset(): void {
    since = now();
    endpoints = new Map();
    totals = emptyTotals();
    ring = [];
    head = 0;
  }

  function snapshot() {
    const byEndpoint: Record<string, EndpointStats> = {};
    for (const key of [...endpoints.keys()].sort()) {
      const s = endpoints.get(key)!;
      byEndpoint[key] = { ...s, byStatus: { ...s.byStatus } };
    }
    return {
      since: new Date(since).toISOString(),
      totals: { ...totals, byStatus: { ...totals.byStatus }, batchedByStatus: { ...totals.batchedByStatus } },
      endpoints: byEndpoint,
      recent: recent(),
    };
  }

  return {
    record,
    recent,
    count,
    reset,
    snapshot,
    get totals(): Readonly<RequestTotals> {
      return totals;
    },
  };
}

function emptyTotals(): RequestTotals {
  return {
    requests: 0,
    graphRequests: 0,
    tokenRequests: 0,
    batchedItems: 0,
    throttled: 0,
    byStatus: {},
    batchedByStatus: {},
  };
}
