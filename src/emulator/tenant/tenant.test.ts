import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTenant } from './tenant.ts';

describe('generated tenant', () => {
  it('is deterministic per seed and different across seeds', () => {
    const a = createTenant({ users: 200, seed: 'alpha' });
    const b = createTenant({ users: 200, seed: 'alpha' });
    const c = createTenant({ users: 200, seed: 'beta' });
    assert.deepEqual(a.user(17), b.user(17));
    assert.notEqual(a.user(17).id, c.user(17).id);
    assert.equal(a.spec.tenantId, b.spec.tenantId);
  });

  it('gives every user a unique id and UPN, found again by either, case-insensitively', () => {
    const t = createTenant({ users: 3000, seed: 7 });
    const ids = new Set<string>();
    const upns = new Set<string>();
    for (const i of t.liveUsers()) {
      const u = t.user(i);
      assert.match(u.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(u.id);
      upns.add(u.userPrincipalName.toLowerCase());
      assert.equal(t.findUser(u.id), i);
      assert.equal(t.findUser(u.id.toUpperCase()), i);
      assert.equal(t.findUser(u.userPrincipalName.toUpperCase()), i);
    }
    assert.equal(ids.size, 3000);
    assert.equal(upns.size, 3000);
    assert.equal(t.findUser('nobody@contoso.com'), undefined);
    assert.equal(t.findUser('00000000-0000-4000-8000-000000000000'), undefined);
  });

  it('has the realistic variety a sync must handle', () => {
    const t = createTenant({ users: 2000, seed: 'variety' });
    const users = [...t.liveUsers()].map((i) => t.user(i));
    const guests = users.filter((u) => u.userType === 'Guest');
    assert.ok(guests.length > 20, 'some guests');
    for (const g of guests) assert.match(g.userPrincipalName, /^[a-z.0-9]+_[a-z.-]+#EXT#@contoso\.onmicrosoft\.com$/);
    assert.ok(
      users.some((u) => u.accountEnabled === false),
      'some disabled accounts',
    );
    assert.ok(
      users.some((u) => u.department === null && u.userType === 'Member'),
      'some members without a department',
    );
    assert.ok(new Set(users.map((u) => u.department)).size > 10, 'many departments');
    assert.ok(
      users.some((u) => (u.proxyAddresses as string[]).some((p) => p.startsWith('SIP:'))),
      'SIP addresses',
    );
    assert.ok(
      users.some((u) => (u.onPremisesExtensionAttributes as Record<string, unknown>).extensionAttribute1 !== null),
    );
    assert.ok(users.every((u) => t.spec.extensionCostCenter in u));
    const withManager = [...t.liveUsers()].filter((i) => t.managerIndex(i) !== undefined);
    assert.ok(withManager.length > 1500 && withManager.length < 2000, 'a manager tree where some have no manager');
    const withPhoto = [...t.liveUsers()].filter((i) => t.photo(i) !== null);
    assert.ok(withPhoto.length > 800 && withPhoto.length < 1600, 'photos for part of the users');
    const photo = t.photo(withPhoto[0])!;
    assert.equal(photo.bytes[0], 0xff);
    assert.equal(photo.bytes[1], 0xd8);
    assert.notDeepEqual(photo.bytes, t.photo(withPhoto[1])!.bytes);
  });

  it('has groups of all four kinds with overlapping and nested memberships', () => {
    const t = createTenant({ users: 1000, groups: 40, seed: 'groups' });
    const kinds = new Set(
      [...t.liveGroups()].map((g) => {
        const group = t.group(g);
        const unified = (group.groupTypes as string[]).includes('Unified');
        return unified ? 'm365' : `${group.mailEnabled}/${group.securityEnabled}`;
      }),
    );
    assert.deepEqual([...kinds].sort(), ['false/true', 'm365', 'true/false', 'true/true']);
    const memberships = [...t.liveUsers()].map((i) => t.userGroups(i).length);
    const total = memberships.reduce((a, b) => a + b, 0);
    assert.ok(total / 1000 > 2 && total / 1000 < 4, `about three memberships per user, got ${total / 1000}`);
    assert.ok(
      memberships.some((n) => n >= 3),
      'overlapping memberships',
    );
    const nested = [...t.liveGroups()].filter((g) => [...t.groupMembers(g)].some((m) => m.ref.kind === 'group'));
    assert.ok(nested.length > 0, 'nested groups');
    const parent = nested[0];
    assert.ok(t.transitiveMembers(parent).length > [...t.groupMembers(parent)].length - 1);
    // membership is consistent in both directions
    for (const g of t.liveGroups())
      for (const { ref } of t.groupMembers(g)) if (ref.kind === 'user') assert.ok(t.userGroups(ref.index).includes(g));
  });

  it('records every scripted change in its log', () => {
    const t = createTenant({ users: 50, groups: 5, seed: 1 });
    const created = t.createUser({ userPrincipalName: 'new.person@contoso.com', displayName: 'New Person' });
    assert.equal(t.findUser('NEW.PERSON@contoso.com'), t.findUser(created.id));
    t.updateUser(created.id, { department: 'Sales' });
    t.updateUser(created.id, { userPrincipalName: 'renamed@contoso.com' });
    assert.equal(t.findUser('new.person@contoso.com'), undefined);
    assert.equal(t.user(t.findUser('renamed@contoso.com')!).id, created.id);
    t.setManager(created.id, t.userIdOf(0));
    const group = t.createGroup({ displayName: 'Pilots', kind: 'security' });
    t.addMember(group.id, created.id);
    assert.throws(() => t.addMember(group.id, created.id), /already exist/);
    t.deleteUser(created.id);
    assert.equal(t.findUser(created.id), undefined);
    assert.deepEqual([...t.groupMembers(t.findGroup(group.id)!)], []);
    t.restoreUser(created.id);
    assert.equal([...t.groupMembers(t.findGroup(group.id)!)].length, 1);
    t.deleteUser(created.id, true);
    assert.throws(() => t.restoreUser(created.id), /does not exist/);
    const ops = t.changesBetween(0, t.seq).map((c) => `${c.kind}:${c.op}`);
    assert.deepEqual(ops, [
      'user:create',
      'user:update',
      'user:update',
      'user:update',
      'group:create',
      'group:members',
      'group:members',
      'user:delete',
      'user:restore',
      'group:members',
      'group:members',
      'user:delete',
    ]);
  });

  it('starts 100,000 users quickly and 1,000,000 without materialising them', () => {
    const started = performance.now();
    const t = createTenant({ users: 100_000, seed: 'speed' });
    assert.ok(performance.now() - started < 2000);
    assert.equal(t.userCount(), 100_000);
    assert.equal(t.groupCount(), 2000);
  });
});

describe('manager links', () => {
  it('finds direct reports through the generated tree and scripted changes, and logs their loss when a manager leaves', () => {
    const t = createTenant({ users: 500, seed: 'reports' });
    for (const m of [0, 1, 7, 42]) {
      const scanned = [...t.liveUsers()].filter((i) => t.managerIndex(i) === m);
      assert.deepEqual(t.directReports(m), scanned);
    }
    const reports = t.directReports(1);
    assert.ok(reports.length > 0);
    t.setManager(t.userIdOf(300), t.userIdOf(1));
    assert.ok(t.directReports(1).includes(300));
    const before = t.seq;
    t.deleteUser(t.userIdOf(1));
    const changes = t.changesBetween(before, t.seq).filter((c) => c.kind === 'user' && c.op === 'update');
    assert.deepEqual(
      changes.map((c) => c.index).sort((a, b) => a - b),
      [...reports, 300].sort((a, b) => a - b),
    );
    for (const r of reports) assert.equal(t.managerIndex(r), undefined);
    t.restoreUser(t.userIdOf(1));
    for (const r of reports) assert.equal(t.managerIndex(r), 1);
  });
});
