import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readAll, startTestEmulator, type TestEmulator } from './support/emulator.ts';

// Graph v1.0 fidelity over real HTTPS: shapes, headers, status codes and error bodies as
// ../shared/reference/microsoft-graph.md records them.

const DEFAULT_USER_PROPS = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];
const EVENTUAL = { ConsistencyLevel: 'eventual' };

let t: TestEmulator;
before(async () => {
  t = await startTestEmulator({ users: 250, groups: 12, seed: 'fidelity' });
});
after(async () => {
  await t.stop();
});

function expectError(res: { status: number; body: any }, status: number, code: string, message?: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  if (message) assert.match(res.body.error.message, message);
  assert.match(res.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.ok(res.body.error.innerError['request-id']);
}

const user = (i: number) => t.emulator.tenant.user(i);
const withManager = () =>
  [...t.emulator.tenant.liveUsers()].find((i) => t.emulator.tenant.managerIndex(i) !== undefined)!;
const withPhoto = () => [...t.emulator.tenant.liveUsers()].find((i) => t.emulator.tenant.photo(i) !== null)!;
const withoutPhoto = () => [...t.emulator.tenant.liveUsers()].find((i) => t.emulator.tenant.photo(i) === null)!;

describe('users', () => {
  it('lists the default properties, 100 per page, with an absolute nextLink and no @odata.type on items', async () => {
    const res = await t.graph('/v1.0/users');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json;odata\.metadata=minimal/);
    assert.equal(res.headers.get('odata-version'), '4.0');
    assert.ok(res.headers.get('request-id'));
    assert.equal(res.body['@odata.context'], `${t.emulator.graphUrl}/v1.0/$metadata#users`);
    assert.equal(res.body.value.length, 100);
    assert.deepEqual(Object.keys(res.body.value[0]).sort(), DEFAULT_USER_PROPS);
    assert.equal(res.body.value[0]['@odata.type'], undefined);
    assert.ok(res.body['@odata.nextLink'].startsWith(`${t.emulator.graphUrl}/v1.0/users?`));
    assert.match(res.body['@odata.nextLink'], /\$skiptoken=/);
  });

  it('pages through every user exactly once, keeping $select on every page', async () => {
    const all = await readAll(t, '/v1.0/users?$select=id,accountEnabled&$top=37');
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((u) => u.id)).size, 250);
    for (const u of all) assert.deepEqual(Object.keys(u).sort(), ['accountEnabled', 'id']);
  });

  it('returns selected-but-unset properties as null and echoes the selection in @odata.context', async () => {
    const res = await t.graph('/v1.0/users?$select=id,department,faxNumber,onPremisesExtensionAttributes&$top=999');
    assert.equal(
      res.body['@odata.context'],
      `${t.emulator.graphUrl}/v1.0/$metadata#users(id,department,faxNumber,onPremisesExtensionAttributes)`,
    );
    assert.ok(res.body.value.some((u: any) => u.faxNumber === null));
    assert.ok(res.body.value.every((u: any) => 'extensionAttribute15' in u.onPremisesExtensionAttributes));
  });

  const errorCases: [string, string, Record<string, string>, number, string, RegExp][] = [
    ['unknown $select property', '/v1.0/users?$select=id,shoeSize', {}, 400, 'Request_BadRequest', /shoeSize/],
    ['collection-unreadable property', '/v1.0/users?$select=id,skills', {}, 501, 'NotImplemented', /not yet supported/],
    [
      '$top above 999',
      '/v1.0/users?$top=1000',
      {},
      400,
      'Request_UnsupportedQuery',
      /Invalid page size specified: '1000'. Must be between 1 and 999 inclusive./,
    ],
    [
      'endsWith without advanced mode',
      "/v1.0/users?$filter=endswith(mail,'@contoso.com')",
      {},
      400,
      'Request_UnsupportedQuery',
      /ConsistencyLevel/,
    ],
    [
      'ne without advanced mode',
      "/v1.0/users?$filter=department ne 'Sales'",
      {},
      400,
      'Request_UnsupportedQuery',
      /\$count=true/,
    ],
    [
      '$count segment without ConsistencyLevel',
      '/v1.0/users/$count',
      {},
      400,
      'Request_BadRequest',
      /\$count is not currently supported/,
    ],
    [
      '$search without ConsistencyLevel',
      '/v1.0/users?$search="displayName:a"',
      {},
      400,
      'Request_UnsupportedQuery',
      /ConsistencyLevel: eventual/,
    ],
    ['unknown user', '/v1.0/users/nobody@contoso.com', {}, 404, 'Request_ResourceNotFound', /does not exist/],
    ['unknown segment', '/v1.0/usres', {}, 400, 'BadRequest', /usres/],
    ['$expand=photo', '/v1.0/users?$expand=photo', {}, 400, 'Request_BadRequest', /photo/],
  ];
  for (const [name, path, headers, status, code, message] of errorCases) {
    it(`rejects ${name} as Graph does`, async () =>
      expectError(await t.graph(path, { headers }), status, code, message));
  }

  it('filters with eq, startsWith, in and lambdas in basic mode', async () => {
    const sales = await readAll(t, "/v1.0/users?$filter=department eq 'Sales'&$select=id,department");
    assert.ok(sales.length > 0);
    assert.ok(sales.every((u) => u.department === 'Sales'));
    const expected = [...t.emulator.tenant.liveUsers()].filter((i) => user(i).department === 'Sales').length;
    assert.equal(sales.length, expected);
    const guests = await readAll(t, "/v1.0/users?$filter=userType eq 'Guest'&$select=id,userType,userPrincipalName");
    assert.ok(
      guests.length > 0 && guests.every((u) => u.userType === 'Guest' && u.userPrincipalName.includes('#EXT#')),
    );
    const disabled = await readAll(t, '/v1.0/users?$filter=accountEnabled eq false&$select=id,accountEnabled');
    assert.ok(disabled.length > 0 && disabled.every((u) => u.accountEnabled === false));
    const u0 = user(0);
    const one = await t.graph(
      `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${u0.userPrincipalName.toUpperCase()}'`)}`,
    );
    assert.deepEqual(
      one.body.value.map((u: any) => u.id),
      [u0.id],
    );
    const sip = await readAll(
      t,
      "/v1.0/users?$filter=proxyAddresses/any(p:startswith(p,'SIP:'))&$select=id,proxyAddresses",
    );
    assert.ok(sip.length > 0 && sip.every((u) => u.proxyAddresses.some((p: string) => p.startsWith('SIP:'))));
  });

  it('supports advanced queries with ConsistencyLevel: eventual and $count=true', async () => {
    const res = await t.graph(
      "/v1.0/users?$filter=endswith(mail,'@contoso.com')&$count=true&$select=id,mail&$top=999",
      { headers: EVENTUAL },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body['@odata.count'], res.body.value.length);
    assert.ok(res.body.value.every((u: any) => u.mail.endsWith('@contoso.com')));
    const count = await t.graph('/v1.0/users/$count', { headers: EVENTUAL });
    assert.equal(count.status, 200);
    assert.equal(count.body, '250');
    const ignored = await t.graph('/v1.0/users?$count=true&$top=1');
    assert.equal(ignored.body['@odata.count'], undefined, '$count=true is silently ignored without the header');
  });

  it('/$count honours $filter and $search under ConsistencyLevel: eventual; a bad filter there is a 400', async () => {
    const disabled = [...t.emulator.tenant.liveUsers()].filter((i) => user(i).accountEnabled === false).length;
    assert.ok(disabled > 0);
    const count = await t.graph('/v1.0/users/$count?$filter=accountEnabled eq false', { headers: EVENTUAL });
    assert.equal(count.status, 200);
    assert.equal(count.body, String(disabled));
    const name = String(user(7).displayName);
    const searched = await t.graph(`/v1.0/users/$count?$search="displayName:${encodeURIComponent(name)}"`, {
      headers: EVENTUAL,
    });
    assert.equal(searched.status, 200);
    assert.ok(Number(searched.body) >= 1 && Number(searched.body) < 250, searched.body);
    const groups = await t.graph("/v1.0/groups/$count?$filter=groupTypes/any(c:c eq 'Unified')", { headers: EVENTUAL });
    const unified = [...t.emulator.tenant.liveGroups()].filter((g) =>
      (t.emulator.tenant.group(g).groupTypes as string[]).includes('Unified'),
    ).length;
    assert.equal(groups.body, String(unified));
    expectError(
      await t.graph('/v1.0/users/$count?$filter=nonsense eq 1', { headers: EVENTUAL }),
      400,
      'Request_BadRequest',
    );
  });

  it('takes delta in its function form, delta(), as Kiota calls it', async () => {
    const res = await t.graph('/v1.0/users/delta()?$select=id,displayName');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.value.length > 0);
    assert.ok(res.body['@odata.nextLink'] || res.body['@odata.deltaLink']);
    const groups = await t.graph('/v1.0/groups/delta()?$select=id');
    assert.equal(groups.status, 200);
    const batch = await t.graph('/v1.0/$batch', {
      method: 'POST',
      body: { requests: [{ id: '1', method: 'GET', url: '/groups/delta()?$select=id' }] },
    });
    assert.equal(batch.body.responses[0].status, 200);
  });

  it('checks the URL segment before the object: an unknown navigation is a 400 even for an unknown user', async () => {
    expectError(
      await t.graph('/v1.0/users/nobody@contoso.com/nope'),
      400,
      'BadRequest',
      /^Resource not found for the segment 'nope'\.$/,
    );
    expectError(await t.graph('/v1.0/users/nobody@contoso.com/manager'), 404, 'Request_ResourceNotFound');
  });

  it("error bodies carry the caller's client-request-id in innerError", async () => {
    const id = '0d3b1b5c-aaaa-4222-8333-444455556666';
    const res = await t.graph('/v1.0/users/nobody@contoso.com', { headers: { 'client-request-id': id } });
    expectError(res, 404, 'Request_ResourceNotFound');
    assert.equal(res.body.error.innerError['client-request-id'], id);
    assert.notEqual(res.body.error.innerError['request-id'], id);
    const batch = await t.graph('/v1.0/$batch', {
      method: 'POST',
      headers: { 'client-request-id': id },
      body: { requests: [{ id: '1', method: 'GET', url: '/users/nobody@contoso.com' }] },
    });
    assert.equal(batch.body.responses[0].body.error.innerError['client-request-id'], id);
  });

  it('gets a user by id or by UPN, case-insensitively, guests with %23EXT%23', async () => {
    const u = user(3);
    const byId = await t.graph(`/v1.0/users/${u.id}`);
    const byUpn = await t.graph(`/v1.0/users/${encodeURIComponent(u.userPrincipalName.toUpperCase())}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body['@odata.context'], `${t.emulator.graphUrl}/v1.0/$metadata#users/$entity`);
    assert.deepEqual({ ...byUpn.body }, { ...byId.body });
    const guest = [...t.emulator.tenant.liveUsers()].map(user).find((x) => x.userType === 'Guest')!;
    const byGuestUpn = await t.graph(
      `/v1.0/users/${guest.userPrincipalName.replace('#', '%23').replace('#', '%23')}?$select=id,userType,mail`,
    );
    assert.equal(byGuestUpn.status, 200);
    assert.equal(byGuestUpn.body.id, guest.id);
    assert.equal(byGuestUpn.body.userType, 'Guest');
  });

  it('accepts OData key syntax for ids and UPNs', async () => {
    const u = user(4);
    for (const path of [
      `/v1.0/users('${u.userPrincipalName}')`,
      `/v1.0/users(%27${u.id}%27)?$select=id`,
      `/v1.0/users('${u.id}')/memberOf`,
    ]) {
      const res = await t.graph(path);
      assert.equal(res.status, 200, path);
    }
    assert.equal((await t.graph(`/v1.0/users('${u.userPrincipalName}')`)).body.id, u.id);
  });

  it('serves the manager as a directoryObject, and 404 for a user without one', async () => {
    const i = withManager();
    const m = user(t.emulator.tenant.managerIndex(i)!);
    const res = await t.graph(`/v1.0/users/${user(i).id}/manager`);
    assert.equal(res.status, 200);
    assert.equal(res.body['@odata.context'], `${t.emulator.graphUrl}/v1.0/$metadata#directoryObjects/$entity`);
    assert.equal(res.body['@odata.type'], '#microsoft.graph.user');
    assert.equal(res.body.id, m.id);
    expectError(
      await t.graph(`/v1.0/users/${user(0).id}/manager`),
      404,
      'Request_ResourceNotFound',
      /Resource 'manager' does not exist/,
    );
  });

  it('expands manager on lists, at most 100 per page', async () => {
    const res = await t.graph('/v1.0/users?$expand=manager($select=id)&$select=id&$top=999');
    assert.equal(res.status, 200);
    assert.equal(res.body.value.length, 100);
    const i = withManager();
    const item = res.body.value.find((u: any) => u.id === user(i).id);
    if (item) assert.equal(item.manager.id, user(t.emulator.tenant.managerIndex(i)!).id);
    assert.equal(res.body.value.find((u: any) => u.id === user(0).id).manager, undefined);
  });

  it('lists direct and transitive memberOf with @odata.type', async () => {
    const i = [...t.emulator.tenant.liveUsers()].find((x) => t.emulator.tenant.userGroups(x).length >= 2)!;
    const res = await t.graph(`/v1.0/users/${user(i).id}/memberOf`);
    assert.equal(res.status, 200);
    assert.equal(res.body.value.length, t.emulator.tenant.userGroups(i).length);
    assert.ok(res.body.value.every((g: any) => g['@odata.type'] === '#microsoft.graph.group'));
    const transitive = await t.graph(`/v1.0/users/${user(i).id}/transitiveMemberOf/microsoft.graph.group`);
    assert.ok(transitive.body.value.length >= res.body.value.length);
  });

  it('serves photo metadata and bytes, and ImageNotFound without one', async () => {
    const i = withPhoto();
    const meta = await t.graph(`/v1.0/users/${user(i).id}/photo`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body['@odata.mediaContentType'], 'image/jpeg');
    assert.match(meta.body['@odata.mediaEtag'], /^"[0-9A-F]+"$/);
    assert.equal(meta.body.id, '96x96');
    const bytes = await t.graph(`/v1.0/users/${user(i).id}/photo/$value`);
    assert.equal(bytes.status, 200);
    assert.equal(bytes.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(bytes.bytes, t.emulator.tenant.photo(i)!.bytes);
    const sized = await t.graph(`/v1.0/users/${user(i).id}/photos/48x48/$value`);
    assert.equal(sized.status, 200);
    const none = withoutPhoto();
    expectError(await t.graph(`/v1.0/users/${user(none).id}/photo/$value`), 404, 'ImageNotFound');
    expectError(await t.graph(`/v1.0/users/${user(none).id}/photo`), 404, 'ImageNotFound');
  });
});

