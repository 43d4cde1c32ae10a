import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBatch } from './batch.ts';
import type { GraphError } from './errors.ts';
import { createGraphHttp, type FetchLike } from './http.ts';
import { photoBytes, photoEtags } from './photos.ts';

const GRAPH = 'https://graph.example.test';

interface Item {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
}
type ItemReply = { status: number; headers?: Record<string, string>; body?: unknown };

/**
 * A fake $batch endpoint: `answer(item, postNumber)` decides each item's reply; `outer(postNumber)` may
 * fail a whole post instead. Records the items of every post.
 */
function fakeBatch(answer: (item: Item, post: number) => ItemReply, outer?: (post: number) => Response | undefined) {
  const posts: Item[][] = [];
  const sleeps: number[] = [];
  const fetch: FetchLike = async (url, init) => {
    assert.equal(url, `${GRAPH}/v1.0/$batch`);
    const items = (JSON.parse(init.body!) as { requests: Item[] }).requests;
    posts.push(items);
    const failed = outer?.(posts.length);
    if (failed) return failed;
    const responses = items.map((item) => ({ id: item.id, ...answer(item, posts.length) })).reverse();
    return new Response(JSON.stringify({ responses }), {
      status: 200,
      headers: { 'content-type': 'application/json', 'request-id': `batch-${posts.length}` },
    });
  };
  // A fake clock that only sleeping moves.
  let clock = 0;
  const http = createGraphHttp({
    graphUrl: GRAPH,
    getToken: async () => 't',
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    random: () => 0.5,
  });
  return { http, posts, sleeps };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('runBatch', () => {
  it('splits into posts of at most 20 and correlates answers by id', async () => {
    const { http, posts } = fakeBatch((item) => ({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: { url: item.url },
    }));
    const answers = await runBatch(
      http,
      ids(45).map((id) => ({ id, url: `/users/${id}` })),
    );
    assert.deepEqual(
      posts.map((p) => p.length),
      [20, 20, 5],
    );
    assert.ok(posts.flat().every((item) => item.method === 'GET'));
    assert.equal(answers.size, 45);
    assert.deepEqual(answers.get('u44'), {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { url: '/users/u44' },
    });
    assert.equal(http.requestCount, 3);
  });

  it('retries only throttled and unavailable items, after the longest Retry-After', async () => {
    const { http, posts, sleeps } = fakeBatch((item, post): ItemReply => {
      if (post === 1 && item.id === 'u1')
        return { status: 429, headers: { 'Retry-After': '3' }, body: { error: { code: 'TooManyRequests' } } };
      if (post === 1 && item.id === 'u2')
        return { status: 429, headers: { 'Retry-After': '7.5' }, body: { error: { code: 'TooManyRequests' } } };
      if (post === 1 && item.id === 'u3') return { status: 503, body: { error: { code: 'serviceNotAvailable' } } };
      if (item.id === 'u4')
        return {
          status: 404,
          headers: { 'Content-Type': 'application/json' },
          body: { error: { code: 'Request_ResourceNotFound' } },
        };
      return { status: 200, body: { id: item.id } };
    });
    const answers = await runBatch(
      http,
      ids(6).map((id) => ({ id, url: `/users/${id}` })),
    );
    assert.deepEqual(
      posts.map((p) => p.map((i) => i.id).sort()),
      [ids(6), ['u1', 'u2', 'u3']],
    );
    assert.deepEqual(sleeps, [7500]);
    assert.equal(answers.get('u4')!.status, 404);
    assert.deepEqual(answers.get('u2')!.body, { id: 'u2' });
    assert.equal(http.requestCount, 2);
  });

  it('sends the whole batch again after an outer 424, and after an outer 429 once its Retry-After has passed', async () => {
    const { http, posts, sleeps } = fakeBatch(
      (item) => ({ status: 200, body: { id: item.id } }),
      (post) =>
        post === 1
          ? new Response(JSON.stringify({ error: { code: 'FailedDependency' } }), { status: 424 })
          : post === 2
            ? new Response(JSON.stringify({ error: { code: 'TooManyRequests' } }), {
                status: 429,
                headers: { 'Retry-After': '2' },
              })
            : undefined,
    );
    const answers = await runBatch(
      http,
      ids(3).map((id) => ({ id, url: `/users/${id}` })),
    );
    assert.equal(posts.length, 3);
    assert.equal(answers.size, 3);
    assert.deepEqual(sleeps, [375, 2000]);
  });

  it('gives up on items still throttled after maxRetries', async () => {
    const { http } = fakeBatch(() => ({
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'TooManyRequests' } },
    }));
    await assert.rejects(
      runBatch(http, [{ id: 'a', url: '/users/a/photo' }]),
      (e: GraphError) =>
        e.code === 'throttled' && e.message.startsWith('Graph kept throttling /users/a/photo (429 TooManyRequests)'),
    );
    assert.equal(http.requestCount, http.maxRetries + 1, 'the first post and every retry');
  });

  it('packs the throttled items of several posts into one retry, while the other posts go on', async () => {
    // 60 items, 3 posts; the first post of each item throttles every fifth item.
    const { http, posts, sleeps } = fakeBatch((item, post): ItemReply => {
      const n = Number(item.id.slice(1));
      if (post <= 3 && n % 5 === 0)
        return { status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 'TooManyRequests' } } };
      return { status: 200, body: { id: item.id } };
    });
    const answers = await runBatch(
      http,
      ids(60).map((id) => ({ id, url: `/users/${id}` })),
      { concurrency: 1 },
    );
    assert.equal(answers.size, 60);
    assert.deepEqual(
      posts.map((p) => p.length),
      [20, 20, 20, 12],
      'the 12 throttled items travel together',
    );
    assert.deepEqual(sleeps, [1000], 'one wait of what Graph asked, after the fresh work ran out');
    assert.equal(http.inFlightLimit, 8, 'a fifth of each post throttled leaves the requests in flight as they were');
  });

  it('lowers the requests in flight when most of a post is throttled', async () => {
    const { http } = fakeBatch((_item, post): ItemReply =>
      post === 1 ? { status: 429, headers: { 'Retry-After': '2' }, body: {} } : { status: 200, body: {} },
    );
    await runBatch(
      http,
      ids(10).map((id) => ({ id, url: `/users/${id}` })),
    );
    assert.equal(http.inFlightLimit, 4);
  });

  it('decodes base64 bodies of non-JSON items and passes headers through', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const { http } = fakeBatch(() => ({
      status: 200,
      headers: { 'Content-Type': 'image/jpeg', ETag: '"E1"' },
      body: jpeg.toString('base64'),
    }));
    const answer = (await runBatch(http, [{ id: 'p', url: 'users/p/photo/$value' }])).get('p')!;
    assert.ok(Buffer.isBuffer(answer.body));
    assert.deepEqual(answer.body, jpeg);
    assert.equal(answer.headers.etag, '"E1"');
  });

  it('refuses duplicate ids and absolute urls before sending anything', async () => {
    const { http, posts } = fakeBatch(() => ({ status: 200 }));
    await assert.rejects(
      runBatch(http, [
        { id: 'A', url: '/users/a' },
        { id: 'a', url: '/users/b' },
      ]),
      /unique/,
    );
    await assert.rejects(runBatch(http, [{ id: 'a', url: `${GRAPH}/v1.0/users/a` }]), /relative/);
    assert.equal(posts.length, 0);
  });

  it('bounds the number of posts in flight', async () => {
    let active = 0;
    let peak = 0;
    const fetch: FetchLike = async (_url, init) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      const items = (JSON.parse(init.body!) as { requests: Item[] }).requests;
      return new Response(JSON.stringify({ responses: items.map((i) => ({ id: i.id, status: 200, body: {} })) }), {
        status: 200,
      });
    };
    const http = createGraphHttp({ graphUrl: GRAPH, getToken: async () => 't', fetch });
    await runBatch(
      http,
      ids(200).map((id) => ({ id, url: `/users/${id}` })),
      { concurrency: 2 },
    );
    assert.equal(peak, 2);
  });
});

