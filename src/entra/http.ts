import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  errorFromResponse,
  GraphError,
  graphPath,
  isTransientNetworkError,
  trimSentence,
  unreachableError,
  withRequestId,
} from './errors.ts';

// The one HTTP layer every Graph call goes through: URL resolution, bearer token, bounded concurrency,
// timeouts, retries (429/503/504 and transient network failures, honouring Retry-After), one token
// refresh on 401, error translation, and a count of every request sent (retries and $batch posts included).

export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The slice of fetch we use; the global fetch and undici's (tests trusting a CA) both fit. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<FetchResponseLike>;

export interface GraphResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The absolute URL requested. */
  url: string;
  bytes: Buffer;
  requestId: string | null;
  /** The body parsed as JSON; a GraphError (malformed_response) when it is not JSON. */
  json(): unknown;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Error statuses the caller treats as answers (e.g. 404 for "no photo"); others throw a GraphError. */
  allow?: readonly number[];
  /** The caller retries throttled answers itself (429/503/504 among `allow` are returned at once, not slept on here). */
  callerRetries?: boolean;
}

export interface GraphHttpOptions {
  /** Graph base without the version, e.g. https://graph.microsoft.com. */
  graphUrl: string;
  getToken: (options?: { forceRefresh?: boolean }) => Promise<string>;
  fetch?: FetchLike;
  maxInFlight?: number;
  timeoutMs?: number;
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The clock that `sleep` advances (tests pass a fake pair). */
  now?: () => number;
  random?: () => number;
  logger?: HttpLogger;
}

export type HttpLogger = Pick<Logger, 'debug' | 'warn'>;