describe('groups', () => {
  it('lists groups of all four kinds', async () => {
    const groups = await readAll(t, '/v1.0/groups?$select=id,displayName,groupTypes,mailEnabled,securityEnabled');
    assert.equal(groups.length, 12);
    const kinds = new Set(
      groups.map((g) => (g.groupTypes.includes('Unified') ? 'm365' : `${g.mailEnabled}/${g.securityEnabled}`)),
    );
    assert.deepEqual([...kinds].sort(), ['false/true', 'm365', 'true/false', 'true/true']);
  });

  it('pages members of a large group and casts to users', async () => {
    const g0 = t.emulator.tenant.group(0);
    const members = await readAll(
      t,
      `/v1.0/groups/${g0.id}/members/microsoft.graph.user?$select=id,userPrincipalName&$top=30`,
    );
    const expected = [...t.emulator.tenant.groupMembers(0)].filter((m) => m.ref.kind === 'user');
    assert.equal(members.length, expected.length);
    assert.ok(members.every((m) => m['@odata.type'] === '#microsoft.graph.user' && m.userPrincipalName));
  });

  it('shows nested groups in members and flattens them in transitiveMembers', async () => {
    const parent = [...t.emulator.tenant.liveGroups()].find((g) =>
      [...t.emulator.tenant.groupMembers(g)].some((m) => m.ref.kind === 'group'),
    )!;
    const id = t.emulator.tenant.group(parent).id;
    const direct = await readAll(t, `/v1.0/groups/${id}/members`);
    assert.ok(direct.some((m) => m['@odata.type'] === '#microsoft.graph.group'));
    const transitive = await readAll(t, `/v1.0/groups/${id}/transitiveMembers/microsoft.graph.user`);
    const directUsers = direct.filter((m) => m['@odata.type'] === '#microsoft.graph.user');
    assert.ok(transitive.length > directUsers.length);
  });
});

