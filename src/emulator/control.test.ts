import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ControlError, ScriptError, createControl, createControlApp, type ControlDeps } from './control.ts';
import { InvalidInputError, createFaults } from './faults.ts';
import { createRequestLog } from './request-log.ts';
import { TenantError, createTenant } from './tenant/tenant.ts';

const MISSING = '00000000-0000-4000-8000-000000000000';
// A tiny valid PNG (1x1).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function setup(options: { apps?: boolean } = {}) {
  const tenant = createTenant({ users: 40, groups: 8, seed: 'control-tests' });
  const faults = createFaults('control-tests');
  const requestLog = createRequestLog();
  const roles = new Map<string, string[]>([['app-1', ['User.Read.All']]]);
  const deps: ControlDeps = {
    tenant: () => tenant,
    faults,
    requestLog,
    info: () => ({ tenantId: tenant.spec.tenantId, users: tenant.userCount() }),
    ...(options.apps === false
      ? {}
      : {
          apps: {
            setRoles(clientId: string, list: string[]) {
              if (!roles.has(clientId))
                throw new Error(`No app with client id ${clientId} is registered in the emulator.`);
              roles.set(clientId, list);
            },
          },
        }),
  };
  const app = createControlApp(deps);
  const control = createControl(deps);
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body instanceof Uint8Array) init.body = body;
    else if (typeof body === 'string') init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
    }
    const res = await app.request(path, init);
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  }
  const userAt = (i: number) => tenant.user(i);
  return { tenant, faults, requestLog, roles, app, control, call, userAt };
}

/** Asserts a 400 whose message names `field` (and optionally matches more). */
function assertBadRequest(res: { status: number; json: any }, field: string, pattern?: RegExp) {
  assert.equal(res.status, 400, JSON.stringify(res.json));
  assert.ok(typeof res.json.error.code === 'string');
  assert.ok(res.json.error.message.includes(field), `message should name ${field}: ${res.json.error.message}`);
  if (pattern) assert.match(res.json.error.message, pattern);
}

describe('control API: info, requests, faults', () => {
  it('GET /info returns the info object', async () => {
    const { call, tenant } = setup();
    const res = await call('GET', '/info');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { tenantId: tenant.spec.tenantId, users: 40 });
  });

  it('GET /requests shows the log; DELETE /requests clears it', async () => {
    const { call, requestLog } = setup();
    requestLog.record({ method: 'GET', path: '/v1.0/users/delta', status: 200, durationMs: 4 });
    const res = await call('GET', '/requests');
    assert.equal(res.status, 200);
    assert.equal(res.json.totals.graphRequests, 1);
    assert.equal(res.json.endpoints['GET /v1.0/users/delta'].count, 1);
    assert.equal(res.json.recent.length, 1);
    assert.equal((await call('DELETE', '/requests')).status, 204);
    assert.equal((await call('GET', '/requests')).json.totals.requests, 0);
  });

  it('GET/PUT/DELETE /faults and POST /delta/expire', async () => {
    const { call, faults } = setup();
    let res = await call('GET', '/faults');
    assert.equal(res.status, 200);
    assert.equal(res.json.settings.throttleRatio, 0);
    assert.equal(res.json.deltaGeneration, 0);

    res = await call('PUT', '/faults', { throttleRatio: 0.5, throttleRetryAfterSeconds: 0.05, paths: '^/users' });
    assert.equal(res.status, 200);
    assert.equal(res.json.settings.throttleRatio, 0.5);
    assert.equal(res.json.settings.paths, '^/users');
    assert.equal(faults.settings.throttleRetryAfterSeconds, 0.05);

    res = await call('PUT', '/faults', { unavailableRatio: 0.6 });
    assertBadRequest(res, 'unavailableRatio', /at most 1/);
    res = await call('PUT', '/faults', { slowRatio: 'x' });
    assertBadRequest(res, 'slowRatio', /from 0 to 1/);
    res = await call('PUT', '/faults', { throttleRatoi: 0.1 });
    assertBadRequest(res, 'throttleRatoi', /unknown field/);
    res = await call('PUT', '/faults', '{ not json', { 'Content-Type': 'application/json' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'InvalidJson');
    assert.equal(faults.settings.unavailableRatio, 0, 'rejected updates change nothing');

    res = await call('POST', '/delta/expire');
    assert.deepEqual(res.json, { deltaGeneration: 1 });
    assert.equal(faults.deltaGeneration, 1);

    res = await call('DELETE', '/faults');
    assert.equal(res.status, 200);
    assert.equal(res.json.settings.throttleRatio, 0);
    assert.equal(res.json.settings.paths, null);
    assert.equal(res.json.deltaGeneration, 1);
  });
});

