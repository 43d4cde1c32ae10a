import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeltaTokenExpiredError, GraphError } from './errors.ts';
import {
  backoffMs,
  createAdaptiveLimit,
  createGraphHttp,
  createSemaphore,
  parseRetryAfter,
  type FetchLike,
  type GraphHttpOptions,
  type HttpLogger,
} from './http.ts';

const GRAPH = 'https://graph.example.test';

type Step = Response | Error | ((init: Parameters<FetchLike>[1]) => Promise<Response>);

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const graphError = (status: number, code: string, requestId = 'req-1', headers: Record<string, string> = {}) =>
  json(
    status,
    { error: { code, message: `${code} happened.`, innerError: { 'request-id': requestId } } },
    { 'request-id': requestId, ...headers },
  );
const ok = (body: unknown = { value: [] }) => json(200, body, { 'request-id': 'ok-1' });
const netError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error(`connect ${code} 1.2.3.4:443`), { code }),
  });

/** A scripted fetch: answers in order, recording every call. */
function scripted(steps: Step[]) {
  const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body });
    const step = steps.shift();
    if (step === undefined) throw new Error(`unexpected request ${url}`);
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(init);
    return step;
  };
  return { fetch, calls };
}

function client(steps: Step[], extra: Partial<GraphHttpOptions> = {}) {
  const { fetch, calls } = scripted(steps);
  const sleeps: number[] = [];
  const tokens: (boolean | undefined)[] = [];
  let n = 0;
  const http = createGraphHttp({
    graphUrl: GRAPH,
    getToken: async (o) => {
      tokens.push(o?.forceRefresh);
      return `token-${++n}`;
    },
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { http, calls, sleeps, tokens };
}

describe('URLs', () => {
  it('prepends graphUrl/v1.0 to relative paths and follows absolute links verbatim', async () => {
    const { http, calls } = client([ok(), ok(), ok()]);
    await http.get('/users?$select=id');
    await http.get('groups/delta');
    await http.get(`${GRAPH}/v1.0/users?$skiptoken=abc`);
    assert.deepEqual(
      calls.map((c) => c.url),
      [`${GRAPH}/v1.0/users?$select=id`, `${GRAPH}/v1.0/groups/delta`, `${GRAPH}/v1.0/users?$skiptoken=abc`],
    );
    assert.equal(calls[0].headers.Authorization, 'Bearer token-1');
    assert.ok(calls[0].headers['client-request-id']);
  });

  it('refuses a link to another host instead of sending it the token', async () => {
    const { http, calls } = client([]);
    await assert.rejects(http.get('https://evil.example/v1.0/users?$skiptoken=x'), (e: GraphError) => {
      assert.equal(e.code, 'foreign_link');
      assert.match(e.message, /https:\/\/evil\.example/);
      assert.doesNotMatch(e.message, /set USERSYNC_GRAPH_URL/, 'the advice is never to trust the foreign host');
      return true;
    });
    assert.equal(calls.length, 0);
  });

  it('sends caller headers and JSON bodies', async () => {
    const { http, calls } = client([ok()]);
    await http.post('/$batch', { requests: [] }, { headers: { Prefer: 'return=minimal' } });
    assert.equal(calls[0].method, 'POST');
    assert.equal(calls[0].headers.Prefer, 'return=minimal');
    assert.equal(calls[0].headers['Content-Type'], 'application/json');
    assert.equal(calls[0].body, '{"requests":[]}');
  });
});

describe('retries', () => {
  it('honours a fractional Retry-After on 429 and counts every request', async () => {
    const { http, sleeps } = client([
      graphError(429, 'TooManyRequests', 'r1', { 'Retry-After': '2.128' }),
      ok({ value: [1] }),
    ]);
    const res = await http.get('/users');
    assert.deepEqual(res.json(), { value: [1] });
    assert.deepEqual(sleeps, [2128]);
    assert.equal(http.requestCount, 2);
    http.reset();
    assert.equal(http.requestCount, 0);
  });

  it('retries 503 and 504 with jittered exponential backoff when there is no Retry-After', async () => {
    const { http, sleeps } = client([
      graphError(503, 'serviceNotAvailable'),
      graphError(504, 'UnknownError'),
      graphError(503, 'serviceNotAvailable'),
      ok(),
    ]);
    await http.get('/users');
    // random() = 0.5: three quarters of 0.5 s, 1 s, 2 s
    assert.deepEqual(sleeps, [375, 750, 1500]);
    assert.equal(http.requestCount, 4);
  });

  it('retries connection resets, hang-ups and timeouts', async () => {
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const slow: Step = (init) =>
      new Promise((_, reject) =>
        init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const { http } = client([netError('ECONNRESET'), hangUp, slow, ok()], { timeoutMs: 20 });
    await http.get('/users');
    assert.equal(http.requestCount, 4);
  });

  it('gives up after maxRetries with the last status, the retries and the request-id', async () => {
    const throttled = () => graphError(429, 'TooManyRequests', 'req-429', { 'Retry-After': '1' });
    const { http } = client([throttled(), throttled(), throttled()], { maxRetries: 2 });
    await assert.rejects(http.get('/users/delta'), (e: GraphError) => {
      assert.equal(e.code, 'throttled');
      assert.equal(e.status, 429);
      assert.equal(e.requestId, 'req-429');
      assert.equal(
        e.message,
        'Graph kept throttling /users/delta (429 TooManyRequests): still throttled after 2 retries; try again later or lower the number of requests in flight. request-id: req-429',
      );
      return true;
    });
    assert.equal(http.requestCount, 3);
  });

  it('reports a timeout after the last attempt', async () => {
    const slow: Step = (init) =>
      new Promise((_, reject) =>
        init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const { http } = client([slow, slow], { timeoutMs: 10, maxRetries: 1 });
    await assert.rejects(
      http.get('/users'),
      (e: GraphError) => e.code === 'timeout' && /within 10 ms \(2 attempts\)/.test(e.message),
    );
  });

  it('does not retry DNS failures, refusals or untrusted certificates, and says what to check', async () => {
    const cases: [string, RegExp][] = [
      ['ENOTFOUND', /does not resolve; check USERSYNC_GRAPH_URL/],
      ['ECONNREFUSED', /nothing accepts connections at graph\.example\.test; check USERSYNC_GRAPH_URL/],
      [
        'SELF_SIGNED_CERT_IN_CHAIN',
        /not trusted \(SELF_SIGNED_CERT_IN_CHAIN\); for a self-signed or private CA set NODE_EXTRA_CA_CERTS/,
      ],
    ];
    for (const [code, message] of cases) {
      const { http } = client([netError(code)]);
      await assert.rejects(http.get('/users'), (e: GraphError) => {
        assert.equal(e.code, 'unreachable');
        assert.match(e.message, /^Cannot reach Graph at graph\.example\.test: /);
        assert.match(e.message, message);
        return true;
      });
      assert.equal(http.requestCount, 1);
    }
  });

  it('refreshes the token once on 401, then gives up with an actionable message', async () => {
    const first = client([graphError(401, 'InvalidAuthenticationToken'), ok()]);
    await first.http.get('/users');
    assert.deepEqual(first.tokens, [undefined, true]);
    assert.equal(first.calls[1].headers.Authorization, 'Bearer token-2');

    const second = client([
      graphError(401, 'InvalidAuthenticationToken', 'a'),
      graphError(401, 'InvalidAuthenticationToken', 'b'),
    ]);
    await assert.rejects(second.http.get('/users'), (e: GraphError) => {
      assert.equal(e.code, 'unauthorized');
      assert.match(
        e.message,
        /^Graph rejected the access token for \/users \(401 InvalidAuthenticationToken: InvalidAuthenticationToken happened\): check that AZURE_AUTHORITY_HOST/,
      );
      assert.match(e.message, /request-id: b$/);
      return true;
    });
  });
});

describe('errors', () => {
  it('names the permission to grant for a 403, per endpoint', async () => {
    const cases: [string, string][] = [
      ['/groups/delta?$select=id', 'GroupMember.Read.All'],
      ['/users/delta', 'User.Read.All'],
      ['/users/abc/photo/$value', 'ProfilePhoto.Read.All'],
      ['/groups/g1/members', 'GroupMember.Read.All'],
    ];
    for (const [path, permission] of cases) {
      const { http } = client([graphError(403, 'Authorization_RequestDenied', 'rid-403')]);
      await assert.rejects(http.get(path), (e: GraphError) => {
        assert.equal(e.code, 'permission_denied');
        assert.equal(
          e.message,
          `Graph denied ${path.split('?')[0]} (403 Authorization_RequestDenied): grant ${permission} to the app and re-consent (grant admin consent again). request-id: rid-403`,
        );
        return true;
      });
    }
  });

  it('turns expired or reset delta tokens into DeltaTokenExpiredError', async () => {
    const expired = client([graphError(400, 'syncStateNotFound')]);
    await assert.rejects(expired.http.get(`${GRAPH}/v1.0/users/delta?$deltatoken=old`), DeltaTokenExpiredError);
    const gone = client([
      new Response(null, { status: 410, headers: { Location: `${GRAPH}/v1.0/users/delta?$deltatoken=` } }),
    ]);
    await assert.rejects(
      gone.http.get(`${GRAPH}/v1.0/users/delta?$deltatoken=old`),
      (e: GraphError) => e instanceof DeltaTokenExpiredError && e.status === 410,
    );
  });

  it('returns allowed error statuses as answers', async () => {
    const { http } = client([graphError(404, 'ImageNotFound')]);
    const res = await http.get('/users/x/photo', { allow: [404] });
    assert.equal(res.status, 404);
  });

  it('reports a body that is not JSON', async () => {
    const { http } = client([
      new Response('<html>proxy error</html>', {
        status: 200,
        headers: { 'content-type': 'text/html', 'request-id': 'r9' },
      }),
    ]);
    const res = await http.get('/users');
    assert.throws(
      () => res.json(),
      (e: GraphError) =>
        e.code === 'malformed_response' &&
        /invalid JSON for \/users \(200, text\/html\)/.test(e.message) &&
        /request-id: r9$/.test(e.message),
    );
  });
});

describe('concurrency', () => {
  it('keeps at most maxInFlight requests on the wire', async () => {
    let active = 0;
    let peak = 0;
    const fetch: FetchLike = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return ok();
    };
    const http = createGraphHttp({ graphUrl: GRAPH, getToken: async () => 't', fetch, maxInFlight: 3 });
    await Promise.all(Array.from({ length: 12 }, () => http.get('/users')));
    assert.equal(peak, 3);
    assert.equal(http.requestCount, 12);
  });

  it('does not hold a slot while waiting to retry', { timeout: 2000 }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { fetch, calls } = scripted([graphError(429, 'TooManyRequests', 'x', { 'Retry-After': '5' }), ok(), ok()]);
    const http = createGraphHttp({
      graphUrl: GRAPH,
      getToken: async () => 't',
      fetch,
      maxInFlight: 1,
      sleep: () => gate,
    });
    const first = http.get('/users/a');
    await new Promise((r) => setTimeout(r, 5));
    await http.get('/users/b'); // would hang if the throttled request kept the only slot
    release();
    await first;
    assert.deepEqual(
      calls.map((c) => c.url.split('/').pop()),
      ['a', 'b', 'a'],
    );
  });

  it('semaphore hands slots over in order and tolerates double release', async () => {
    const s = createSemaphore(1);
    const r1 = await s.acquire();
    const order: number[] = [];
    const p2 = s.acquire().then((r) => {
      order.push(2);
      return r;
    });
    const p3 = s.acquire().then((r) => {
      order.push(3);
      return r;
    });
    r1();
    r1();
    (await p2)();
    (await p3)();
    assert.deepEqual(order, [2, 3]);
    assert.equal(s.active, 0);
  });
});

describe('adaptive concurrency', () => {
  it('halves the requests in flight when Graph throttles, once per wait it asked for, and climbs back by one per full round', () => {
    let clock = 0;
    const limit = createAdaptiveLimit(8, () => clock);
    assert.equal(limit.throttled(1000), 4);
    assert.equal(limit.throttled(1000), null, 'answers to requests already in flight lower it once');
    clock += 1000;
    assert.equal(limit.throttled(2000), 2);
    clock += 2000;
    assert.equal(limit.throttled(0), 1);
    clock += 1000;
    assert.equal(limit.throttled(1000), null, 'never below one');
    for (let i = 0; i < 1; i++) limit.succeeded();
    assert.equal(limit.semaphore.limit, 2);
    for (let i = 0; i < 2 + 3 + 4 + 5 + 6 + 7; i++) limit.succeeded();
    assert.equal(limit.semaphore.limit, 8);
    for (let i = 0; i < 50; i++) limit.succeeded();
    assert.equal(limit.semaphore.limit, 8, 'never above maxInFlight');
  });

  it('a lower limit lets requests in flight finish; a retry goes ahead of requests not yet sent', async () => {
    const s = createSemaphore(2);
    const a = await s.acquire();
    const b = await s.acquire();
    s.limit = 1;
    const order: string[] = [];
    const fresh = s.acquire().then((r) => {
      order.push('fresh');
      return r;
    });
    const retry = s.acquire(true).then((r) => {
      order.push('retry');
      return r;
    });
    a();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'two in flight above a limit of one: the first release frees nothing');
    b();
    (await retry)();
    (await fresh)();
    assert.deepEqual(order, ['retry', 'fresh']);
    assert.equal(s.active, 0);
  });

  it("lowers the limit on a throttled request and says so at debug, with the caller's logger", async () => {
    const lines: [unknown, string][] = [];
    const logger = {
      debug: (o: unknown, msg: string) => {
        lines.push([o, msg]);
      },
      warn: () => {},
    } as unknown as HttpLogger;
    const { fetch } = scripted([graphError(429, 'TooManyRequests', 'x', { 'Retry-After': '0' }), ok()]);
    const http = createGraphHttp({
      graphUrl: GRAPH,
      getToken: async () => 't',
      fetch,
      sleep: async () => {},
    }).withLogger(logger);
    await http.get('/users');
    assert.equal(http.inFlightLimit, 4, 'halved from 8; one answer since is not yet a full round of four');
    assert.deepEqual(lines.find(([, msg]) => /fewer requests in flight/.test(msg))?.[0], { inFlightLimit: 4 });
    assert.ok(lines.some(([, msg]) => /retrying/.test(msg)));
  });
});

describe('Retry-After and backoff', () => {
  it('parses seconds, fractions and HTTP dates', () => {
    assert.equal(parseRetryAfter('10'), 10_000);
    assert.equal(parseRetryAfter('2.128'), 2128);
    assert.equal(parseRetryAfter('0'), 0);
    assert.equal(parseRetryAfter(' 0.05 '), 50);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now), 7000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter('-3'), null);
  });

  it('grows from 0.5 s, doubles, and is capped at 30 s, with jitter in the upper half', () => {
    assert.equal(
      backoffMs(0, () => 0),
      250,
    );
    assert.equal(
      backoffMs(0, () => 1),
      500,
    );
    assert.equal(
      backoffMs(3, () => 1),
      4000,
    );
    assert.equal(
      backoffMs(30, () => 1),
      30_000,
    );
    assert.equal(
      backoffMs(30, () => 0),
      15_000,
    );
  });
});