export interface GraphHttp {
  readonly graphUrl: string;
  /** Whether a link Graph returned points at the configured Graph (only those are followed or stored). */
  isGraphLink(url: string): boolean;
  get(pathOrUrl: string, options?: RequestOptions): Promise<GraphResponse>;
  post(pathOrUrl: string, body: unknown, options?: RequestOptions): Promise<GraphResponse>;
  /** Every HTTP request sent to Graph since creation or reset(), retries and $batch posts included. */
  readonly requestCount: number;
  /** Throttled answers (429, 503) and throttled $batch items since creation or reset(). */
  readonly throttleCount: number;
  reset(): void;
  /** The same client (connection pool, limits, request count) logging to `logger`, e.g. one tagged with a run's ids. */
  withLogger(logger: HttpLogger | undefined): GraphHttp;
  readonly logger: HttpLogger | undefined;
  /**
   * `items` $batch items were throttled (default 1): they count as throttled answers, and unless `lower` is false the
   * requests in flight are lowered as for a throttled request.
   */
  throttled(waitMs: number, items?: number, lower?: boolean): void;
  /** Requests allowed in flight now (lowered while Graph throttles, up to maxInFlight). */
  readonly inFlightLimit: number;
  readonly now: () => number;
  /** The retry policy, shared with $batch item retries. */
  readonly maxRetries: number;
  retryDelayMs(attempt: number, retryAfter?: string | null): number;
  sleep(ms: number): Promise<void>;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const USER_AGENT = 'ISV|usersync|usersync/0.1';

export function createGraphHttp(options: GraphHttpOptions): GraphHttp {
  const graphUrl = options.graphUrl.replace(/\/+$/, '');
  const origin = new URL(graphUrl).origin;
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 10;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const concurrency = createAdaptiveLimit(options.maxInFlight ?? 8, options.now);
  const semaphore = concurrency.semaphore;
  let requestCount = 0;
  let throttleCount = 0;

  const retryDelayMs = (attempt: number, retryAfter?: string | null) =>
    parseRetryAfter(retryAfter) ?? backoffMs(attempt, random);

  function resolve(pathOrUrl: string): string {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      // A link elsewhere would receive our bearer token: follow links only on the configured Graph host.
      const other = new URL(pathOrUrl).origin;
      if (other !== origin) {
        throw new GraphError({
          code: 'foreign_link',
          path: graphPath(pathOrUrl),
          message:
            `A link to ${other} was about to be followed, but the configured Graph is ${origin}; it was not followed and no token was sent. ` +
            'If it is a stored delta link from an earlier version, start over with `usersync sync --full`; otherwise check what sits between usersync and Graph (a proxy rewriting answers)',
        });
      }
      return pathOrUrl;
    }
    const path = pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`;
    return /^\/(v1\.0|beta)(\/|$)/.test(path) ? `${graphUrl}${path}` : `${graphUrl}/v1.0${path}`;
  }

  async function send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<GraphResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      requestCount++;
      const res = await doFetch(url, { method, headers, body, signal: controller.signal });
      const bytes = Buffer.from(await res.arrayBuffer());
      return toResponse(url, res.status, res.headers, bytes);
    } catch (error) {
      if (controller.signal.aborted)
        throw Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT', timeout: true });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  function throttled(logger: HttpLogger | undefined, waitMs: number, items = 1, lower = true): void {
    throttleCount += items;
    if (!lower) return;
    const lowered = concurrency.throttled(waitMs);
    if (lowered !== null)
      logger?.debug({ inFlightLimit: lowered }, 'graph is throttling; fewer requests in flight until it recovers');
  }

  async function request(
    logger: HttpLogger | undefined,
    method: string,
    pathOrUrl: string,
    body: unknown,
    requestOptions: RequestOptions = {},
  ): Promise<GraphResponse> {
    const url = resolve(pathOrUrl);
    const path = graphPath(url);
    // One client-request-id per logical call, kept across retries, so support can follow it.
    const clientRequestId = randomUUID();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let retries = 0;
    let refreshed = false;
    let forceRefresh = false;
    for (;;) {
      const token = await (forceRefresh ? options.getToken({ forceRefresh: true }) : options.getToken());
      forceRefresh = false;
      const headers: Record<string, string> = {
        'User-Agent': USER_AGENT,
        ...requestOptions.headers,
        Authorization: `Bearer ${token}`,
        'client-request-id': clientRequestId,
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
      };
      // A retry has already waited what Graph asked: it goes ahead of requests that have not been sent yet.
      const release = await semaphore.acquire(retries > 0);
      let response: GraphResponse;
      try {
        response = await send(method, url, headers, payload);
      } catch (error) {
        release();
        if (!isTransientNetworkError(error)) throw unreachableError(error, url, 'Graph', 'USERSYNC_GRAPH_URL');
        if (retries >= maxRetries) {
          if ((error as { timeout?: boolean }).timeout) {
            throw new GraphError({
              code: 'timeout',
              path,
              cause: error,
              message: `Graph did not answer ${method} ${path} within ${timeoutMs} ms (${retries + 1} attempts): check the network, or try again later`,
            });
          }
          throw unreachableError(error, url, 'Graph', 'USERSYNC_GRAPH_URL', retries);
        }
        const delay = retryDelayMs(retries);
        logger?.debug(
          { path, error: (error as { code?: string }).code ?? String(error), attempt: retries + 1, delayMs: delay },
          'graph request failed on the network; retrying',
        );
        retries++;
        await sleep(delay);
        continue;
      }
      release();

      const { status } = response;
      // What Graph asks us to wait (or our backoff), for both the adaptive limit and this request's retry.
      const delay = RETRYABLE_STATUSES.has(status) ? retryDelayMs(retries, response.headers.get('retry-after')) : 0;
      if (status === 429 || status === 503) throttled(logger, delay);
      else if (status < 400) concurrency.succeeded();
      if (
        RETRYABLE_STATUSES.has(status) &&
        retries < maxRetries &&
        !(requestOptions.callerRetries && requestOptions.allow?.includes(status))
      ) {
        logger?.debug(
          { path, status, attempt: retries + 1, delayMs: delay, requestId: response.requestId },
          'graph request throttled or unavailable; retrying',
        );
        retries++;
        await sleep(delay);
        continue;
      }
      if (status === 401 && !refreshed) {
        // The cached token may have been revoked or minted before a consent change: one fresh token, one retry.
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (status >= 400 && !requestOptions.allow?.includes(status)) {
        throw errorFromResponse({ status, url, body: safeJson(response), requestId: response.requestId, retries });
      }
      return response;
    }
  }

  const client = (logger: HttpLogger | undefined): GraphHttp => ({
    graphUrl,
    isGraphLink: (url) => URL.canParse(url) && new URL(url).origin === origin,
    get: (pathOrUrl, requestOptions) => request(logger, 'GET', pathOrUrl, undefined, requestOptions),
    post: (pathOrUrl, body, requestOptions) => request(logger, 'POST', pathOrUrl, body, requestOptions),
    get requestCount() {
      return requestCount;
    },
    get throttleCount() {
      return throttleCount;
    },
    reset() {
      requestCount = 0;
      throttleCount = 0;
    },
    withLogger: client,
    logger,
    throttled: (waitMs, items, lower) => throttled(logger, waitMs, items, lower),
    get inFlightLimit() {
      return semaphore.limit;
    },
    now,
    maxRetries,
    retryDelayMs,
    sleep,
  });
  return client(options.logger);
}

function toResponse(url: string, status: number, headers: FetchResponseLike['headers'], bytes: Buffer): GraphResponse {
  const requestId = headers.get('request-id');
  let parsed: { value: unknown } | undefined;
  return {
    status,
    headers,
    url,
    bytes,
    requestId,
    json() {
      if (parsed) return parsed.value;
      try {
        parsed = { value: JSON.parse(bytes.toString('utf8')) };
      } catch (error) {
        throw new GraphError({
          code: 'malformed_response',
          status,
          requestId: requestId ?? undefined,
          path: graphPath(url),
          message: withRequestId(
            `Graph returned invalid JSON for ${graphPath(url)} (${status}, ${headers.get('content-type') ?? 'no content type'}): ${trimSentence((error as Error).message)}; try again, and report it with the request-id if it persists`,
            requestId,
          ),
        });
      }
      return parsed.value;
    },
  };
}

function safeJson(response: GraphResponse): unknown {
  try {
    return response.json();
  } catch {
    return null;
  }
}

/** Retry-After in milliseconds: delta-seconds (fractions allowed, as Graph once sent `2.128`) or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/[a-z]/i.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return null;
}

/** Exponential backoff (0.5 s, 1 s, 2 s … capped at 30 s) with equal jitter: half fixed, half random. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * A counting semaphore whose limit can change; `acquire` resolves to its release function (idempotent). `urgent` waiters
 * (retries that already waited what Graph asked) go to the front of the queue.
 */
export function createSemaphore(initialLimit: number) {
  if (!Number.isInteger(initialLimit) || initialLimit < 1)
    throw new RangeError(`maxInFlight must be a whole number ≥ 1, got ${initialLimit}`);
  let limit = initialLimit;
  let active = 0;
  const waiting: (() => void)[] = [];
  const wake = () => {
    while (active < limit && waiting.length > 0) {
      active++;
      waiting.shift()!();
    }
  };
  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      wake();
    };
  };
  return {
    async acquire(urgent = false): Promise<() => void> {
      if (active < limit && waiting.length === 0) active++;
      else await new Promise<void>((resolve) => (urgent ? waiting.unshift(resolve) : waiting.push(resolve)));
      return releaser();
    },
    get limit() {
      return limit;
    },
    /** A lower limit takes effect as requests finish (none is interrupted); a higher one at once. */
    set limit(value: number) {
      limit = Math.max(1, Math.floor(value));
      wake();
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}

/**
 * Requests in flight, adapted to how Graph answers (additive increase, multiplicative decrease): a 429 or 503 halves the
 * limit, at most once per wait Graph asked for (the requests already in flight were sent before it spoke); then each
 * `limit` answers in a row without one raise it by one, back up to `max`.
 */
export function createAdaptiveLimit(max: number, now: () => number = Date.now) {
  const semaphore = createSemaphore(max);
  let quietUntil = 0;
  let successes = 0;
  return {
    semaphore,
    /** Returns the new limit when this answer lowered it. */
    throttled(waitMs: number): number | null {
      successes = 0;
      if (now() < quietUntil || semaphore.limit === 1) return null;
      quietUntil = now() + Math.max(waitMs, 1000);
      semaphore.limit = Math.ceil(semaphore.limit / 2);
      return semaphore.limit;
    },
    succeeded(): void {
      if (semaphore.limit >= max) return;
      if (++successes >= semaphore.limit) {
        successes = 0;
        semaphore.limit = semaphore.limit + 1;
      }
    },
  };
}
