import { z } from 'zod';
import { graphError, withClientRequestId, type GraphResult } from './respond.ts';
import type { GraphRequest } from './routes.ts';

// JSON batching: up to 20 requests, relative URLs, dependsOn ordering, responses in any order,
// binary bodies as base64, and each item throttled on its own.

export const MAX_BATCH = 20;

const batchSchema = z.object({
  requests: z.array(
    z.object({
      id: z.string().min(1),
      method: z.string().min(1),
      url: z.string().min(1),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
      dependsOn: z.array(z.string()).optional(),
    }),
  ),
});

type BatchItem = z.infer<typeof batchSchema>['requests'][number];
interface BatchResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchContext {
  /** Runs one item as if it were its own request (auth already checked for the batch). */
  run: (request: GraphRequest) => Promise<GraphResult>;
  /** A per-item throttling decision: a 429/503 result, or null to run it. */
  fault: (path: string) => GraphResult | null;
  /** Order in which responses are listed; Graph gives no order, so clients must correlate by id. */
  shuffle?: <T>(items: T[]) => T[];
}

export async function handleBatch(
  ctx: BatchContext,
  rawBody: unknown,
  outer: Omit<GraphRequest, 'method' | 'path' | 'query'>,
): Promise<GraphResult> {
  const parsed = batchSchema.safeParse(rawBody);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return graphError(
      400,
      'BadRequest',
      `Invalid batch payload: ${issue.path.join('.') || 'body'}: ${issue.message}.`,
      outer.requestId,
    );
  }
  const items = parsed.data.requests;
  if (items.length === 0)
    return graphError(400, 'BadRequest', 'Invalid batch payload: the batch has no requests.', outer.requestId);
  if (items.length > MAX_BATCH)
    return graphError(
      400,
      'BadRequest',
      `Batch request limit exceeded: the maximum number of requests in a batch is ${MAX_BATCH}, got ${items.length}.`,
      outer.requestId,
    );
  const ids = new Set<string>();
  for (const item of items) {
    const key = item.id.toLowerCase();
    if (ids.has(key))
      return graphError(
        400,
        'BadRequest',
        `Batch request ids must be unique; '${item.id}' appears more than once.`,
        outer.requestId,
      );
    ids.add(key);
  }
  for (const item of items) {
    for (const dep of item.dependsOn ?? []) {
      if (!ids.has(dep.toLowerCase()))
        return graphError(
          400,
          'BadRequest',
          `Request '${item.id}' depends on '${dep}', which is not in the batch.`,
          outer.requestId,
        );
    }
  }

  const results = new Map<string, BatchResponse>();
  const running = new Map<string, Promise<BatchResponse>>();
  const runItem = (item: BatchItem): Promise<BatchResponse> => {
    const key = item.id.toLowerCase();
    let pending = running.get(key);
    if (!pending) {
      pending = (async () => {
        const deps = await Promise.all(
          (item.dependsOn ?? []).map((dep) => runItem(items.find((i) => i.id.toLowerCase() === dep.toLowerCase())!)),
        );
        if (deps.some((d) => d.status >= 400)) {
          return {
            id: item.id,
            status: 424,
            body: { error: { code: 'FailedDependency', message: 'A request this one depends on failed.' } },
          };
        }
        return toBatchResponse(item.id, await runOne(ctx, item, outer));
      })();
      running.set(key, pending);
    }
    return pending;
  };
  for (const item of items) results.set(item.id, await runItem(item));
  const responses = [...results.values()];
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: { responses: ctx.shuffle ? ctx.shuffle(responses) : responses },
  };
}

async function runOne(
  ctx: BatchContext,
  item: BatchItem,
  outer: Omit<GraphRequest, 'method' | 'path' | 'query'>,
): Promise<GraphResult> {
  if (/^https?:/i.test(item.url) || /^\/?beta\//i.test(item.url)) {
    return graphError(
      400,
      'BadRequest',
      `Invalid request URL '${item.url}': batch URLs are relative to the version root, such as '/users/{id}'.`,
      outer.requestId,
    );
  }
  // The Graph JS client's BatchRequestContent sends '/v1.0/users/…' (it strips only the scheme and host).
  const relative = item.url.replace(/^\/?v1\.0(?=\/)/i, '');
  const url = new URL(relative.startsWith('/') ? relative : `/${relative}`, 'https://batch.invalid');
  const throttled = ctx.fault(url.pathname);
  if (throttled) return throttled;
  const headers = new Headers(outer.headers);
  for (const [name, value] of Object.entries(item.headers ?? {})) headers.set(name, value);
  const result = await ctx.run({
    ...outer,
    method: item.method.toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers,
  });
  // The item's own client-request-id, or the batch's (the batch response itself gets the outer one in server.ts).
  return withClientRequestId(result, headers.get('client-request-id'));
}

function toBatchResponse(id: string, result: GraphResult): BatchResponse {
  const body = Buffer.isBuffer(result.body) ? result.body.toString('base64') : result.body;
  return { id, status: result.status, headers: result.headers ?? {}, ...(body === undefined ? {} : { body }) };
}
