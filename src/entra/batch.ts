import { z } from 'zod';
import { errorFromResponse, GraphError, withRequestId } from './errors.ts';
import { RETRYABLE_STATUSES, type GraphHttp } from './http.ts';

// JSON batching (reference §6): ≤ 20 GETs per POST /$batch, answers correlated by id, binary bodies
// decoded from base64, and throttled items retried on their own after the longest Retry-After.

export const MAX_BATCH_SIZE = 20;
/** When only retries are left, those due within this long of the first travel together. */
const GATHER_MS = 250;

export interface BatchRequest {
  id: string;
  /** Relative to the version root: `/users/{id}/photo`. */
  url: string;
  headers?: Record<string, string>;
}

export interface BatchAnswer {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON, or the bytes when the item's Content-Type is not JSON (photos), or undefined when empty. */
  body: unknown;
}

export interface BatchOptions {
  /** $batch posts in flight at once (the HTTP layer bounds all requests too). Photos: Outlook allows 4. */
  concurrency?: number;
  /** Shared by several runBatch calls at once (e.g. overlapping photo chunks): a post is sent only holding one of its slots. */
  slots?: { acquire(): Promise<() => void> };
}

const responseSchema = z.looseObject({
  responses: z.array(
    z.looseObject({
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

// The throttling page says a batch with throttled items may itself fail with 424: send it all again. An outer 429/503/504 is
// retried here too, not slept on by the HTTP layer: its items wait in the queue while this worker goes on with other posts.
const OUTER_RETRY = [424, 429, 503, 504];

interface Pending {
  request: BatchRequest;
  /** Answers for this item that said to try again (429, 503, 504, or none). */
  attempts: number;
  /** Posts with this item that failed as a whole (424, or an outer 429, 503, 504) in a row. */
  postFailures: number;
  /** Not to be sent again before this instant (http.now() clock). */
  notBefore: number;
}

/**
 * Runs GETs through $batch, `concurrency` posts at a time. Throttled items (429, 503, 504, or no answer) wait what Graph asked (the longest
 * Retry-After of their post, else backoff) in a shared queue, while the posts in flight go on with the rest: one slow item never holds a
 * whole post's worth of work, and retried items are packed with others into full posts.
 */
export async function runBatch(
  http: GraphHttp,
  requests: readonly BatchRequest[],
  options: BatchOptions = {},
): Promise<Map<string, BatchAnswer>> {
  const seen = new Set<string>();
  for (const r of requests) {
    const key = r.id.toLowerCase();
    if (seen.has(key))
      throw new RangeError(`batch request ids must be unique (case-insensitively); '${r.id}' appears twice`);
    seen.add(key);
    if (/^https?:|^\/?(v1\.0|beta)\//i.test(r.url))
      throw new RangeError(`batch url '${r.url}' must be relative to the version root, such as /users/{id}`);
  }

  const answers = new Map<string, BatchAnswer>();
  let nextFresh = 0;
  const waiting: Pending[] = [];
  let failure: unknown;

  /** Waits until `due` (on http's clock); the items due by then count as due even if a fake clock did not move. */
  const sleepUntil = async (due: number) => {
    await http.sleep(Math.max(0, due - http.now()));
    const now = http.now();
    for (const item of waiting) if (item.notBefore <= due) item.notBefore = Math.min(item.notBefore, now);
  };

  /** The next post's items: retries whose wait is over first, then fresh requests; null when nothing is left for this worker. */
  const take = async (): Promise<Pending[] | null> => {
    for (;;) {
      if (failure !== undefined) return null;
      waiting.sort((a, b) => a.notBefore - b.notBefore);
      if (nextFresh >= requests.length) {
        // Nothing fresh and nothing waiting: the posts still in flight handle their own retries.
        if (waiting.length === 0) return null;
        // Only retries are left: rather than a few now and a few a moment later, those due soon travel in one post.
        const first = Math.max(http.now(), waiting[0].notBefore);
        const last = waiting
          .slice(0, MAX_BATCH_SIZE)
          .filter((item) => item.notBefore <= first + GATHER_MS)
          .at(-1)!.notBefore;
        if (last > http.now()) await sleepUntil(last);
      }
      const now = http.now();
      const post: Pending[] = [];
      while (post.length < MAX_BATCH_SIZE && waiting.length > 0 && waiting[0].notBefore <= now)
        post.push(waiting.shift()!);
      while (post.length < MAX_BATCH_SIZE && nextFresh < requests.length)
        post.push({ request: requests[nextFresh++], attempts: 0, postFailures: 0, notBefore: 0 });
      if (post.length > 0) return post;
      // Another worker took what was due meanwhile: look again.
    }
  };

  const worker = async () => {
    for (let post = await take(); post !== null; post = await take()) {
      const release = await options.slots?.acquire();
      try {
        await sendPost(http, post, answers, waiting);
      } catch (error) {
        failure ??= error;
      } finally {
        release?.();
      }
    }
  };
  await Promise.all(
    Array.from(
      { length: Math.max(1, Math.min(options.concurrency ?? 4, Math.ceil(requests.length / MAX_BATCH_SIZE))) },
      worker,
    ),
  );
  if (failure !== undefined) throw failure;
  return answers;
}

/** One POST /$batch: answers go to `answers`, items to retry back to `waiting` with the wait Graph asked for. */
async function sendPost(
  http: GraphHttp,
  post: Pending[],
  answers: Map<string, BatchAnswer>,
  waiting: Pending[],
): Promise<void> {
  const response = await http.post(
    '/$batch',
    {
      requests: post.map(({ request: r }) => ({
        id: r.id,
        method: 'GET',
        url: r.url.startsWith('/') ? r.url : `/${r.url}`,
        ...(r.headers ? { headers: r.headers } : {}),
      })),
    },
    { allow: OUTER_RETRY, callerRetries: true },
  );
  if (OUTER_RETRY.includes(response.status)) {
    const failures = Math.max(...post.map((p) => p.postFailures));
    if (failures >= http.maxRetries)
      throw errorFromResponse({
        status: response.status,
        url: '/$batch',
        body: safeJson(response.json),
        requestId: response.requestId,
        retries: failures,
      });
    const delay = http.retryDelayMs(failures, response.headers.get('retry-after'));
    http.logger?.debug(
      {
        path: '/$batch',
        status: response.status,
        items: post.length,
        attempt: failures + 1,
        delayMs: delay,
        requestId: response.requestId,
      },
      'graph batch throttled or unavailable; retrying its items',
    );
    const notBefore = http.now() + delay;
    for (const item of post) waiting.push({ ...item, postFailures: item.postFailures + 1, notBefore });
    return;
  }
  const parsed = responseSchema.safeParse(response.json());
  if (!parsed.success) {
    throw new GraphError({
      code: 'malformed_response',
      status: response.status,
      requestId: response.requestId ?? undefined,
      path: '/$batch',
      message: withRequestId(
        `Graph returned a malformed $batch answer (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}); try again, and report it with the request-id if it persists`,
        response.requestId,
      ),
    });
  }

  const byId = new Map(parsed.data.responses.map((item) => [item.id.toLowerCase(), item]));
  const retry: Pending[] = [];
  let longestRetryAfter: string | null = null;
  let longestMs = -1;
  let throttledItems = 0;
  for (const pending of post) {
    const { request } = pending;
    const item = byId.get(request.id.toLowerCase());
    // A missing answer is treated like a throttled one: ask again.
    if (item === undefined || RETRYABLE_STATUSES.has(item.status)) {
      if (pending.attempts >= http.maxRetries) {
        throw errorFromResponse({
          status: item?.status ?? 503,
          url: request.url,
          body: item?.body,
          retries: pending.attempts,
          requestId: response.requestId,
        });
      }
      retry.push(pending);
      if (item?.status === 429 || item?.status === 503) throttledItems++;
      const retryAfter = item ? header(item.headers, 'retry-after') : undefined;
      const ms = retryAfter === undefined ? -1 : http.retryDelayMs(0, retryAfter);
      if (retryAfter !== undefined && ms > longestMs) {
        longestMs = ms;
        longestRetryAfter = retryAfter;
      }
      continue;
    }
    const headers = lowerCase(item.headers);
    answers.set(request.id, { status: item.status, headers, body: decodeBody(item.body, headers['content-type']) });
  }
  if (retry.length === 0) return;
  // Graph's advice for batches: retry the failed items after the longest Retry-After among them; without one, each item backs off on
  // its own count (an item unlucky five times does not hold back the others).
  const now = http.now();
  const delays = retry.map((item) => http.retryDelayMs(item.attempts, longestRetryAfter));
  const longest = Math.max(...delays);
  // Items are throttled one by one, and each counts; the requests in flight are lowered when at least half of a post was.
  if (throttledItems > 0) http.throttled(longest, throttledItems, throttledItems * 2 >= post.length);
  http.logger?.debug(
    { path: '/$batch', items: retry.length, delayMs: longest, requestId: response.requestId },
    'graph batch items throttled or unavailable; retrying',
  );
  // The post itself went through, so the item's run of failed posts is over.
  retry.forEach((item, i) =>
    waiting.push({ ...item, attempts: item.attempts + 1, postFailures: 0, notBefore: now + delays[i] }),
  );
}

/** JSON stays JSON; a string body of a non-JSON item is base64 (photos). */
function decodeBody(body: unknown, contentType: string | undefined): unknown {
  if (typeof body !== 'string') return body;
  if (contentType !== undefined && !/json/i.test(contentType) && !/^text\//i.test(contentType))
    return Buffer.from(body, 'base64');
  return body;
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

function lowerCase(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) out[key.toLowerCase()] = value;
  return out;
}

function safeJson(json: () => unknown): unknown {
  try {
    return json();
  } catch {
    return null;
  }
}
