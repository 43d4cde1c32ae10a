import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequestLog, normaliseEndpoint } from './request-log.ts';

const GUID = '3f2a9c1e-5b7d-4e21-9a8c-0d1e2f3a4b5c';
const GUID2 = 'B1C2D3E4-F5A6-4B7C-8D9E-0F1A2B3C4D5E';

describe('request log: endpoint normalisation', () => {
  const table: [method: string, path: string, inBatch: boolean, endpoint: string, kind: string][] = [
    ['GET', '/v1.0/users', false, 'GET /v1.0/users', 'graph'],
    ['GET', '/v1.0/users?$select=id,displayName&$top=999', false, 'GET /v1.0/users', 'graph'],
    ['GET', '/v1.0/users/delta', false, 'GET /v1.0/users/delta', 'graph'],
    ['GET', '/v1.0/users/delta()', false, 'GET /v1.0/users/delta()', 'graph'],
    ['GET', '/v1.0/users/delta?$deltatoken=abc', false, 'GET /v1.0/users/delta', 'graph'],
    ['GET', '/v1.0/groups/delta', false, 'GET /v1.0/groups/delta', 'graph'],
    ['GET', '/v1.0/users/$count', false, 'GET /v1.0/users/$count', 'graph'],
    ['get', `/v1.0/users/${GUID}`, false, 'GET /v1.0/users/{id}', 'graph'],
    ['GET', `/v1.0/users/${GUID2}/manager`, false, 'GET /v1.0/users/{id}/manager', 'graph'],
    ['GET', '/v1.0/users/adele@contoso.com/manager', false, 'GET /v1.0/users/{id}/manager', 'graph'],
    ['GET', '/v1.0/users/adele%40contoso.com', false, 'GET /v1.0/users/{id}', 'graph'],
    ['GET', '/v1.0/users/jo_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com', false, 'GET /v1.0/users/{id}', 'graph'],
    ['GET', "/v1.0/users('adele@contoso.com')", false, 'GET /v1.0/users({id})', 'graph'],
    ['GET', `/v1.0/users/${GUID}/photo/$value`, false, 'GET /v1.0/users/{id}/photo/$value', 'graph'],
    ['GET', `/v1.0/users/${GUID}/photo`, false, 'GET /v1.0/users/{id}/photo', 'graph'],
    ['GET', `/v1.0/users/${GUID}/photos/48x48/$value`, false, 'GET /v1.0/users/{id}/photos/{id}/$value', 'graph'],
    [
      'GET',
      `/v1.0/users/${GUID}/memberOf/microsoft.graph.group`,
      false,
      'GET /v1.0/users/{id}/memberOf/microsoft.graph.group',
      'graph',
    ],
    ['GET', `/v1.0/groups/${GUID}/members`, false, 'GET /v1.0/groups/{id}/members', 'graph'],
    ['GET', `/v1.0/groups/${GUID}/members/$count`, false, 'GET /v1.0/groups/{id}/members/$count', 'graph'],
    [
      'GET',
      `/v1.0/groups/${GUID}/transitiveMembers/microsoft.graph.user`,
      false,
      'GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user',
      'graph',
    ],
    [
      'DELETE',
      `/v1.0/groups/${GUID}/members/${GUID2}/$ref`,
      false,
      'DELETE /v1.0/groups/{id}/members/{id}/$ref',
      'graph',
    ],
    ['GET', '/v1.0/groups/some-key', false, 'GET /v1.0/groups/{id}', 'graph'],
    ['POST', '/v1.0/$batch', false, 'POST /v1.0/$batch', 'graph'],
    ['POST', '/v1.0/directoryObjects/getByIds', false, 'POST /v1.0/directoryObjects/getByIds', 'graph'],
    ['POST', '/v1.0/subscriptions', false, 'POST /v1.0/subscriptions', 'graph'],
    ['PATCH', `/v1.0/subscriptions/${GUID}`, false, 'PATCH /v1.0/subscriptions/{id}', 'graph'],
    ['GET', '/v1.0/organization', false, 'GET /v1.0/organization', 'graph'],
    ['GET', '/beta/users', false, 'GET /beta/users', 'graph'],
    // $batch items: relative urls, counted under /v1.0
    ['GET', `/users/${GUID}/manager`, true, 'GET /v1.0/users/{id}/manager', 'graph'],
    ['GET', `users/${GUID}/photo/$value`, true, 'GET /v1.0/users/{id}/photo/$value', 'graph'],
    ['GET', `/v1.0/users/${GUID}/manager`, true, 'GET /v1.0/users/{id}/manager', 'graph'],
    // Entra
    ['POST', `/${GUID}/oauth2/v2.0/token`, false, 'POST /{tenant}/oauth2/v2.0/token', 'token'],
    ['POST', '/contoso.onmicrosoft.com/oauth2/v2.0/token', false, 'POST /{tenant}/oauth2/v2.0/token', 'token'],
    ['POST', '/organizations/oauth2/v2.0/token', false, 'POST /{tenant}/oauth2/v2.0/token', 'token'],
    [
      'GET',
      `/${GUID}/v2.0/.well-known/openid-configuration`,
      false,
      'GET /{tenant}/v2.0/.well-known/openid-configuration',
      'auth',
    ],
    ['GET', '/common/discovery/instance?api-version=1.1', false, 'GET /{tenant}/discovery/instance', 'auth'],
    ['GET', `/${GUID}/adminconsent`, false, 'GET /{tenant}/adminconsent', 'auth'],
    ['GET', '/common/oauth2/v2.0/authorize', false, 'GET /{tenant}/oauth2/v2.0/authorize', 'auth'],
    // control API and anything else
    ['PUT', `/_emulator/users/${GUID}/manager`, false, 'PUT /_emulator/users/{id}/manager', 'control'],
    ['GET', '/_emulator/info', false, 'GET /_emulator/info', 'control'],
    ['GET', '/', false, 'GET /', 'other'],
    ['GET', '/favicon.ico', false, 'GET /favicon.ico', 'other'],
  ];
  for (const [method, path, inBatch, endpoint, kind] of table) {
    it(`${method} ${path}${inBatch ? ' (batch item)' : ''} → ${endpoint}`, () => {
      assert.deepEqual(normaliseEndpoint(method, path, inBatch), { endpoint, kind });
    });
  }
});