describe('authorization', () => {
  it('rejects a missing or garbled token with 401 InvalidAuthenticationToken and WWW-Authenticate', async () => {
    const missing = await t.graph('/v1.0/users', { token: null });
    expectError(missing, 401, 'InvalidAuthenticationToken', /^Access token is empty\.$/);
    assert.match(missing.headers.get('www-authenticate')!, /^Bearer realm=""/);
    expectError(
      await t.graph('/v1.0/users', { token: 'not-a-jwt' }),
      401,
      'InvalidAuthenticationToken',
      /^IDX14100: JWT is not well formed, there are no dots \(\.\)\.\nThe token needs to be in JWS or JWE Compact Serialization Format/,
    );
    expectError(
      await t.graph('/v1.0/users', { token: 'a.b' }),
      401,
      'InvalidAuthenticationToken',
      /CompactToken parsing failed/,
    );
  });

  it('answers 403 Authorization_RequestDenied when the granted roles do not allow the call', async () => {
    const saved = t.emulator.app.roles;
    try {
      t.emulator.app.roles = ['User.Read.All'];
      const token = await t.token();
      assert.equal((await t.graph('/v1.0/users?$top=1', { token })).status, 200);
      expectError(
        await t.graph('/v1.0/groups', { token }),
        403,
        'Authorization_RequestDenied',
        /Insufficient privileges/,
      );
      t.emulator.app.roles = ['GroupMember.Read.All'];
      expectError(await t.graph('/v1.0/users', { token: await t.token() }), 403, 'Authorization_RequestDenied');
    } finally {
      t.emulator.app.roles = saved;
    }
  });

  /** The token service's answer for the app's secret and this scope. */
  const tokenFor = (scope: string) =>
    t.raw(`${t.emulator.authorityHost}/${t.emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: t.emulator.clientId,
        client_secret: t.emulator.clientSecret,
        scope,
      }).toString(),
    });

  it('rejects a token issued for another resource', async () => {
    const res = await tokenFor('https://vault.azure.net/.default');
    assert.equal(res.status, 200);
    expectError(
      await t.graph('/v1.0/users', { token: res.body.access_token }),
      401,
      'InvalidAuthenticationToken',
      /Invalid audience/,
    );
  });

  it('refuses a token for a resource the tenant does not have (AADSTS500011 invalid_resource); Graph audiences work', async () => {
    const { emulator } = t;
    const refused = await tokenFor('https://nonexistent.example.org/.default');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_resource');
    assert.deepEqual(refused.body.error_codes, [500011]);
    assert.match(
      refused.body.error_description,
      /^AADSTS500011: The resource principal named https:\/\/nonexistent\.example\.org was not found in the tenant named /,
    );
    for (const scope of [
      'https://graph.microsoft.com/.default',
      '00000003-0000-0000-c000-000000000000/.default',
      `${emulator.graphUrl}/.default`,
    ])
      assert.equal((await tokenFor(scope)).status, 200, scope);
  });

  it('echoes client-request-id', async () => {
    const res = await t.graph('/v1.0/users?$top=1', {
      headers: { 'client-request-id': '0d3b1b5c-1111-4222-8333-444455556666' },
    });
    assert.equal(res.headers.get('client-request-id'), '0d3b1b5c-1111-4222-8333-444455556666');
  });
});

describe('$batch', () => {
  it('runs up to 20 relative requests, with binary bodies in base64 and per-item errors', async () => {
    const p = withPhoto();
    const res = await t.graph('/v1.0/$batch', {
      method: 'POST',
      body: {
        requests: [
          { id: '1', method: 'GET', url: `/users/${user(p).id}/photo/$value` },
          { id: '2', method: 'GET', url: `/users/${user(0).id}/manager?$select=id` },
          { id: '3', method: 'GET', url: 'users?$select=id&$top=2' },
          { id: '4', method: 'GET', url: '/groups?$top=1', dependsOn: ['3'] },
          { id: '5', method: 'GET', url: '/users/nobody@contoso.com' },
          { id: '6', method: 'GET', url: '/groups?$top=1', dependsOn: ['5'] },
        ],
      },
    });
    assert.equal(res.status, 200);
    const byId = new Map(res.body.responses.map((r: any) => [r.id, r]));
    const photo: any = byId.get('1');
    assert.equal(photo.status, 200);
    assert.deepEqual(Buffer.from(photo.body, 'base64'), t.emulator.tenant.photo(p)!.bytes);
    assert.equal((byId.get('2') as any).status, 404);
    assert.equal((byId.get('3') as any).body.value.length, 2);
    assert.equal((byId.get('4') as any).status, 200);
    assert.equal((byId.get('6') as any).status, 424);
  });

  const badBatches: [string, unknown, RegExp][] = [
    [
      'more than 20 requests',
      { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' })) },
      /20/,
    ],
    [
      'duplicate ids',
      {
        requests: [
          { id: 'a', method: 'GET', url: '/users' },
          { id: 'A', method: 'GET', url: '/users' },
        ],
      },
      /unique/,
    ],
    ['no requests array', { calls: [] }, /requests/],
    ['no requests at all', { requests: [] }, /no requests/],
    [
      'an unknown dependency',
      { requests: [{ id: 'a', method: 'GET', url: '/users', dependsOn: ['b'] }] },
      /depends on 'b'/,
    ],
  ];
  for (const [name, body, message] of badBatches) {
    it(`rejects a batch with ${name}`, async () =>
      expectError(await t.graph('/v1.0/$batch', { method: 'POST', body }), 400, 'BadRequest', message));
  }

  it('throttles batch items individually', async () => {
    // From the seed's first draw (reset), so that earlier tests' requests do not decide whether the batch itself is throttled.
    t.emulator.faults.reset();
    t.emulator.faults.update({ throttleRatio: 0.5, throttleRetryAfterSeconds: 3 });
    try {
      const res = await t.graph('/v1.0/$batch', {
        method: 'POST',
        body: {
          requests: Array.from({ length: 20 }, (_, i) => ({
            id: String(i),
            method: 'GET',
            url: `/users/${user(i).id}?$select=id`,
          })),
        },
      });
      assert.equal(res.status, 200);
      const statuses = res.body.responses.map((r: any) => r.status);
      assert.ok(statuses.includes(429) && statuses.includes(200), statuses.join(','));
      const throttledItem = res.body.responses.find((r: any) => r.status === 429);
      assert.equal(throttledItem.headers['Retry-After'], '3');
      assert.equal(throttledItem.body.error.code, 'TooManyRequests');
    } finally {
      t.emulator.faults.reset();
    }
  });
});

describe('faults', () => {
  it('answers 429 with Retry-After and the Graph body, and 503', async () => {
    t.emulator.faults.update({ throttleRatio: 1, throttleRetryAfterSeconds: 2.5 });
    try {
      const res = await t.graph('/v1.0/users?$top=1');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '2.5');
      assert.equal(res.body.error.code, 'TooManyRequests');
      assert.equal(res.body.error.innerError.status, '429');
      t.emulator.faults.update({ throttleRatio: 0, unavailableRatio: 1, unavailableRetryAfterSeconds: 1 });
      const unavailable = await t.graph('/v1.0/users?$top=1');
      assert.equal(unavailable.status, 503);
      assert.equal(unavailable.headers.get('retry-after'), '1');
    } finally {
      t.emulator.faults.reset();
    }
  });

  it('resets connections', async () => {
    t.emulator.faults.update({ resetRatio: 1 });
    try {
      await assert.rejects(t.graph('/v1.0/users?$top=1'));
    } finally {
      t.emulator.faults.reset();
    }
    assert.equal((await t.graph('/v1.0/users?$top=1')).status, 200);
  });

  it('returns no users during a source outage', async () => {
    t.emulator.faults.update({ noUsersRequests: 1 });
    const empty = await t.graph('/v1.0/users');
    assert.deepEqual(empty.body.value, []);
    assert.equal((await t.graph('/v1.0/users')).body.value.length, 100);
  });

  it('counts requests per endpoint', async () => {
    t.emulator.requests.reset();
    await t.graph(`/v1.0/users/${user(1).id}/manager`);
    await t.graph(`/v1.0/users/${user(2).id}/manager`);
    const snapshot = t.emulator.requests.snapshot() as any;
    assert.equal(snapshot.totals.requests, 2);
    assert.equal(JSON.stringify(snapshot).includes('/v1.0/users/{id}/manager'), true);
  });
});
