import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { SourceDataError } from '../src/core/normalise.ts';
import {
  countLeavers,
  deleteLeavers,
  getSyncState,
  leaversPage,
  listDirectoryUsers,
  listRuns,
} from '../src/store/index.ts';
import { assertDirectoryMatches, syncHarness, type SyncHarness } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// The sync engine against the real emulator, on SQLite and on PostgreSQL: after every run the directory
// must equal the source, whatever changed in between.

function syncSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  let h: SyncHarness;
  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({
      users: 180,
      groups: 14,
      seed: 'sync-suite',
      deltaPageSize: 40,
      deltaMembersPerPage: 25,
    });
    h = await syncHarness(emulator, target);
  });
  after(async () => {
    await h.close();
    await emulator.stop();
    await target.teardown();
  });
  const tenant = () => emulator.tenant;
  const u = (i: number) => tenant().user(i);

  it('first run: a full read that creates every user, group and department', async () => {
    const summary = await h.sync();
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.mode, 'full');
    assert.equal(summary.users.created, 180);
    assert.equal(summary.groups.created, 14);
    assert.ok(summary.departments.created > 10);
    assert.ok(summary.graphRequests > 0);
    await assertDirectoryMatches(h.store, emulator);
  });

  it('second run: incremental, nothing to write', async () => {
    const summary = await h.sync();
    assert.equal(summary.mode, 'delta');
    assert.deepEqual(summary.users, { created: 0, updated: 0, disabled: 0, removed: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(summary.groups, { created: 0, updated: 0, removed: 0 });
  });

  it('carries every change kind through delta', async () => {
    const t = tenant();
    const hire = t.createUser({
      userPrincipalName: 'grace.hopper@contoso.com',
      displayName: 'Grace Hopper',
      department: 'Compilers',
      mail: 'grace.hopper@contoso.com',
      jobTitle: 'Rear Admiral',
    });
    t.setManager(hire.id, u(2).id);
    t.updateUser(u(10).id, { jobTitle: 'Principal Analyst', city: 'Reykjavik' });
    t.updateUser(u(11).id, { accountEnabled: false });
    t.updateUser(u(12).id, { userPrincipalName: 'renamed.twelve@contoso.com' });
    t.updateUser(u(13).id, { department: 'Brand New Department' });
    t.setManager(u(14).id, u(3).id);
    const leaver = [...t.liveUsers()].find(
      (i) => i > 100 && t.directReports(i).length === 0 && t.managerIndex(i) !== undefined,
    )!;
    t.setManager(u(leaver).id, null);
    t.deleteUser(u(20).id);
    t.deleteUser(u(21).id, true);
    t.deleteUser(u(22).id);
    t.restoreUser(u(22).id);
    // A manager leaving: their reports' lineManager becomes null.
    const boss = [...t.liveUsers()].find((i) => i > 0 && t.directReports(i).length > 0)!;
    const reports = t.directReports(boss);
    t.deleteUser(u(boss).id);
    // Groups: create, rename, delete, add and remove members, a guest member.
    const guest = [...t.liveUsers()].find((i) => u(i).userType === 'Guest')!;
    const team = t.createGroup({ displayName: 'Launch Team', kind: 'microsoft365' });
    t.addMember(team.id, hire.id);
    t.addMember(team.id, u(guest).id);
    t.updateGroup(t.group(3).id, { displayName: 'Renamed Three' });
    const leaving = [...t.groupMembers(4)].find((m) => m.ref.kind === 'user')!.ref.id;
    t.removeMember(t.group(4).id, leaving);
    t.deleteGroup(t.group(6).id);
    // Photos: added, changed, removed (not in delta; small directories sweep every run).
    const withPhoto = [...t.liveUsers()].filter((i) => t.photo(i) !== null);
    const without = [...t.liveUsers()].find((i) => t.photo(i) === null)!;
    t.setPhoto(u(without).id, 'generate');
    t.setPhoto(u(withPhoto[0]).id, 'generate');
    t.setPhoto(u(withPhoto[1]).id, null);

    const summary = await h.sync();
    assert.equal(summary.mode, 'delta');
    assert.equal(summary.users.created, 1);
    assert.ok(summary.users.disabled >= 4, `disabled: ${JSON.stringify(summary.users)}`);
    assert.ok(summary.users.updated >= 8, `updated: ${JSON.stringify(summary.users)}`);
    assert.equal(summary.users.removed, 0, 'nobody is ever dropped');
    assert.equal(summary.groups.created, 1);
    assert.equal(summary.groups.removed, 1);
    assert.ok(summary.groups.updated >= 2, 'a rename and a membership change update groups');
    assert.ok(summary.departments.created >= 2);
    await assertDirectoryMatches(h.store, emulator);
    for (const r of reports) assert.equal(t.managerIndex(r), undefined);
  });

  it('survives throttling storms, 503s and connection resets, and still converges', async () => {
    const t = tenant();
    for (let i = 30; i < 60; i++) t.updateUser(u(i).id, { jobTitle: `Storm ${i}` });
    t.addMember(t.group(2).id, u(59).id);
    emulator.faults.reset(); // counts from zero: the run's throttled answers are checked against them
    emulator.faults.update({
      throttleRatio: 0.25,
      throttleRetryAfterSeconds: 0.01,
      unavailableRatio: 0.05,
      unavailableRetryAfterSeconds: 0.01,
      resetRatio: 0.05,
    });
    try {
      emulator.requests.reset();
      const summary = await h.sync();
      assert.ok(summary.users.updated >= 30);
      const injected = emulator.faults.snapshot().injected;
      assert.ok(injected.throttle + injected.unavailable + injected.reset > 0, 'faults were injected');
      // The run record counts the throttled answers (429s and 503s, $batch items included) the run met and retried.
      const [run] = await listRuns(h.store.db, 'default', 1);
      assert.ok(
        run.throttled! > 0 && run.throttled! <= injected.throttle + injected.unavailable,
        `throttled ${run.throttled} of ${injected.throttle + injected.unavailable} injected`,
      );
      assert.ok(
        summary.graphRequests >= emulator.requests.totals.graphRequests - 1,
        'graphRequests counts retries too',
      );
    } finally {
      emulator.faults.reset();
    }
    await assertDirectoryMatches(h.store, emulator);
  });

  it('falls back to a full read when the delta token has expired, and says so', async () => {
    const t = tenant();
    t.updateUser(u(70).id, { department: 'After Expiry' });
    t.deleteUser(u(71).id, true); // the full read never sees this user again: reconciliation must disable them
    emulator.faults.expireDeltaTokens();
    const summary = await h.sync();
    assert.equal(summary.fellBackToFull, true);
    assert.equal(summary.mode, 'full');
    assert.equal(summary.users.disabled, 1);
    await assertDirectoryMatches(h.store, emulator);
    const next = await h.sync();
    assert.equal(next.fellBackToFull, false);
    assert.equal(next.mode, 'delta');
  });

  it('--full re-reads everything and disables what the source no longer has', async () => {
    const summary = await h.sync({ full: true });
    assert.equal(summary.mode, 'full');
    assert.equal(summary.users.created, 0);
    assert.ok(summary.users.unchanged > 150);
    await assertDirectoryMatches(h.store, emulator);
  });

  it('--dry-run reports the plan, writes nothing and advances no delta link', async () => {
    const t = tenant();
    t.updateUser(u(80).id, { jobTitle: 'Dry Runner' });
    t.createUser({ userPrincipalName: 'dry.new@contoso.com', displayName: 'Dry New', department: 'Dry Department' });
    const leaverWithPhoto = [...t.liveUsers()].find((i) => i > 100 && t.photo(i) !== null)!;
    t.deleteUser(u(leaverWithPhoto).id);
    t.addMember(t.group(5).id, u(81).id);
    const stateBefore = await getSyncState(h.store.db, 'default');
    const dry = await h.sync({ dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.runId, null);
    assert.equal(dry.users.created, 1);
    assert.ok(dry.users.updated >= 1);
    assert.equal(dry.departments.created, 1);
    const stateAfter = await getSyncState(h.store.db, 'default');
    assert.equal(stateAfter.users_delta_link, stateBefore.users_delta_link);
    const real = await h.sync();
    assert.deepEqual(
      { ...real.users, unchanged: 0 },
      { ...dry.users, unchanged: 0 },
      'the real run does what the dry run said',
    );
    assert.deepEqual(real.groups, dry.groups);
    assert.equal(dry.users.disabled, 1);
    assert.equal(real.departments.created, dry.departments.created);
    await assertDirectoryMatches(h.store, emulator);
  });

  it('a full dry run counts the users a full run would disable', async () => {
    const t = tenant();
    t.deleteUser(u(90).id, true);
    const dry = await h.sync({ full: true, dryRun: true });
    assert.equal(dry.mode, 'full');
    assert.equal(dry.users.disabled, 1);
  });

  it('refuses a malformed Graph object with its id and field, writing nothing from its page', async () => {
    const t = tenant();
    await h.sync();
    const stateBefore = await getSyncState(h.store.db, 'default');
    const listBefore = await listDirectoryUsers(h.store.db, 'default');
    t.updateUser(u(40).id, { jobTitle: 'Fine change' });
    t.updateUser(u(41).id, { userPrincipalName: 42 as unknown as string });
    await assert.rejects(
      h.sync(),
      (e: Error) => e instanceof SourceDataError && e.message.includes(u(41).id) && /userPrincipalName/.test(e.message),
    );
    assert.deepEqual(await listDirectoryUsers(h.store.db, 'default'), listBefore, 'nothing from the page was written');
    // The run record keeps the failure in the one error shape: code, and the object and field at fault.
    const [failed] = await listRuns(h.store.db, 'default', 1);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure?.code, 'invalid_graph_response');
    assert.deepEqual(failed.failure?.context, {
      object: u(41).id,
      field: 'userPrincipalName',
      connectionId: 'default',
    });
    assert.equal(
      (await getSyncState(h.store.db, 'default')).users_delta_link,
      stateBefore.users_delta_link,
      'the delta link did not move',
    );
    t.updateUser(u(41).id, { userPrincipalName: 'fixed.fortyone@contoso.com' });
    const summary = await h.sync();
    assert.ok(summary.users.updated >= 2);
    await assertDirectoryMatches(h.store, emulator);
  });

  it('a full read during a source outage holds every leaver instead of disabling anyone, and recovers after it', async () => {
    await h.sync(); // settle what earlier tests left
    const before = await listDirectoryUsers(h.store.db, 'default');
    const active = before.filter((u) => u.status === 'active').length;
    emulator.faults.update({ noUsersUntil: Date.now() + 60_000 });
    try {
      const full = await h.sync({ full: true });
      assert.equal(full.status, 'held');
      assert.equal(full.users.disabled, 0);
      assert.ok(full.held!.disable >= active, `${full.held!.disable} held`);
      assert.match(full.held!.reason, /more than|looks empty/);
      emulator.faults.expireDeltaTokens(); // the automatic fallback to a full read is held back too
      const fallback = await h.sync();
      assert.equal(fallback.status, 'held');
      assert.equal(fallback.fellBackToFull, true);
      assert.equal(fallback.users.disabled, 0);
    } finally {
      emulator.faults.reset();
    }
    assert.deepEqual(await listDirectoryUsers(h.store.db, 'default'), before, 'nothing was disabled');
    assert.ok((await countLeavers(h.store.db, 'default', 'held')) >= active);
    // The administrator drops the hold; a full read decides afresh and finds everyone.
    await deleteLeavers(
      h.store.db,
      'default',
      (await leaversPage(h.store.db, 'default', 'held', '', 100_000)).map((l) => l.externalId),
    );
    const after = await h.sync({ full: true });
    assert.equal(after.status, 'succeeded');
    assert.equal(after.users.disabled, 0);
    await assertDirectoryMatches(h.store, emulator);
  });
}

describe('sync on SQLite', () => syncSuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('sync on PostgreSQL', { skip: pgSkip }, () => syncSuite(postgresTarget));
