import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { UsersyncError } from '../src/core/errors.ts';
import { listDirectoryUsers, saveSettings, type DirectoryUserListing } from '../src/store/index.ts';
import { listSyncedDepartments, listSyncedGroups } from '../src/sync/listing.ts';
import type { SyncOptions } from '../src/sync/run.ts';
import { syncHarness, type SyncHarness } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// Scope and mapping through real runs, on SQLite and PostgreSQL: group scope with nesting, filters and exclusions,
// users entering and leaving scope through delta, a settings change re-applied from the source mirror with no Graph
// request of its own, a widened $select read once, per-user mapping errors that do not stop the run.

function scopeSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  let h: SyncHarness;
  // Photos are swept once a day here, so that a run's Graph requests are the users and groups delta and nothing else.
  const sync = (options: SyncOptions = {}) => h.sync({ photoSweepHours: 24, ...options });
  // These tests are about scope: a generous deletion threshold lets big scope changes apply (holds: lifecycle tests).
  const settings = (document: Record<string, unknown>) =>
    saveSettings(
      h.store.db,
      'default',
      { ...document, safety: { deletionThreshold: { percent: 100, count: 10_000 } } },
      'test',
    );
  const users = async () => new Map((await listDirectoryUsers(h.store.db, 'default')).map((u) => [u.loginAccount, u]));
  const active = (list: Map<string | null, DirectoryUserListing>) =>
    [...list.values()]
      .filter((u) => u.status === 'active')
      .map((u) => u.loginAccount)
      .sort();

  let sales: { id: string };
  let engineering: { id: string };
  let platform: { id: string };
  const upn = (name: string) => `${name}@contoso.com`;
  const hire = (name: string, extra: Record<string, unknown> = {}) =>
    emulator.tenant.createUser({ userPrincipalName: upn(name), displayName: name, department: 'Scope', ...extra });

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 40, groups: 4, seed: 'scope-suite', deltaPageSize: 15 });
    h = await syncHarness(emulator, target);
    const t = emulator.tenant;
    // Sales: ann, bob. Engineering: cid and the nested group Platform (dee, eve). Nobody else is in scope later.
    sales = t.createGroup({ displayName: 'Sales', kind: 'security' });
    engineering = t.createGroup({ displayName: 'Engineering', kind: 'microsoft365' });
    platform = t.createGroup({ displayName: 'Platform', kind: 'security' });
    for (const name of ['ann', 'bob']) t.addMember(sales.id, String(hire(name).id));
    t.addMember(engineering.id, String(hire('cid', { jobTitle: 'Engineer' }).id));
    t.addMember(engineering.id, platform.id);
    for (const name of ['dee', 'eve']) t.addMember(platform.id, String(hire(name, { userType: 'Member' }).id));
    t.addMember(platform.id, String(hire('gus', { userType: 'Guest' }).id));
  });
  after(async () => {
    await h.close();
    await emulator.stop();
    await target.teardown();
  });

  it('with no settings every user is synced, as before', async () => {
    const summary = await sync();
    assert.equal(summary.mode, 'full');
    assert.equal(summary.users.created, 46);
    assert.equal(summary.settings.version, 0);
  });

  it('a settings change applies on the next run from the mirror, with no Graph request beyond the two deltas', async () => {
    await settings({
      scope: { groups: [sales.id, engineering.id], userTypes: ['Member'] },
      mapping: {
        fields: { jobTitle: { source: 'jobTitle', default: 'Staff' } },
        custom: { claims: { expression: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))' } },
      },
      groups: { sync: 'scope', map: { [platform.id]: 'Builders' } },
      departments: { sync: false },
    });
    const activeBefore = active(await users()).length;
    const summary = await sync();
    assert.equal(summary.mode, 'delta');
    assert.equal(summary.settings.reapplied, true);
    assert.equal(summary.settings.reread, null);
    assert.equal(summary.graphRequests, 2, 'the users delta and the groups delta, nothing else');
    const list = await users();
    assert.deepEqual(active(list), ['ann', 'bob', 'cid', 'dee', 'eve'].map(upn), 'nested members count; guests do not');
    assert.equal(summary.users.disabled, activeBefore - 5);
    assert.equal(list.get(upn('ann'))!.jobTitle, 'Staff', 'default for an empty value');
    assert.equal(list.get(upn('cid'))!.jobTitle, 'Engineer');
    assert.deepEqual(list.get(upn('dee'))!.custom, { claims: `i:0#.f|membership|${upn('dee')}` });
    assert.equal(list.get(upn('gus'))!.status, 'disabled');

    const groups = await listSyncedGroups(h.store, 'default');
    assert.deepEqual(
      groups.map((g) => [g.name, g.appGroup, g.members]),
      [
        ['Engineering', 'Engineering', [upn('cid')]],
        ['Platform', 'Builders', [upn('dee'), upn('eve')]],
        ['Sales', 'Sales', [upn('ann'), upn('bob')]],
      ],
    );
    assert.deepEqual(await listSyncedDepartments(h.store, 'default'), []);

    const again = await sync();
    assert.equal(again.settings.reapplied, false, 'applied once');
    assert.deepEqual(again.users, { created: 0, updated: 0, disabled: 0, removed: 0, unchanged: 0, errors: 0 });
  });

  it('users enter and leave scope through group changes read by delta, nested ones too', async () => {
    const t = emulator.tenant;
    const fay = hire('fay');
    t.addMember(platform.id, String(fay.id));
    t.removeMember(sales.id, idOf(upn('bob')));
    const summary = await sync();
    const list = await users();
    assert.deepEqual(active(list), ['ann', 'cid', 'dee', 'eve', 'fay'].map(upn));
    assert.equal(summary.users.created, 1);
    assert.equal(summary.users.disabled, 1);

    // Platform leaves Engineering: its members leave scope (the closure changed), and come back with it.
    t.removeMember(engineering.id, platform.id);
    await sync();
    assert.deepEqual(active(await users()), ['ann', 'cid'].map(upn));
    t.addMember(sales.id, platform.id);
    await sync();
    assert.deepEqual(active(await users()), ['ann', 'cid', 'dee', 'eve', 'fay'].map(upn));
  });

  it('filters and exclusions decide scope too, and a user whose attributes change moves in or out', async () => {
    await settings({
      scope: {
        groups: [sales.id, engineering.id],
        userTypes: ['Member'],
        filters: [[{ attribute: 'department', operator: 'EQUALS', value: 'Scope' }]],
        excludeEmails: ['e*@contoso.com'],
      },
    });
    const summary = await sync();
    assert.equal(summary.graphRequests, 2);
    assert.deepEqual(active(await users()), ['ann', 'cid', 'dee', 'fay'].map(upn));
    emulator.tenant.updateUser(idOf(upn('dee')), { department: 'Contractors' });
    await sync();
    assert.deepEqual(active(await users()), ['ann', 'cid', 'fay'].map(upn));
    emulator.tenant.updateUser(idOf(upn('dee')), { department: 'Scope' });
    await sync();
    assert.deepEqual(active(await users()), ['ann', 'cid', 'dee', 'fay'].map(upn));
  });

  it('settings that read a property not selected before re-read users once, and say why', async () => {
    emulator.tenant.updateUser(idOf(upn('ann')), { employeeType: 'Permanent' });
    await settings({
      scope: { groups: [sales.id, engineering.id], userTypes: ['Member'] },
      mapping: { custom: { kind: { source: 'employeeType' } } },
    });
    const summary = await sync();
    assert.match(summary.settings.reread ?? '', /employeeType/);
    assert.ok(summary.graphRequests > 2);
    assert.deepEqual((await users()).get(upn('ann'))!.custom, { kind: 'Permanent' });
    const next = await sync();
    assert.equal(next.settings.reread, null);
    assert.equal(next.graphRequests, 2);
  });

  it('a mapping that fails for some users skips them, says why, and retries them; failing for most fails the run', async () => {
    await settings({
      scope: { groups: [sales.id, engineering.id], userTypes: ['Member'] },
      mapping: {
        fields: {
          loginAccount: {
            expression:
              'Switch(Coalesce([jobTitle], "-"), [userPrincipalName], "Broken", "", "Twin", "twin@contoso.com")',
          },
        },
      },
    });
    const t = emulator.tenant;
    t.updateUser(idOf(upn('ann')), { jobTitle: 'Broken' });
    t.updateUser(idOf(upn('cid')), { jobTitle: 'Twin' });
    t.updateUser(idOf(upn('dee')), { jobTitle: 'Twin' });
    const summary = await sync();
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.users.errors, 2);
    assert.deepEqual(summary.errors.map((e) => [e.loginAccount, e.field]).sort(), [
      [upn('ann'), 'loginAccount'],
      [upn('dee'), 'loginAccount'],
    ]);
    assert.match(summary.errors.find((e) => e.loginAccount === upn('dee'))!.message, /already the login account/);
    const list = await users();
    assert.equal(list.get('twin@contoso.com')!.externalId, idOf(upn('cid')));
    assert.equal(list.get(upn('ann'))!.status, 'active', 'a failed user keeps their record');

    const retried = await sync();
    assert.equal(retried.users.errors, 2, 'failed users are tried again on the next run');
    t.updateUser(idOf(upn('ann')), { jobTitle: 'Fixed' });
    const fixed = await sync();
    assert.equal(fixed.users.errors, 1);

    await settings({ mapping: { fields: { loginAccount: { constant: '' } } } });
    await assert.rejects(sync(), (error: unknown) => {
      assert.ok(error instanceof UsersyncError);
      assert.equal(error.code, 'mapping_failed');
      assert.match(error.message, /The mapping failed for \d+ of \d+ users/);
      return true;
    });
    await settings({});
    const back = await sync();
    assert.equal(back.users.errors, 0);
    const t2 = emulator.tenant;
    const enabled = [...t2.liveUsers()].filter((i) => t2.user(i).accountEnabled !== false).length;
    assert.equal(active(await users()).length, enabled, 'with the defaults again, every enabled user is active');
  });

  const idOf = (login: string) => {
    const t = emulator.tenant;
    for (const i of t.liveUsers())
      if (String(t.user(i).userPrincipalName).toLowerCase() === login.toLowerCase()) return String(t.user(i).id);
    throw new Error(`no user ${login}`);
  };
}