describe('photos', () => {
  it('reads ETags, treating 404s and the 1x1 placeholder as no photo', async () => {
    const { http, posts } = fakeBatch((item) => {
      const id = item.url.split('/')[2];
      if (id === 'none')
        return {
          status: 404,
          headers: { 'Content-Type': 'application/json' },
          body: { error: { code: 'ImageNotFound' } },
        };
      if (id === 'old')
        return { status: 404, body: { error: { code: 'ErrorItemNotFound', message: "The photo wasn't found." } } };
      if (id === 'gif')
        return {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          body: { '@odata.mediaContentType': 'image/gif', '@odata.mediaEtag': '', id: '1x1', width: 1, height: 1 },
        };
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
        body: { '@odata.mediaContentType': 'image/jpeg', '@odata.mediaEtag': `"${id}-etag"`, id: '240x240' },
      };
    });
    const etags = await photoEtags(http, ['a', 'none', 'old', 'gif']);
    assert.deepEqual(
      [...etags],
      [
        ['a', '"a-etag"'],
        ['none', null],
        ['old', null],
        ['gif', null],
      ],
    );
    assert.deepEqual(
      posts[0].map((i) => i.url),
      ['/users/a/photo', '/users/none/photo', '/users/old/photo', '/users/gif/photo'],
    );
  });

  it('reads bytes, and names ProfilePhoto.Read.All when Graph denies it', async () => {
    const ok = fakeBatch((item) =>
      item.url.includes('/x/')
        ? { status: 404, body: { error: { code: 'ImageNotFound' } } }
        : { status: 200, headers: { 'Content-Type': 'image/png' }, body: Buffer.from('png!').toString('base64') },
    );
    const photos = await photoBytes(ok.http, ['p', 'x']);
    assert.deepEqual(photos.get('p'), { bytes: Buffer.from('png!'), contentType: 'image/png', etag: null });
    assert.equal(photos.get('x'), null);

    const denied = fakeBatch(() => ({
      status: 403,
      body: {
        error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
      },
    }));
    await assert.rejects(photoBytes(denied.http, ['p']), (e: GraphError) => {
      assert.equal(e.code, 'permission_denied');
      assert.match(
        e.message,
        /^Graph denied \/users\/p\/photo\/\$value \(403 Authorization_RequestDenied\): grant ProfilePhoto\.Read\.All to the app and re-consent/,
      );
      return true;
    });
  });
});
