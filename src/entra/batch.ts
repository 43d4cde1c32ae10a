import { z } from 'zod';
import { errorFromResponse, GraphError, withRequestId } from './errors.ts';
import { RETRYABLE_STATUSES, type GraphHttp } from './http.ts';

// JSON batching (reference §6): ≤ 20 GETs per POST /$batch, answers correlated by id, binary bodies
// decoded from base64, and throttled items retried on their own after the longest Retry-After.

export const MAX_BATCH_SIZE = 20;

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
}

const responseSchema = z.looseObject({
  responses: z.array(z.looseObject({
    id: z.string(),
    status: z.number().int(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })),
});

// The throttling page says a batch with throttled items may itself fail with 424: send it all again.
// (An outer 429/503/504 is retried by the HTTP layer like any request.)
const OUTER_RETRY = [424];

export async function runBatch(http: GraphHttp, requests: readonly BatchRequest[], options: BatchOptions = {}): Promise<Map<string, BatchAnswer>> {
  const seen = new Set<string>();
  for (const r of requests) {
    const key = r.id.toLowerCase();
    if (seen.has(key)) throw new RangeError(`batch request ids must be unique (case-insensitively); '${r.id}' appears twice`);
    seen.add(key);
    if (/^https?:|^\/?(v1\.0|beta)\//i.test(r.url)) throw new RangeError(`batch url '${r.url}' must be relative to the version root, such as /users/{id}`);
  }
  const chunks: BatchRequest[][] = [];
  for (let i = 0; i < requests.length; i += MAX_BATCH_SIZE) chunks.push(requests.slice(i, i + MAX_BATCH_SIZE));

  const answers = new Map<string, BatchAnswer>();
  let nextChunk = 0;
  const worker = async () => {
    while (nextChunk < chunks.length) {
      const chunk = chunks[nextChunk++];
      for (const [id, answer] of await runChunk(http, chunk)) answers.set(id, answer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, chunks.length) }, worker));
  return answers;
}

async function runChunk(http: GraphHttp, chunk: BatchRequest[]): Promise<Map<string, BatchAnswer>> {
  const answers = new Map<string, BatchAnswer>();
  let pending = chunk;
  for (let attempt = 0; ; attempt++) {
    const response = await http.post('/$batch', {
      requests: pending.map((r) => ({ id: r.id, method: 'GET', url: r.url.startsWith('/') ? r.url : `/${r.url}`, ...(r.headers ? { headers: r.headers } : {}) })),
    }, { allow: OUTER_RETRY });

    if (OUTER_RETRY.includes(response.status)) {
      if (attempt >= http.maxRetries) throw errorFromResponse({ status: response.status, url: '/$batch', body: safeJson(response.json), requestId: response.requestId, retries: attempt });
      await http.sleep(http.retryDelayMs(attempt, response.headers.get('retry-after')));
      continue;
    }
    const parsed = responseSchema.safeParse(response.json());
    if (!parsed.success) {
      throw new GraphError({
        code: 'malformed_response', status: response.status, requestId: response.requestId ?? undefined, path: '/$batch',
        message: withRequestId(`Graph returned a malformed $batch answer (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}); try again, and report it with the request-id if it persists`, response.requestId),
      });
    }

    const byId = new Map(parsed.data.responses.map((item) => [item.id.toLowerCase(), item]));
    const retry: BatchRequest[] = [];
    let longestRetryAfter: string | null = null;
    let longestMs = -1;
    for (const request of pending) {
      const item = byId.get(request.id.toLowerCase());
      // A missing answer is treated like a throttled one: ask again.
      if (item === undefined || RETRYABLE_STATUSES.has(item.status)) {
        retry.push(request);
        const retryAfter = item ? header(item.headers, 'retry-after') : undefined;
        const ms = retryAfter === undefined ? -1 : http.retryDelayMs(0, retryAfter);
        if (retryAfter !== undefined && ms > longestMs) { longestMs = ms; longestRetryAfter = retryAfter; }
        if (attempt >= http.maxRetries) {
          throw errorFromResponse({ status: item?.status ?? 503, url: request.url, body: item?.body, retries: attempt, requestId: response.requestId });
        }
        continue;
      }
      const headers = lowerCase(item.headers);
      answers.set(request.id, { status: item.status, headers, body: decodeBody(item.body, headers['content-type']) });
    }
    if (retry.length === 0) return answers;
    pending = retry;
    const delay = http.retryDelayMs(attempt, longestRetryAfter);
    http.logger?.debug({ path: '/$batch', items: retry.length, attempt: attempt + 1, delayMs: delay, requestId: response.requestId }, 'graph batch items throttled or unavailable; retrying');
    await http.sleep(delay);
  }
}

/** JSON stays JSON; a string body of a non-JSON item is base64 (photos). */
function decodeBody(body: unknown, contentType: string | undefined): unknown {
  if (typeof body !== 'string') return body;
  if (contentType !== undefined && !/json/i.test(contentType) && !/^text\//i.test(contentType)) return Buffer.from(body, 'base64');
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
  try { return json(); } catch { return null; }
}