/**
 * Group-scoped reading: with scope groups set before the first run, only the scope groups' members are read, by id,
 * and later runs follow the tenant's changes with two requests.
 */
function scopedReadSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  let h: SyncHarness;
  const sync = (options: SyncOptions = {}) => h.sync({ photoSweepHours: 24, ...options });
  let team: { id: string };
  let nested: { id: string };
  let later: { id: string };
  const logins = async () =>
    (await listDirectoryUsers(h.store.db, 'default'))
      .filter((u) => u.status === 'active')
      .map((u) => u.loginAccount)
      .sort();
  const upnOf = (i: number) => String(emulator.tenant.user(i).userPrincipalName);
  const idOf = (i: number) => String(emulator.tenant.user(i).id);

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 1500, groups: 6, seed: 'scoped-read', deltaPageSize: 100 });
    h = await syncHarness(emulator, target);
    const t = emulator.tenant;
    team = t.createGroup({ displayName: 'Team', kind: 'security' });
    nested = t.createGroup({ displayName: 'Team Nested', kind: 'microsoft365' });
    later = t.createGroup({ displayName: 'Joins Later', kind: 'security' });
    for (let i = 0; i < 40; i++) t.addMember(team.id, idOf(i));
    for (let i = 40; i < 60; i++) t.addMember(nested.id, idOf(i));
    for (let i = 60; i < 65; i++) t.addMember(later.id, idOf(i));
    t.addMember(team.id, nested.id);
    await saveSettings(h.store.db, 'default', { scope: { groups: [team.id] } }, 'test');
  });
  after(async () => {
    await h.close();
    await emulator.stop();
    await target.teardown();
  });

  it("a test sync before the first run finds the scope groups' members in Graph (the store has no groups yet)", async () => {
    const dry = await sync({ dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.users.created, 60, 'the 40 members of Team and the 20 of the nested group');
    assert.equal(dry.groups.created, 2, 'as the real run: only the scope groups are read, so only they are synced');
    assert.equal((await listDirectoryUsers(h.store.db, 'default')).length, 0, 'a test sync writes nothing');
  });

  it('the first run reads only the scope groups and their members, in a few requests', async () => {
    emulator.requests.reset();
    const summary = await sync();
    assert.equal(summary.mode, 'full');
    assert.equal(summary.users.created, 60);
    const enabled = (i: number) => emulator.tenant.user(i).accountEnabled !== false;
    const expected = Array.from({ length: 60 }, (_, i) => i)
      .filter(enabled)
      .map(upnOf)
      .sort();
    assert.deepEqual(await logins(), expected);
    assert.equal((await listDirectoryUsers(h.store.db, 'default')).length, 60, 'nobody outside the scope is stored');
    // users latest, nested groups, groups latest, the groups $batch, $count, one $batch of users by id, 3 photo $batches
    assert.ok(summary.graphRequests <= 9, `${summary.graphRequests} requests`);
    const paths = emulator.requests.recent().map((e) => e.path);
    assert.ok(
      !paths.some((p) => /\/users\?|\/users\/delta\?\$select/.test(p)),
      `the tenant's users are never listed: ${paths.join(' ')}`,
    );
    const groups = await listSyncedGroups(h.store, 'default');
    assert.deepEqual(groups.map((g) => g.name).sort(), ['Team', 'Team Nested']);
  });

  it('a run without changes costs two requests; changes to members are read, changes to others are not kept', async () => {
    const quiet = await sync();
    assert.equal(quiet.graphRequests, 2);
    assert.equal(quiet.mode, 'delta');
    emulator.tenant.updateUser(idOf(5), { jobTitle: 'Scoped Lead' });
    emulator.tenant.updateUser(idOf(900), { jobTitle: 'Not In Scope' });
    const changed = await sync();
    assert.equal(changed.users.updated, 1);
    const list = await listDirectoryUsers(h.store.db, 'default');
    assert.equal(list.find((u) => u.externalId === idOf(5))!.jobTitle, 'Scoped Lead');
    assert.equal(list.length, 60);
  });

  it('a user joining through a nested group, a leaver, and a group nested later are synced in the next run', async () => {
    const t = emulator.tenant;
    t.addMember(nested.id, idOf(700));
    t.removeMember(team.id, idOf(3));
    const summary = await sync();
    assert.equal(summary.users.created, 1);
    assert.equal(summary.users.disabled, 1);
    assert.ok(summary.graphRequests <= 4, `${summary.graphRequests} requests`);
    let active = await logins();
    assert.ok(active.includes(upnOf(700)));
    assert.ok(!active.includes(upnOf(3)));

    t.addMember(team.id, later.id);
    const grown = await sync();
    assert.equal(grown.users.created, 5);
    active = await logins();
    for (let i = 60; i < 65; i++) assert.ok(active.includes(upnOf(i)), upnOf(i));
  });

  it('without scope groups again, every user and group is read once, and the summary says why', async () => {
    await saveSettings(h.store.db, 'default', {}, 'test');
    const summary = await sync();
    assert.match(summary.settings.reread ?? '', /scope\.groups is no longer set/);
    assert.equal(summary.mode, 'full');
    const enabled = [...emulator.tenant.liveUsers()].filter((i) => emulator.tenant.user(i).accountEnabled !== false);
    assert.equal((await logins()).length, enabled.length);
    assert.equal((await sync()).graphRequests, 2);
  });
}

describe('scope and mapping on SQLite', () => scopeSuite(sqliteTarget));
describe('scope and mapping on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else scopeSuite(postgresTarget);
});

describe('group-scoped reading on SQLite', () => scopedReadSuite(sqliteTarget));
describe('group-scoped reading on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else scopedReadSuite(postgresTarget);
});
