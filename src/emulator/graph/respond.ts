import { randomUUID } from 'node:crypto';

// Graph's response conventions in one place: headers, error bodies, OData context URLs.

export const GRAPH_JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** A transport-neutral Graph response: routes return these; the HTTP layer and $batch serialise them. */
export interface GraphResult {
  status: number;
  headers?: Record<string, string>;
  /** JSON value, raw bytes (photos), or text ($count). */
  body?: unknown;
}

export interface GraphErrorData {
  status: number;
  code: string;
  message: string;
}

/** `innerError.date` has no fractions and no Z, unlike every other Graph date. */
export function innerErrorDate(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 19);
}

export function graphError(
  status: number,
  code: string,
  message: string,
  requestId: string = randomUUID(),
  extraHeaders: Record<string, string> = {},
): GraphResult {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...extraHeaders },
    body: {
      error: {
        code,
        message,
        innerError: { date: innerErrorDate(), 'request-id': requestId, 'client-request-id': requestId },
      },
    },
  };
}

/**
 * An error body's `innerError.client-request-id` is the caller's `client-request-id` header when it sent one (every
 * SDK does), and the request-id otherwise; the body is changed in place and returned.
 */
export function withClientRequestId(result: GraphResult, clientRequestId: string | null | undefined): GraphResult {
  const inner = (result.body as { error?: { innerError?: Record<string, unknown> } } | undefined)?.error?.innerError;
  if (clientRequestId && inner && 'client-request-id' in inner) inner['client-request-id'] = clientRequestId;
  return result;
}

export function fromErrorData(error: GraphErrorData, requestId?: string): GraphResult {
  return graphError(error.status, error.code, error.message, requestId);
}

export function graphJson(body: unknown, status = 200): GraphResult {
  return { status, headers: { 'Content-Type': GRAPH_JSON_TYPE, 'OData-Version': '4.0' }, body };
}

export const notFound = (what: string): GraphErrorData => ({
  status: 404,
  code: 'Request_ResourceNotFound',
  message: `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
});

export const throttled = (retryAfterSeconds: number, requestId: string = randomUUID()): GraphResult => ({
  status: 429,
  headers: { 'Content-Type': 'application/json', 'Retry-After': String(retryAfterSeconds) },
  body: {
    error: {
      code: 'TooManyRequests',
      message: 'Please retry again later.',
      innerError: {
        code: '429',
        date: innerErrorDate(),
        message: 'Please retry after',
        'request-id': requestId,
        status: '429',
      },
    },
  },
});

export const unavailable = (retryAfterSeconds: number | null, requestId: string = randomUUID()): GraphResult => ({
  status: 503,
  headers: {
    'Content-Type': 'application/json',
    ...(retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) }),
  },
  body: {
    error: {
      code: 'serviceNotAvailable',
      message: 'Service unavailable. Please try again later.',
      innerError: { date: innerErrorDate(), 'request-id': requestId, 'client-request-id': requestId },
    },
  },
});
