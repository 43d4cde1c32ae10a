import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeltaTokenExpiredError, GraphError } from './errors.ts';
import { createGraphHttp, type FetchLike } from './http.ts';
import { pages, readDelta, type Page } from './paging.ts';

const GRAPH = 'https://graph.example.test';

/** Serves fixed bodies by URL (query included) and records what was asked. */
function fakeGraph(routes: Record<string, { status?: number; body: unknown }>) {
  const asked: { url: string; headers: Record<string, string> }[] = [];
  const fetch: FetchLike = async (url, init) => {
    asked.push({ url, headers: init.headers });
    const route = routes[url];
    if (!route)
      return new Response(JSON.stringify({ error: { code: 'Request_ResourceNotFound', message: url } }), {
        status: 404,
      });
    return new Response(JSON.stringify(route.body), {
      status: route.status ?? 200,
      headers: { 'content-type': 'application/json', 'request-id': 'rid' },
    });
  };
  return { http: createGraphHttp({ graphUrl: GRAPH, getToken: async () => 't', fetch, sleep: async () => {} }), asked };
}

async function collect(iterable: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of iterable) out.push(page);
  return out;
}

describe('pages', () => {
  it('follows nextLinks verbatim, resending headers, including past empty pages', async () => {
    const { http, asked } = fakeGraph({
      [`${GRAPH}/v1.0/groups/g/members?$select=id`]: {
        body: { value: [{ id: 'a' }], '@odata.nextLink': `${GRAPH}/v1.0/groups/g/members?$skiptoken=1` },
      },
      [`${GRAPH}/v1.0/groups/g/members?$skiptoken=1`]: {
        body: { value: [], '@odata.nextLink': `${GRAPH}/v1.0/groups/g/members?$skiptoken=2` },
      },
      [`${GRAPH}/v1.0/groups/g/members?$skiptoken=2`]: { body: { value: [{ id: 'b', extra: 1 }] } },
    });
    const result = await collect(pages(http, '/groups/g/members?$select=id', { ConsistencyLevel: 'eventual' }));
    assert.deepEqual(
      result.map((p) => p.value.map((v) => v.id)),
      [['a'], [], ['b']],
    );
    assert.equal(result[2].value[0].extra, 1);
    assert.ok(asked.every((a) => a.headers.ConsistencyLevel === 'eventual'));
  });

  it('names the URL and the problem when a page is malformed', async () => {
    const { http } = fakeGraph({ [`${GRAPH}/v1.0/users`]: { body: { value: 'nope' } } });
    await assert.rejects(collect(pages(http, '/users')), (e: GraphError) => {
      assert.equal(e.code, 'malformed_response');
      assert.match(e.message, /^Graph returned a malformed page for \/users \(value: /);
      assert.match(e.message, /request-id: rid$/);
      return true;
    });
  });
});

describe('readDelta', () => {
  it('starts a round with $select and yields each page with the link to commit', async () => {
    const { http, asked } = fakeGraph({
      [`${GRAPH}/v1.0/users/delta?$select=id,displayName,manager`]: {
        body: { value: [{ id: 'u1' }], '@odata.nextLink': `${GRAPH}/v1.0/users/delta?$skiptoken=s1` },
      },
      [`${GRAPH}/v1.0/users/delta?$skiptoken=s1`]: {
        body: {
          value: [{ id: 'u2', '@removed': { reason: 'deleted' } }],
          '@odata.deltaLink': `${GRAPH}/v1.0/users/delta?$deltatoken=d1`,
        },
      },
    });
    const result = await collect(
      readDelta(http, {
        resource: 'users',
        link: null,
        select: ['id', 'displayName', 'manager'],
        headers: { Prefer: 'return=minimal' },
      }),
    );
    assert.deepEqual(result, [
      { value: [{ id: 'u1' }], nextLink: `${GRAPH}/v1.0/users/delta?$skiptoken=s1` },
      {
        value: [{ id: 'u2', '@removed': { reason: 'deleted' } }],
        deltaLink: `${GRAPH}/v1.0/users/delta?$deltatoken=d1`,
      },
    ]);
    assert.equal(asked[1].headers.Prefer, 'return=minimal');
  });

  it('resumes from a stored link without editing it', async () => {
    const link = `${GRAPH}/v1.0/groups/delta?$deltatoken=d9`;
    const { http, asked } = fakeGraph({
      [link]: { body: { value: [], '@odata.deltaLink': `${GRAPH}/v1.0/groups/delta?$deltatoken=d10` } },
    });
    const result = await collect(readDelta(http, { resource: 'groups', link, select: ['ignored'] }));
    assert.equal(asked[0].url, link);
    assert.equal(result[0].deltaLink, `${GRAPH}/v1.0/groups/delta?$deltatoken=d10`);
  });

  it('throws DeltaTokenExpiredError for syncStateNotFound and 410 Gone', async () => {
    const link = `${GRAPH}/v1.0/users/delta?$deltatoken=old`;
    for (const reply of [
      {
        status: 400,
        body: { error: { code: 'syncStateNotFound', message: 'The sync state generation is not found.' } },
      },
      { status: 410, body: { error: { code: 'Gone', message: 'Reset.' } } },
      { status: 400, body: { error: { code: 'resyncRequired', message: 'Resync.' } } },
    ]) {
      const { http } = fakeGraph({ [link]: reply });
      await assert.rejects(collect(readDelta(http, { resource: 'users', link, select: [] })), (e: GraphError) => {
        assert.ok(e instanceof DeltaTokenExpiredError);
        assert.equal(e.code, 'delta_token_expired');
        assert.match(e.message, /read everything again/);
        return true;
      });
    }
  });

  it('refuses a page whose next or delta link points away from the configured Graph, naming the object and the host', async () => {
    const first = `${GRAPH}/v1.0/users/delta?$select=id`;
    for (const [name, link] of [
      ['@odata.nextLink', 'https://evil.example/v1.0/users/delta?$skiptoken=x'],
      ['@odata.deltaLink', 'http://graph.example.test/v1.0/users/delta?$deltatoken=x'],
      ['@odata.deltaLink', 'users/delta?$deltatoken=x'],
    ]) {
      const { http, asked } = fakeGraph({ [first]: { body: { value: [{ id: 'a' }], [name]: link } } });
      await assert.rejects(
        collect(readDelta(http, { resource: 'users', link: null, select: ['id'] })),
        (e: GraphError) => {
          assert.equal(e.code, 'foreign_link');
          assert.match(e.message, new RegExp(`answer for /users/delta carried an ${name} to `));
          assert.ok(e.message.includes(URL.canParse(link) ? new URL(link).origin : link), e.message);
          assert.match(e.message, /neither followed nor stored it/);
          assert.doesNotMatch(e.message, /set USERSYNC_GRAPH_URL/);
          return true;
        },
      );
      assert.equal(asked.length, 1, 'the link was not followed');
    }
  });

  it('rejects a delta page without either link, or an item without id', async () => {
    const first = `${GRAPH}/v1.0/users/delta?$select=id`;
    for (const body of [{ value: [{ id: 'a' }] }, { value: [{ displayName: 'x' }], '@odata.deltaLink': 'd' }]) {
      const { http } = fakeGraph({ [first]: { body } });
      await assert.rejects(
        collect(readDelta(http, { resource: 'users', link: null, select: ['id'] })),
        (e: GraphError) => e.code === 'malformed_response' && e.message.includes('/users/delta'),
      );
    }
  });
});