describe('request log', () => {
  it('counts per endpoint, with totals for requests, batch items and statuses', () => {
    const log = createRequestLog({ now: () => Date.parse('2025-01-01T00:00:00Z') });
    log.record({
      method: 'POST',
      path: `/${GUID}/oauth2/v2.0/token`,
      status: 200,
      durationMs: 3,
      inBatch: false,
      throttled: false,
    });
    log.record({
      method: 'GET',
      path: '/v1.0/users/delta',
      status: 200,
      durationMs: 10,
      inBatch: false,
      throttled: false,
    });
    log.record({
      method: 'GET',
      path: '/v1.0/users/delta?$skiptoken=x',
      status: 429,
      durationMs: 1,
      inBatch: false,
      throttled: true,
    });
    log.record({
      method: 'GET',
      path: '/v1.0/users/delta?$skiptoken=x',
      status: 200,
      durationMs: 12,
      inBatch: false,
      throttled: false,
    });
    log.record({ method: 'POST', path: '/v1.0/$batch', status: 200, durationMs: 20, inBatch: false, throttled: false });
    log.record({
      method: 'GET',
      path: `/v1.0/users/${GUID}/manager`,
      status: 200,
      durationMs: 0,
      inBatch: true,
      throttled: false,
    });
    log.record({
      method: 'GET',
      path: `/v1.0/users/${GUID2}/manager`,
      status: 404,
      durationMs: 0,
      inBatch: true,
      throttled: false,
    });
    log.record({
      method: 'GET',
      path: `/users/${GUID2}/manager`,
      status: 429,
      durationMs: 0,
      inBatch: true,
      throttled: true,
    });
    log.record({
      method: 'GET',
      path: '/v1.0/users/x/photo/$value',
      status: 0,
      durationMs: 0,
      inBatch: false,
      throttled: false,
    });

    assert.equal(log.count('GET /v1.0/users/delta'), 3);
    assert.equal(log.count('GET /v1.0/users/{id}/manager'), 3);
    assert.equal(log.count('POST /{tenant}/oauth2/v2.0/token'), 1);
    assert.equal(log.count('GET /v1.0/nothing'), 0);
    assert.deepEqual(log.totals, {
      requests: 6,
      graphRequests: 5,
      tokenRequests: 1,
      batchedItems: 3,
      throttled: 2,
      byStatus: { '200': 4, '429': 1, '0': 1 },
      batchedByStatus: { '200': 1, '404': 1, '429': 1 },
    });

    const snap = log.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap, 'JSON-friendly');
    assert.equal(snap.since, '2025-01-01T00:00:00.000Z');
    assert.deepEqual(Object.keys(snap.endpoints), [...Object.keys(snap.endpoints)].sort());
    assert.deepEqual(snap.endpoints['GET /v1.0/users/delta'], {
      kind: 'graph',
      count: 3,
      batched: 0,
      throttled: 1,
      byStatus: { '200': 2, '429': 1 },
      totalDurationMs: 23,
      maxDurationMs: 12,
    });
    assert.deepEqual(snap.endpoints['GET /v1.0/users/{id}/manager'].batched, 3);
    assert.equal(snap.recent.length, 9);
    assert.deepEqual(snap.recent[2], {
      at: '2025-01-01T00:00:00.000Z',
      method: 'GET',
      path: '/v1.0/users/delta?$skiptoken=x',
      endpoint: 'GET /v1.0/users/delta',
      kind: 'graph',
      status: 429,
      durationMs: 1,
      inBatch: false,
      throttled: true,
    });
    // snapshots are copies
    snap.endpoints['GET /v1.0/users/delta'].count = 99;
    assert.equal(log.count('GET /v1.0/users/delta'), 3);
  });

  it('keeps the last 500 entries, oldest first', () => {
    const log = createRequestLog();
    for (let n = 0; n < 1234; n++)
      log.record({ method: 'GET', path: `/v1.0/users?n=${n}`, status: 200, durationMs: 1 });
    const recent = log.recent();
    assert.equal(recent.length, 500);
    assert.equal(recent[0].path, '/v1.0/users?n=734');
    assert.equal(recent[499].path, '/v1.0/users?n=1233');
    assert.equal(log.count('GET /v1.0/users'), 1234);
    assert.equal(log.totals.requests, 1234);
  });

  it('has a configurable capacity and validates it', () => {
    const log = createRequestLog({ capacity: 3 });
    for (let n = 0; n < 5; n++) log.record({ method: 'GET', path: `/v1.0/groups?n=${n}`, status: 200, durationMs: 0 });
    assert.deepEqual(
      log.recent().map((e) => e.path),
      ['/v1.0/groups?n=2', '/v1.0/groups?n=3', '/v1.0/groups?n=4'],
    );
    assert.throws(() => createRequestLog({ capacity: 0 }), /capacity/);
  });

  it('reset() clears counters, totals and the ring', () => {
    let clock = 1000;
    const log = createRequestLog({ now: () => clock });
    log.record({ method: 'GET', path: '/v1.0/users', status: 200, durationMs: 1 });
    clock = 5000;
    log.reset();
    const snap = log.snapshot();
    assert.deepEqual(snap.endpoints, {});
    assert.deepEqual(snap.recent, []);
    assert.equal(snap.totals.requests, 0);
    assert.equal(snap.since, new Date(5000).toISOString());
    log.record({ method: 'GET', path: '/v1.0/users', status: 200, durationMs: 1 });
    assert.equal(log.count('GET /v1.0/users'), 1);
  });
});
