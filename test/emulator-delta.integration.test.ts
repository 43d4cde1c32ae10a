import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { caNetworkClient } from '../src/emulator/auth/ca-network-client.ts';
import { generateClientCertificate } from '../src/emulator/tls.ts';
import { startTestEmulator, type TestEmulator } from './support/emulator.ts';

// Scripted change sequences through the control API over HTTP, read back through Graph delta over HTTPS,
// with tokens from Microsoft's own msal-node.

let t: TestEmulator;
before(async () => {
  t = await startTestEmulator({ users: 80, groups: 8, seed: 'delta-http', deltaPageSize: 25, deltaMembersPerPage: 7 });
});
after(async () => {
  await t.stop();
});

async function control(method: string, path: string, body?: unknown) {
  const res = await t.raw(`${t.emulator.graphUrl}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Reads one whole delta round from `link`, returning the items and the next deltaLink. */
async function round(link: string, headers?: Record<string, string>) {
  const items: any[] = [];
  let next: string | undefined = link;
  let pages = 0;
  for (;;) {
    const res = await t.graph(next, { headers });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    pages++;
    items.push(...res.body.value);
    if (res.body['@odata.deltaLink']) return { items, deltaLink: res.body['@odata.deltaLink'] as string, pages };
    next = res.body['@odata.nextLink'];
    assert.ok(next, 'every page has a nextLink or a deltaLink');
  }
}

describe('msal-node against the emulator', () => {
  const authority = () => `${t.emulator.authorityHost}/${t.emulator.tenantId}`;
  const host = () => new URL(t.emulator.authorityHost).host;

  it('gets a token with a client secret that Graph accepts', async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: t.emulator.clientId,
        authority: authority(),
        clientSecret: t.emulator.clientSecret,
        knownAuthorities: [host()],
      },
      system: { networkClient: caNetworkClient(t.emulator.caPem) },
    });
    const result = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    assert.ok(result?.accessToken);
    const res = await t.graph('/v1.0/users?$top=1', { token: result!.accessToken });
    assert.equal(res.status, 200);
  });

  it('gets a token with a certificate', async () => {
    const cert = await generateClientCertificate();
    t.emulator.app.certificates.push({ pem: cert.certPem });
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: t.emulator.clientId,
        authority: authority(),
        knownAuthorities: [host()],
        clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem },
      },
      system: { networkClient: caNetworkClient(t.emulator.caPem) },
    });
    const result = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    assert.equal((await t.graph('/v1.0/groups?$top=1', { token: result!.accessToken })).status, 200);
  });

  it('surfaces a wrong secret as invalid_client 7000215', async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: t.emulator.clientId,
        authority: authority(),
        clientSecret: 'wrong',
        knownAuthorities: [host()],
      },
      system: { networkClient: caNetworkClient(t.emulator.caPem) },
    });
    await assert.rejects(
      app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
      (error: any) => {
        assert.equal(error.errorCode, 'invalid_client');
        assert.equal(Number(error.errorNo), 7000215);
        return true;
      },
    );
  });
});

describe('users delta over HTTPS', () => {
  const select = '$select=displayName,userPrincipalName,accountEnabled,department,jobTitle,manager';

  it('reports every scripted change kind in the next round, and nothing else', async () => {
    const first = await round(`/v1.0/users/delta?${select}`);
    assert.equal(first.items.length, 80);
    assert.ok(first.pages >= 4, 'paged at 25 users per page');
    assert.ok(
      first.items.some((u) => u['manager@delta']),
      'the initial round carries managers',
    );

    const empty = await round(first.deltaLink);
    assert.deepEqual(empty.items, []);
    assert.notEqual(empty.deltaLink, first.deltaLink, 'every round ends with a new deltaLink');

    const tenant = t.emulator.tenant;
    const u = (i: number) => tenant.user(i);
    const created = await control('POST', '/users', {
      userPrincipalName: 'new.hire@contoso.com',
      displayName: 'New Hire',
      department: 'Brand New Department',
      accountEnabled: true,
    });
    await control('PATCH', `/users/${u(10).id}`, { department: 'Legal' });
    await control('PATCH', `/users/${u(11).id}`, { accountEnabled: false });
    await control('PATCH', `/users/${u(12).id}`, { userPrincipalName: 'renamed.person@contoso.com' });
    await control('PATCH', `/users/${u(13).id}`, { officeLocation: 'Not selected 1' }); // unselected: must not surface
    await control('PUT', `/users/${u(14).id}/photo`, { generate: true }); // photos never surface in delta
    await control('PUT', `/users/${u(15).id}/manager`, { managerId: u(1).id });
    const withManager = [...tenant.liveUsers()].find(
      (i) => i > 20 && tenant.managerIndex(i) !== undefined && tenant.directReports(i).length === 0,
    )!;
    const oldManager = u(tenant.managerIndex(withManager)!).id;
    await control('PUT', `/users/${u(withManager).id}/manager`, { managerId: null });
    await control('DELETE', `/users/${u(16).id}`);
    await control('DELETE', `/users/${u(17).id}?permanent=true`);
    await control('DELETE', `/users/${u(18).id}`);
    await control('POST', `/users/${u(18).id}/restore`);

    const next = await round(empty.deltaLink);
    const byId = new Map(next.items.map((item) => [item.id, item]));
    assert.equal(byId.get(created.id).department, 'Brand New Department');
    assert.equal(byId.get(u(10).id).department, 'Legal');
    assert.equal(byId.get(u(10).id).displayName, u(10).displayName, 'changed objects carry all selected properties');
    assert.equal(byId.get(u(11).id).accountEnabled, false);
    assert.equal(byId.get(u(12).id).userPrincipalName, 'renamed.person@contoso.com');
    assert.equal(byId.has(u(13).id), false, 'a change to an unselected property does not surface');
    assert.equal(byId.has(u(14).id), false, 'photo changes are not in users delta');
    assert.deepEqual(byId.get(u(15).id)['manager@delta'], [{ '@odata.type': '#microsoft.graph.user', id: u(1).id }]);
    assert.deepEqual(byId.get(u(withManager).id)['manager@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: oldManager, '@removed': { reason: 'deleted' } },
    ]);
    assert.deepEqual(byId.get(u(16).id)['@removed'], { reason: 'changed' });
    assert.deepEqual(byId.get(u(17).id)['@removed'], { reason: 'deleted' });
    assert.equal(byId.get(u(18).id)['@removed'], undefined, 'restored users come back as normal objects');
    assert.equal(byId.get(u(18).id).userPrincipalName, u(18).userPrincipalName);
  });

  it('answers $deltatoken=latest with no items and a deltaLink, and syncStateNotFound after tokens expire', async () => {
    const latest = await t.graph('/v1.0/users/delta?$deltatoken=latest&$select=displayName');
    assert.deepEqual(latest.body.value, []);
    const link = latest.body['@odata.deltaLink'];
    assert.ok(link);
    await control('POST', '/delta/expire');
    const expired = await t.graph(link);
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error.code, 'syncStateNotFound');
    assert.match(expired.body.error.message, /The sync state generation is not found/);
  });

  it('honours Prefer: return=minimal', async () => {
    const start = (await t.graph('/v1.0/users/delta?$deltatoken=latest&$select=displayName,department,jobTitle')).body[
      '@odata.deltaLink'
    ];
    const target = t.emulator.tenant.user(30);
    await control('PATCH', `/users/${target.id}`, { jobTitle: 'Chief Minimalist' });
    const next = await round(start, { Prefer: 'return=minimal' });
    assert.deepEqual(next.items, [{ id: target.id, jobTitle: 'Chief Minimalist' }]);
  });
});

describe('groups delta over HTTPS', () => {
  it('splits large groups across pages and reports membership changes with members@delta', async () => {
    const first = await round('/v1.0/groups/delta?$select=displayName,groupTypes,mailEnabled,securityEnabled,members');
    const members = new Map<string, Set<string>>();
    for (const g of first.items) {
      const set = members.get(g.id) ?? new Set();
      for (const m of g['members@delta'] ?? []) set.add(m.id);
      members.set(g.id, set);
    }
    const tenant = t.emulator.tenant;
    const g0 = tenant.group(0).id;
    assert.ok(first.items.filter((g) => g.id === g0).length > 1, 'a large group reappears with further slices');
    for (const g of tenant.liveGroups()) {
      assert.deepEqual(
        [...members.get(tenant.group(g).id)!].sort(),
        [...tenant.groupMembers(g)].map((m) => m.ref.id).sort(),
      );
    }

    const group = await control('POST', '/groups', { displayName: 'Delta Testers', kind: 'security' });
    const member = tenant.user(5).id;
    await control('POST', `/groups/${group.id}/members`, { id: member });
    const leaver = [...tenant.groupMembers(1)].find((m) => m.ref.kind === 'user')!.ref.id;
    await control('DELETE', `/groups/${tenant.group(1).id}/members/${leaver}`);
    await control('PATCH', `/groups/${tenant.group(2).id}`, { displayName: 'Renamed Group' });
    const next = await round(first.deltaLink);
    const byId = new Map(next.items.map((g) => [g.id, g]));
    assert.deepEqual(byId.get(group.id)['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: member }]);
    assert.deepEqual(byId.get(tenant.group(1).id)['members@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: leaver, '@removed': { reason: 'deleted' } },
    ]);
    assert.equal(byId.get(tenant.group(2).id).displayName, 'Renamed Group');
    assert.equal(byId.get(tenant.group(2).id)['members@delta'], undefined);

    await control('DELETE', `/groups/${group.id}`);
    const deleted = await round(next.deltaLink);
    assert.deepEqual(
      deleted.items.find((g) => g.id === group.id)['@removed'],
      { reason: 'deleted' },
      'security groups are deleted permanently',
    );
  });
});

describe('usersync emulator command', () => {
  it('prints one JSON line with the connection values and serves Graph', async () => {
    const child = spawn(
      process.execPath,
      ['bin/usersync.js', 'emulator', '--port', '0', '--users', '30', '--seed', 'cli'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const info = JSON.parse(line);
      assert.deepEqual(Object.keys(info), ['authorityHost', 'graphUrl', 'tenantId', 'clientId', 'clientSecret', 'ca']);
      assert.match(info.graphUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(info.ca, /ca\.pem$/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