describe('control API: users', () => {
  it('POST /users creates a user, with a manager and a generated photo', async () => {
    const { call, tenant, userAt } = setup();
    const manager = userAt(3);
    const ext = tenant.spec.extensionCostCenter;
    const res = await call('POST', '/users', {
      userPrincipalName: 'new.person@contoso.com',
      displayName: 'New Person',
      department: 'Sales',
      jobTitle: 'Rep',
      businessPhones: ['+1 555 0100'],
      accountEnabled: true,
      managerId: manager.userPrincipalName,
      photo: true,
      [ext]: 'CC-1234',
      onPremisesExtensionAttributes: { extensionAttribute3: 'x' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(res.json.userPrincipalName, 'new.person@contoso.com');
    assert.equal(res.json.department, 'Sales');
    assert.equal(res.json[ext], 'CC-1234');
    assert.equal(res.json.onPremisesExtensionAttributes.extensionAttribute3, 'x');
    assert.equal(res.json.onPremisesExtensionAttributes.extensionAttribute15, null);
    assert.equal(Object.keys(res.json.onPremisesExtensionAttributes).length, 15);
    const i = tenant.findUser(res.json.id)!;
    assert.notEqual(i, undefined);
    assert.equal(tenant.managerIndex(i), tenant.findUser(manager.id));
    assert.ok(tenant.photo(i));
    assert.equal(tenant.userCount(), 41);
  });

  it('POST /users validates the body, naming the field and the fix', async () => {
    const { call, tenant } = setup();
    assertBadRequest(await call('POST', '/users', { userPrincipalName: 'a@contoso.com' }), 'displayName', /required/);
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'not-an-upn', displayName: 'A' }),
      'userPrincipalName',
      /alias@domain/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', deparment: 'Sales' }),
      'deparment',
      /did you mean 'department'/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', id: MISSING }),
      "'id'",
      /assigned by the directory/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', manager: 'x' }),
      "'manager'",
      /managerId/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', accountEnabled: 'yes' }),
      'accountEnabled',
      /true or false/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', userType: 'Admin' }),
      'userType',
      /Member.*Guest/,
    );
    assertBadRequest(
      await call('POST', '/users', { userPrincipalName: 'a@contoso.com', displayName: 'A', otherMails: 'a@b.c' }),
      'otherMails',
      /list of strings/,
    );
    assertBadRequest(
      await call('POST', '/users', {
        userPrincipalName: 'a@contoso.com',
        displayName: 'A',
        onPremisesExtensionAttributes: { extensionAttribute16: 'x' },
      }),
      'extensionAttribute16',
    );
    assertBadRequest(await call('POST', '/users', [1, 2]), 'body');
    assertBadRequest(await call('POST', '/users'), 'body', /required/);
    assert.equal(tenant.userCount(), 40, 'nothing was created');
  });

  it('POST /users: duplicate UPN is the tenant error; unknown manager is a 404 and creates nothing', async () => {
    const { call, tenant, userAt } = setup();
    let res = await call('POST', '/users', { userPrincipalName: userAt(0).userPrincipalName, displayName: 'Dup' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'Request_BadRequest');
    res = await call('POST', '/users', {
      userPrincipalName: 'z@contoso.com',
      displayName: 'Z',
      managerId: 'ghost@contoso.com',
    });
    assert.equal(res.status, 404);
    assert.match(res.json.error.message, /managerId/);
    assert.equal(tenant.findUser('z@contoso.com'), undefined);
    assert.equal(tenant.userCount(), 40);
  });

  it('PATCH /users/:id updates by id or UPN; 404 for unknown ids; 400 for bad patches', async () => {
    const { call, tenant, userAt } = setup();
    const u = userAt(5);
    let res = await call('PATCH', `/users/${u.id}`, { jobTitle: 'Director', accountEnabled: false });
    assert.equal(res.status, 200);
    assert.equal(res.json.jobTitle, 'Director');
    assert.equal(tenant.user(5).accountEnabled, false);
    res = await call('PATCH', `/users/${encodeURIComponent(u.userPrincipalName)}`, { city: 'Oslo' });
    assert.equal(res.status, 200);
    assert.equal(tenant.user(5).city, 'Oslo');
    res = await call('PATCH', '/users/abc', { onPremisesExtensionAttributes: { extensionAttribute2: 'L9' } });
    assert.equal(res.status, 404);
    res = await call('PATCH', `/users/${u.id}`, { onPremisesExtensionAttributes: { extensionAttribute2: 'L9' } });
    assert.equal(res.status, 200);
    assert.equal(res.json.onPremisesExtensionAttributes.extensionAttribute2, 'L9');
    assert.equal(
      res.json.onPremisesExtensionAttributes.extensionAttribute1,
      u.onPremisesExtensionAttributes &&
        (u.onPremisesExtensionAttributes as Record<string, unknown>).extensionAttribute1,
      'other attributes kept',
    );

    res = await call('PATCH', `/users/${MISSING}`, { city: 'Oslo' });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'Request_ResourceNotFound');
    assertBadRequest(await call('PATCH', `/users/${u.id}`, { displayName: '' }), 'displayName', /non-empty/);
    assertBadRequest(await call('PATCH', `/users/${u.id}`, { managerId: userAt(1).id }), "'managerId'", /setManager/);
    assertBadRequest(await call('PATCH', `/users/${u.id}`, { photo: true }), "'photo'", /photo/);
    assertBadRequest(await call('PATCH', `/users/${u.id}`, { mobilePhone: 5 }), 'mobilePhone', /string or null/);
  });

  it('DELETE /users/:id soft-deletes; POST restore brings it back (by id or UPN); permanent deletes for good', async () => {
    const { call, tenant, userAt } = setup();
    const u = userAt(7);
    assert.equal((await call('DELETE', `/users/${u.id}`)).status, 204);
    assert.equal(tenant.findUser(u.id), undefined);
    assert.equal((await call('DELETE', `/users/${u.id}`)).status, 404, 'already deleted');
    let res = await call('POST', `/users/${encodeURIComponent(u.userPrincipalName)}/restore`);
    assert.equal(res.status, 200);
    assert.equal(res.json.id, u.id);
    assert.equal(tenant.findUser(u.id), 7);

    assert.equal((await call('DELETE', `/users/${u.id}?permanent=true`)).status, 204);
    res = await call('POST', `/users/${u.id}/restore`);
    assert.equal(res.status, 404);
    assertBadRequest(await call('DELETE', `/users/${userAt(8).id}?permanent=maybe`), 'permanent', /true or false/);
    assert.equal(tenant.findUser(userAt(8).id), 8);
    assert.equal((await call('DELETE', `/users/${MISSING}`)).status, 404);
    assert.equal((await call('POST', `/users/${MISSING}/restore`)).status, 404);
  });

  it('PUT /users/:id/manager sets and clears the manager', async () => {
    const { call, tenant, userAt } = setup();
    const u = userAt(9);
    const m = userAt(2);
    assert.equal((await call('PUT', `/users/${u.id}/manager`, { managerId: m.id })).status, 204);
    assert.equal(tenant.managerIndex(9), 2);
    assert.equal((await call('PUT', `/users/${u.id}/manager`, { managerId: null })).status, 204);
    assert.equal(tenant.managerIndex(9), undefined);
    assert.equal((await call('PUT', `/users/${u.id}/manager`, { managerId: MISSING })).status, 404);
    assert.equal((await call('PUT', `/users/${MISSING}/manager`, { managerId: m.id })).status, 404);
    const self = await call('PUT', `/users/${u.id}/manager`, { managerId: u.id });
    assert.equal(self.status, 400);
    assert.match(self.json.error.message, /own manager/);
    assertBadRequest(await call('PUT', `/users/${u.id}/manager`, {}), 'managerId', /required/);
    assertBadRequest(await call('PUT', `/users/${u.id}/manager`, { managerId: 42 }), 'managerId');
    assertBadRequest(await call('PUT', `/users/${u.id}/manager`, { manager: m.id }), 'manager');
  });

  it('PUT /users/:id/photo takes raw image bytes or {"generate": true}; DELETE removes it', async () => {
    const { call, tenant, userAt } = setup();
    const u = userAt(11);
    let res = await call('PUT', `/users/${u.id}/photo`, new Uint8Array(PNG), { 'Content-Type': 'image/png' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.contentType, 'image/png');
    assert.equal(res.json.size, PNG.length);
    assert.equal(res.json.sha256, createHash('sha256').update(PNG).digest('hex'));
    assert.deepEqual(tenant.photo(11)!.bytes, PNG);

    res = await call('PUT', `/users/${u.id}/photo`, { generate: true });
    assert.equal(res.status, 200);
    assert.equal(res.json.contentType, 'image/jpeg');
    assert.equal(res.json.sha256, createHash('sha256').update(tenant.photo(11)!.bytes).digest('hex'));

    res = await call('PUT', `/users/${u.id}/photo`, 'hello', { 'Content-Type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match(res.json.error.message, /image\/jpeg/);
    assertBadRequest(
      await call('PUT', `/users/${u.id}/photo`, new Uint8Array(0), { 'Content-Type': 'image/jpeg' }),
      'photo',
      /empty/,
    );
    assertBadRequest(await call('PUT', `/users/${u.id}/photo`, { generate: false }), 'generate');
    assert.equal((await call('PUT', `/users/${MISSING}/photo`, { generate: true })).status, 404);

    assert.equal((await call('DELETE', `/users/${u.id}/photo`)).status, 204);
    assert.equal(tenant.photo(11), null);
    assert.equal((await call('DELETE', `/users/${MISSING}/photo`)).status, 404);
  });
});

describe('control API: groups and apps', () => {
  it('POST /groups creates each kind, optionally with members', async () => {
    const { call, tenant, userAt } = setup();
    const expected: Record<string, { groupTypes: string[]; mailEnabled: boolean; securityEnabled: boolean }> = {
      microsoft365: { groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false },
      security: { groupTypes: [], mailEnabled: false, securityEnabled: true },
      'mail-enabled-security': { groupTypes: [], mailEnabled: true, securityEnabled: true },
      distribution: { groupTypes: [], mailEnabled: true, securityEnabled: false },
    };
    for (const [kind, shape] of Object.entries(expected)) {
      const res = await call('POST', '/groups', { displayName: `G ${kind}`, kind, description: 'd' });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.deepEqual(
        {
          groupTypes: res.json.groupTypes,
          mailEnabled: res.json.mailEnabled,
          securityEnabled: res.json.securityEnabled,
        },
        shape,
        kind,
      );
    }
    const res = await call('POST', '/groups', {
      displayName: 'With members',
      members: [userAt(1).id, userAt(2).userPrincipalName],
    });
    assert.equal(res.status, 201);
    const g = tenant.findGroup(res.json.id)!;
    assert.deepEqual([...tenant.groupMembers(g)].map((m) => m.ref.id).sort(), [userAt(1).id, userAt(2).id].sort());
  });

  it('POST /groups validates and checks members before creating anything', async () => {
    const { call, tenant, userAt } = setup();
    const before = tenant.groupCount();
    assertBadRequest(
      await call('POST', '/groups', { displayName: 'X', kind: 'team' }),
      'kind',
      /microsoft365, security, mail-enabled-security, distribution/,
    );
    assertBadRequest(await call('POST', '/groups', { kind: 'security' }), 'displayName', /required/);
    assertBadRequest(
      await call('POST', '/groups', { displayName: 'X', groupTypes: ['Unified'] }),
      "'groupTypes'",
      /kind/,
    );
    assertBadRequest(await call('POST', '/groups', { displayName: 'X', visibility: 'Secret' }), 'visibility');
    assertBadRequest(
      await call('POST', '/groups', { displayName: 'X', members: [userAt(1).id, userAt(1).id] }),
      'members[1]',
      /twice/,
    );
    const res = await call('POST', '/groups', { displayName: 'X', members: [userAt(1).id, MISSING] });
    assert.equal(res.status, 404);
    assert.match(res.json.error.message, /members\[1\]/);
    assert.equal(tenant.groupCount(), before);
  });

  it('PATCH, DELETE (soft for Microsoft 365, hard otherwise) and restore', async () => {
    const { call, tenant } = setup();
    const m365 = (await call('POST', '/groups', { displayName: 'M', kind: 'microsoft365' })).json;
    const sec = (await call('POST', '/groups', { displayName: 'S', kind: 'security' })).json;
    let res = await call('PATCH', `/groups/${m365.id}`, { displayName: 'M2', description: 'new' });
    assert.equal(res.status, 200);
    assert.equal(res.json.displayName, 'M2');
    assertBadRequest(await call('PATCH', `/groups/${m365.id}`, { kind: 'security' }), "'kind'", /cannot change/);
    assertBadRequest(await call('PATCH', `/groups/${m365.id}`, { displayName: 7 }), 'displayName');
    assert.equal((await call('PATCH', `/groups/${MISSING}`, { displayName: 'x' })).status, 404);

    assert.equal((await call('DELETE', `/groups/${m365.id}`)).status, 204);
    assert.equal(tenant.findGroup(m365.id), undefined);
    res = await call('POST', `/groups/${m365.id}/restore`);
    assert.equal(res.status, 200);
    assert.equal(res.json.displayName, 'M2');

    assert.equal((await call('DELETE', `/groups/${sec.id}`)).status, 204);
    assert.equal((await call('POST', `/groups/${sec.id}/restore`)).status, 404, 'security groups are deleted for good');
    assert.equal((await call('DELETE', `/groups/${m365.id}?permanent=true`)).status, 204);
    assert.equal((await call('POST', `/groups/${m365.id}/restore`)).status, 404);
    assertBadRequest(await call('DELETE', `/groups/${tenant.groupIdOf(1)}?permanent=soon`), 'permanent');
    assert.equal((await call('DELETE', `/groups/${MISSING}`)).status, 404);
    assert.equal((await call('POST', `/groups/${MISSING}/restore`)).status, 404);
  });

  it('POST /groups/:id/members and DELETE /groups/:id/members/:memberId', async () => {
    const { call, tenant, userAt } = setup();
    const g = (await call('POST', '/groups', { displayName: 'Team', kind: 'security' })).json;
    const gi = tenant.findGroup(g.id)!;
    const u = userAt(4);
    assert.equal((await call('POST', `/groups/${g.id}/members`, { id: u.id })).status, 204);
    assert.deepEqual(
      [...tenant.groupMembers(gi)].map((m) => m.ref.id),
      [u.id],
    );
    const dup = await call('POST', `/groups/${g.id}/members`, { id: u.id });
    assert.equal(dup.status, 400);
    assert.equal(dup.json.error.code, 'Request_BadRequest');
    assert.equal((await call('POST', `/groups/${g.id}/members`, { id: MISSING })).status, 404);
    assert.equal((await call('POST', `/groups/${MISSING}/members`, { id: u.id })).status, 404);
    assertBadRequest(await call('POST', `/groups/${g.id}/members`, { memberId: u.id }), 'memberId', /unknown field/);
    assertBadRequest(await call('POST', `/groups/${g.id}/members`, { id: '' }), 'id', /empty/);

    assert.equal((await call('DELETE', `/groups/${g.id}/members/${u.id}`)).status, 204);
    assert.deepEqual([...tenant.groupMembers(gi)], []);
    assert.equal((await call('DELETE', `/groups/${g.id}/members/${u.id}`)).status, 404, 'not a member any more');
  });

  it('PUT /apps/:clientId/roles sets the app roles', async () => {
    const { call, roles } = setup();
    const res = await call('PUT', '/apps/app-1/roles', { roles: ['User.Read.All', 'GroupMember.Read.All'] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { clientId: 'app-1', roles: ['User.Read.All', 'GroupMember.Read.All'] });
    assert.deepEqual(roles.get('app-1'), ['User.Read.All', 'GroupMember.Read.All']);
    assert.equal((await call('PUT', '/apps/app-1/roles', { roles: [] })).status, 200);
    assert.deepEqual(roles.get('app-1'), []);
    const unknown = await call('PUT', '/apps/nope/roles', { roles: [] });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /nope/);
    assertBadRequest(await call('PUT', '/apps/app-1/roles', { roles: 'User.Read.All' }), 'roles', /list/);
    assertBadRequest(await call('PUT', '/apps/app-1/roles', { roles: ['User Read'] }), 'roles[0]', /User\.Read\.All/);
  });

  it('has no apps route without an app registry, and answers unknown routes with a JSON 404', async () => {
    const { call } = setup({ apps: false });
    assert.equal((await call('PUT', '/apps/app-1/roles', { roles: [] })).status, 404);
    const res = await call('GET', '/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'NotFound');
  });
});

describe('control API: script', () => {
  it('applies several changes in order, with "as" references', async () => {
    const { call, tenant, userAt, faults } = setup();
    const boss = userAt(0);
    const res = await call('POST', '/script', {
      changes: [
        {
          op: 'createUser',
          as: 'ann',
          userPrincipalName: 'ann@contoso.com',
          displayName: 'Ann',
          department: 'Ops',
          managerId: boss.id,
        },
        { op: 'createUser', as: 'bob', userPrincipalName: 'bob@contoso.com', displayName: 'Bob' },
        { op: 'setManager', id: '$bob', managerId: '$ann' },
        { op: 'updateUser', id: '$ann', patch: { jobTitle: 'Lead' } },
        { op: 'createGroup', as: 'ops', displayName: 'Ops team', kind: 'microsoft365', members: ['$ann'] },
        { op: 'addMember', groupId: '$ops', memberId: '$bob' },
        { op: 'removeMember', groupId: '$ops', memberId: 'ann@contoso.com' },
        { op: 'updateGroup', id: '$ops', patch: { description: 'The ops team' } },
        { op: 'setPhoto', id: '$ann', generate: true },
        { op: 'setPhoto', id: '$bob', base64: PNG.toString('base64'), contentType: 'image/png' },
        { op: 'deletePhoto', id: '$ann' },
        { op: 'deleteUser', id: userAt(3).id },
        { op: 'restoreUser', id: userAt(3).id },
        { op: 'deleteUser', id: userAt(4).id, permanent: true },
        { op: 'deleteGroup', id: '$ops' },
        { op: 'restoreGroup', id: '$ops' },
        { op: 'setFaults', throttleRatio: 0.1 },
        { op: 'expireDeltaTokens' },
        { op: 'setAppRoles', clientId: 'app-1', roles: ['User.Read.All'] },
        { op: 'resetFaults' },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.results.length, 20);
    assert.deepEqual(
      res.json.results.map((r: { index: number }) => r.index),
      [...Array(20).keys()],
    );
    assert.equal(res.json.results[0].result.userPrincipalName, 'ann@contoso.com');
    assert.equal(res.json.results[2].result, null);
    assert.equal(res.json.seq, tenant.seq);
    const ann = tenant.findUser('ann@contoso.com')!;
    const bob = tenant.findUser('bob@contoso.com')!;
    assert.equal(tenant.user(ann).jobTitle, 'Lead');
    assert.equal(tenant.managerIndex(ann), tenant.findUser(boss.id));
    assert.equal(tenant.managerIndex(bob), ann);
    assert.equal(tenant.photo(ann), null);
    assert.deepEqual(tenant.photo(bob)!.bytes, PNG);
    const ops = tenant.findGroup(res.json.results[4].result.id)!;
    assert.equal(tenant.group(ops).description, 'The ops team');
    assert.deepEqual(
      [...tenant.groupMembers(ops)].map((m) => m.ref.index),
      [bob],
    );
    assert.equal(tenant.findUser(userAt(3).id), 3);
    assert.equal(tenant.findUser(userAt(4).id), undefined);
    assert.equal(faults.deltaGeneration, 1);
    assert.equal(faults.settings.throttleRatio, 0);
  });

  it('validates the whole script before applying anything', async () => {
    const { call, tenant } = setup();
    const seq = tenant.seq;
    let res = await call('POST', '/script', {
      changes: [
        { op: 'createUser', userPrincipalName: 'ok@contoso.com', displayName: 'OK' },
        { op: 'updateUser', id: 'ok@contoso.com', patch: { displayName: 3 } },
      ],
    });
    assertBadRequest(res, 'changes[1].patch.displayName');
    res = await call('POST', '/script', {
      changes: [{ op: 'createUser', userPrincipalName: 'ok@contoso.com', displayName: 'OK' }, { op: 'frobnicate' }],
    });
    assertBadRequest(res, 'changes[1].op', /createUser.*frobnicate/);
    res = await call('POST', '/script', { changes: [{ op: 'setManager', id: '$nobody', managerId: null }] });
    assertBadRequest(res, 'changes[0].id', /no earlier change has "as": "nobody"/);
    res = await call('POST', '/script', {
      changes: [
        { op: 'createUser', as: 'a', userPrincipalName: 'a@contoso.com', displayName: 'A' },
        { op: 'createUser', as: 'a', userPrincipalName: 'b@contoso.com', displayName: 'B' },
      ],
    });
    assertBadRequest(res, 'changes[1].as', /already defined/);
    res = await call('POST', '/script', { changes: [{ op: 'setPhoto', id: 'x' }] });
    assertBadRequest(res, 'setPhoto', /exactly one of/);
    res = await call('POST', '/script', {
      changes: [{ op: 'createUser', userPrincipalName: 'a@contoso.com', displayName: 'A', jobtitle: 'x' }],
    });
    assertBadRequest(res, 'jobtitle', /did you mean 'jobTitle'/);
    res = await call('POST', '/script', { changes: [{ op: 'setFaults', throttleRatio: 3 }] });
    assertBadRequest(res, 'changes[0].throttleRatio');
    res = await call('POST', '/script', { change: [] });
    assertBadRequest(res, 'change', /unknown field/);
    res = await call('POST', '/script', { changes: {} });
    assertBadRequest(res, 'changes', /list of changes/);
    assert.equal(tenant.seq, seq, 'nothing applied');
  });

  it('stops at the first failing change, reporting its index and the results before it', async () => {
    const { call, tenant } = setup();
    const res = await call('POST', '/script', {
      changes: [
        { op: 'createUser', userPrincipalName: 'first@contoso.com', displayName: 'First' },
        { op: 'updateUser', id: MISSING, patch: { city: 'Paris' } },
        { op: 'createUser', userPrincipalName: 'third@contoso.com', displayName: 'Third' },
      ],
    });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'Request_ResourceNotFound');
    assert.equal(res.json.error.index, 1);
    assert.match(res.json.error.message, /^changes\[1\] \(updateUser\): /);
    assert.equal(res.json.results.length, 1);
    assert.notEqual(tenant.findUser('first@contoso.com'), undefined);
    assert.equal(tenant.findUser('third@contoso.com'), undefined);
  });

  it('rejects setAppRoles when the emulator has no app registry', async () => {
    const { call } = setup({ apps: false });
    assertBadRequest(
      await call('POST', '/script', { changes: [{ op: 'setAppRoles', clientId: 'a', roles: [] }] }),
      'changes[0].op',
    );
  });
});

describe('control, in process', () => {
  it('offers the same operations as plain functions', () => {
    const { control, tenant, userAt, faults, requestLog } = setup();
    const u = control.createUser({ userPrincipalName: 'inproc@contoso.com', displayName: 'In Proc', photo: true });
    assert.equal(tenant.findUser(u.id) !== undefined, true);
    assert.equal(control.updateUser(u.id, { department: 'R&D' }).department, 'R&D');
    control.setManager(u.id, userAt(1).id);
    assert.equal(tenant.managerIndex(tenant.findUser(u.id)!), 1);
    const info = control.setPhoto(u.id, { bytes: PNG, contentType: 'image/png' });
    assert.equal(info.sha256, createHash('sha256').update(PNG).digest('hex'));
    assert.equal(control.setPhoto(u.id, 'generate').contentType, 'image/jpeg');
    control.deletePhoto(u.id);
    control.deleteUser(u.id);
    assert.equal(control.restoreUser('inproc@contoso.com').id, u.id);

    const g = control.createGroup({ displayName: 'P', kind: 'distribution', members: [u.id] });
    control.addMember(g.id, userAt(2).id);
    control.removeMember(g.id, u.id);
    assert.equal(control.updateGroup(g.id, { description: 'x' }).description, 'x');
    control.deleteGroup(g.id, { permanent: true });
    assert.throws(
      () => control.restoreGroup(g.id),
      (e: unknown) => e instanceof TenantError && e.status === 404,
    );

    assert.equal(control.setFaults({ throttleRatio: 0.3 }).settings.throttleRatio, 0.3);
    assert.equal(control.faults().settings.throttleRatio, 0.3);
    assert.equal(control.resetFaults().settings.throttleRatio, 0);
    assert.deepEqual(control.expireDeltaTokens(), { deltaGeneration: 1 });
    assert.equal(faults.deltaGeneration, 1);
    assert.deepEqual(control.setAppRoles('app-1', ['User.Read.All']), { clientId: 'app-1', roles: ['User.Read.All'] });
    requestLog.record({ method: 'GET', path: '/v1.0/users', status: 200, durationMs: 1 });
    assert.equal(control.requests().totals.requests, 1);
    control.clearRequests();
    assert.equal(control.requests().totals.requests, 0);
    assert.deepEqual(control.info(), { tenantId: tenant.spec.tenantId, users: 41 });
    const { results } = control.script({
      changes: [{ op: 'createUser', userPrincipalName: 's@contoso.com', displayName: 'S' }],
    });
    assert.equal((results[0].result as { displayName: string }).displayName, 'S');
  });

  it('throws typed errors: InvalidInputError (400), ControlError, TenantError, ScriptError', () => {
    const { control } = setup({ apps: false });
    assert.throws(
      () => control.createUser({ userPrincipalName: 'bad', displayName: 'B' }),
      (e: unknown) => e instanceof InvalidInputError && e.status === 400 && e.field === 'userPrincipalName',
    );
    assert.throws(
      () => control.updateUser(MISSING, { city: 'x' }),
      (e: unknown) => e instanceof TenantError && e.status === 404,
    );
    assert.throws(
      () => control.setAppRoles('a', []),
      (e: unknown) => e instanceof ControlError && e.status === 404,
    );
    assert.throws(
      () => control.setPhoto('x', { bytes: PNG, contentType: 'text/plain' }),
      (e: unknown) => e instanceof InvalidInputError && e.field === 'contentType',
    );
    assert.throws(
      () => control.setPhoto('x', { bytes: new Uint8Array(4 * 1024 * 1024 + 1) }),
      (e: unknown) => e instanceof ControlError && e.status === 413,
    );
    assert.throws(
      () => control.script({ changes: [{ op: 'restoreGroup', id: MISSING }] }),
      (e: unknown) => e instanceof ScriptError && e.index === 0 && e.status === 404,
    );
  });
});
