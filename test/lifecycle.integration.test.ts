import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { countLeavers, listAppMemberships, listDirectoryUsers, openStore, saveSettings } from '../src/store/index.ts';
import { cliEnv, runCli, runCliWithStdin, startCli } from './support/cli.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// Leavers and the deletion threshold through the command line, on SQLite and PostgreSQL: a wave of deletions is held
// (exit 3) while everything else syncs; held users are listed, approved one by one or all, discarded; a held user who
// comes back drops out of the hold; onLeave remove and ignore; existingUsers skip.

function lifecycleSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  const env = () => cliEnv(emulator, target);
  const cli = (...args: string[]) => runCli(args, env());
  const syncJson = async () => {
    const run = await cli('sync', '--json');
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    return { run, summary };
  };
  const settings = async (document: Record<string, unknown>) => {
    const store = await openStore(target.options());
    try {
      await saveSettings(store.db, 'default', document, 'test');
    } finally {
      await store.close();
    }
  };
  const directory = async () => {
    const store = await openStore(target.options());
    try {
      return new Map((await listDirectoryUsers(store.db, 'default')).map((u) => [u.externalId, u]));
    } finally {
      await store.close();
    }
  };
  const held = async () => {
    const store = await openStore(target.options());
    try {
      return await countLeavers(store.db, 'default', 'held');
    } finally {
      await store.close();
    }
  };
  const id = (i: number) => String(emulator.tenant.user(i).id);

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 60, groups: 4, seed: 'lifecycle' });
    const first = await syncJson();
    assert.equal(first.run.code, 0, first.run.stderr);
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });

  it('a wave of deletions is held (exit 3) while the other changes apply; held lists the leavers', async () => {
    const t = emulator.tenant;
    for (let i = 10; i < 35; i++) t.deleteUser(id(i));
    t.updateUser(id(2), { jobTitle: 'Still Synced' });
    const { run, summary } = await syncJson();
    assert.equal(run.code, 3, run.stderr);
    assert.match(
      run.stderr,
      /^usersync: 25 leavers held, none applied \(25 leavers is more than 10% of the \d+ active users; the deletion threshold is safety\.deletionThreshold in the settings\); everything else was synced\. Review them with `usersync held`, then `usersync approve --all` or `usersync discard --all`\.\n$/,
    );
    assert.equal(summary.status, 'held');
    assert.deepEqual([summary.held.disable, summary.held.remove], [25, 0]);
    assert.equal(summary.users.disabled, 0);
    const list = await directory();
    assert.equal(list.get(id(2))!.jobTitle, 'Still Synced', 'the run applied everything else');
    assert.equal(list.get(id(10))!.status, emulator.tenant.user(10).accountEnabled === false ? 'disabled' : 'active');

    const listed = await cli('held', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout);
    assert.equal(rows.length, 25);
    assert.deepEqual(Object.keys(rows[0]), ['externalId', 'loginAccount', 'name', 'reason', 'since', 'runId']);
    assert.ok(rows.every((r: { reason: string }) => r.reason === 'deleted'));
    const human = await cli('held');
    assert.match(human.stdout, /25 held leavers\. Apply them with `usersync approve --all`/);
  });

  it('a held user who comes back drops out of the hold; the next runs stay held until someone decides', async () => {
    emulator.tenant.restoreUser(id(10));
    const { run, summary } = await syncJson();
    assert.equal(run.code, 3);
    assert.equal(summary.held.disable, 24);
    assert.equal(await held(), 24);
  });

  it('approve applies some or all held leavers; discard drops the rest', async () => {
    const one = await cli('approve', id(11));
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^Approved: 1 leaver applied \(/);
    assert.equal((await directory()).get(id(11))!.status, 'disabled');
    const usage = await cli('approve');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /say which held leavers/);
    const some = await cli('discard', id(12), id(13));
    assert.match(some.stdout, /^Discarded: 2 held leavers dropped/);
    assert.equal(
      (await directory()).get(id(12))!.status === 'disabled',
      emulator.tenant.user(12).accountEnabled === false,
    );
    const rest = await cli('approve', '--all');
    assert.match(rest.stdout, /^Approved: 21 leavers applied/);
    assert.equal(await held(), 0);
    const { run, summary } = await syncJson();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(summary.status, 'succeeded');
    assert.equal((await cli('held')).stdout.trim(), 'No leavers are held.');
  });

  it('onLeave "remove" takes leavers out of the directory; a return brings back the same record', async () => {
    await settings({ lifecycle: { onLeave: 'remove' } });
    emulator.tenant.deleteUser(id(40));
    emulator.tenant.deleteUser(id(41));
    const { summary } = await syncJson();
    // New settings are applied to every user: the two leavers discarded above are decided afresh, and removed too.
    assert.equal(summary.users.removed, 4);
    const list = await directory();
    assert.equal(list.has(id(40)), false);
    emulator.tenant.restoreUser(id(40));
    const back = await syncJson();
    assert.equal(back.summary.users.created, 1);
    assert.equal((await directory()).get(id(40))!.externalId, id(40));
  });

  it('onLeave "ignore" leaves leavers as they are', async () => {
    await settings({ lifecycle: { onLeave: 'ignore' } });
    const before = (await directory()).get(id(45))!;
    emulator.tenant.deleteUser(id(45));
    const { run, summary } = await syncJson();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(summary.users.disabled + summary.users.removed, 0);
    assert.deepEqual((await directory()).get(id(45)), before);
  });

  it('existingUsers "skip" creates new users and never overwrites the fields of existing ones', async () => {
    await settings({ lifecycle: { existingUsers: 'skip' } });
    const t = emulator.tenant;
    const jobTitle = (await directory()).get(id(3))!.jobTitle;
    t.updateUser(id(3), { jobTitle: 'Overwritten?' });
    const hire = t.createUser({ userPrincipalName: 'skip.hire@contoso.com', displayName: 'Skip Hire' });
    const { summary } = await syncJson();
    assert.equal(summary.users.created, 1);
    const list = await directory();
    assert.equal(list.get(id(3))!.jobTitle, jobTitle);
    assert.equal(list.get(String(hire.id))!.name, 'Skip Hire');
  });

  it('a scope change that would drop most users is held; a dry run says so without holding anything', async () => {
    const team = emulator.tenant.createGroup({ displayName: 'Tiny Scope', kind: 'security' });
    emulator.tenant.addMember(team.id, id(1));
    await settings({ scope: { groups: [team.id] } });
    const dry = await cli('sync', '--dry-run', '--json');
    assert.equal(dry.code, 3);
    assert.match(dry.stderr, /leavers would be held/);
    assert.equal(await held(), 0);
    const { run, summary } = await syncJson();
    assert.equal(run.code, 3, run.stderr);
    assert.ok(summary.held.disable > 30);
    assert.equal(summary.users.disabled, 0);
    const reasons = JSON.parse((await cli('held', '--json')).stdout).map((r: { reason: string }) => r.reason);
    assert.ok(reasons.every((r: string) => r === 'out_of_scope'));
    await cli('discard', '--all');
    await settings({});
  });

  it('the audit trail and the run history say what happened and who decided; a dry run prints each change', async () => {
    const upn = String(emulator.tenant.user(11).userPrincipalName);
    const audit = await cli('audit', upn, '--json');
    assert.equal(audit.code, 0, audit.stderr);
    const entries = JSON.parse(audit.stdout);
    assert.equal(entries[0].action, 'created');
    assert.equal(entries[0].actor, 'sync');
    assert.ok(entries.some((e: { action: string }) => e.action === 'held'));
    const decided = entries[entries.length - 1];
    assert.match(decided.actor, /\(command line\)$/);
    assert.equal(decided.runId, null);
    assert.ok(
      entries.some((e: { changes: { field: string; to: unknown }[] }) =>
        e.changes.some((c) => c.field === 'status' && c.to === 'disabled'),
      ) || emulator.tenant.user(11).accountEnabled === false,
    );

    const runs = JSON.parse((await cli('runs', 'list', '--json')).stdout);
    const heldRun = runs.find((r: { status: string }) => r.status === 'held');
    assert.ok(heldRun, 'held runs are in the history');
    const shown = JSON.parse((await cli('runs', 'show', heldRun.id, '--json')).stdout);
    assert.equal(shown.summary.status, 'held');
    assert.ok(shown.changes.some((c: { action: string }) => c.action === 'held'));
    const human = await cli('runs', 'list');
    assert.match(human.stdout, /runs \(users: \+created/);

    emulator.tenant.updateUser(id(4), { jobTitle: 'Dry Run Title' });
    const before = (await directory()).get(id(4))!.jobTitle;
    const dry = await cli('sync', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const line = `would update  user ${emulator.tenant.user(4).userPrincipalName}: jobTitle ${JSON.stringify(before)} → "Dry Run Title"`;
    assert.ok(dry.stdout.includes(line), dry.stdout);
    assert.equal((await directory()).get(id(4))!.jobTitle, before, 'a dry run writes nothing');
  });
}

/** Matching: accounts imported before the first sync are adopted by the Entra users they match, never duplicated. */
function matchingSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  const env = () => cliEnv(emulator, target);
  const user = (i: number) => emulator.tenant.user(i);

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 30, groups: 2, seed: 'matching' });
    const inGroup = emulator.tenant.createGroup({ displayName: 'Members Of Zero', kind: 'security' });
    emulator.tenant.addMember(inGroup.id, String(user(0).id));
    emulator.tenant.createGroup({ displayName: 'Without Zero', kind: 'security' });
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });

  it('import refuses a bad file whole, naming the row and the field', async () => {
    const bad = await runCliWithStdin(
      ['users', 'import', '-'],
      'loginAccount,emial\nann@example.org,ann@example.org\n,nobody@example.org\n',
      env(),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /row 1: unknown field "emial"; did you mean "email"\?/);
    assert.match(bad.stderr, /row 2: loginAccount is required/);
    assert.match(bad.stderr, /nothing was imported\.\n$/);
  });

  it('a sync adopts a unique match by login or by mail, refuses an ambiguous one, and leaves the rest alone', async () => {
    const mail = (i: number) => String(user(i).mail);
    // Two users with a mail address (not every user has one), besides user 0, matched by login.
    const [one, two] = Array.from({ length: 30 }, (_, i) => i).filter((i) => i > 0 && user(i).mail);
    const csv = [
      'loginAccount,email,jobTitle,groups',
      `${String(user(0).userPrincipalName).toUpperCase()},,Imported,Without Zero;Members Of Zero;Custom App Group`,
      `legacy.one@example.org,${mail(one)},Imported,`,
      `twin.a@example.org,${mail(two)},,`,
      `twin.b@example.org,${mail(two)},,`,
      'not.in.entra@example.org,someone@example.org,Contractor,Without Zero',
    ].join('\n');
    const imported = await runCliWithStdin(['users', 'import', '-'], csv, env());
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^Imported 5 accounts that did not come from Entra/);

    const run = await runCli(['sync', '--json'], env());
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.equal(summary.users.errors, 1);
    assert.equal(summary.errors[0].field, 'matching');
    assert.match(summary.errors[0].message, /mail matches 2 existing accounts by email/);
    assert.equal(summary.users.updated + summary.users.disabled, 2, `two adopted: ${JSON.stringify(summary.users)}`);
    const list = JSON.parse((await runCli(['users', 'list', '--json'], env())).stdout) as {
      externalId: string;
      loginAccount: string;
      status: string;
    }[];
    const byId = new Map(list.map((u) => [u.externalId, u]));
    assert.equal(byId.get(String(user(0).id))!.loginAccount, user(0).userPrincipalName);
    assert.equal(byId.get(String(user(one).id))!.loginAccount, user(one).userPrincipalName, 'the Entra values win');
    assert.equal(byId.has(String(user(two).id)), false, 'an ambiguous match creates nothing');
    assert.ok(byId.has('local:not.in.entra@example.org'));
    assert.ok(byId.has('local:twin.a@example.org') && byId.has('local:twin.b@example.org'));
    assert.equal(byId.has('local:legacy.one@example.org'), false, 'adopted: no duplicate');
    assert.equal(list.length, 30 - 1 + 3);
    const audit = JSON.parse((await runCli(['audit', String(user(one).id), '--json'], env())).stdout);
    assert.deepEqual(audit[0].changes, [
      { field: 'externalId', from: 'local:legacy.one@example.org', to: user(one).id },
    ]);
  });

  it('removeUnmanagedMemberships removes app memberships of synced groups that Entra does not have; a dry run lists them', async () => {
    const memberships = async () => {
      const store = await openStore(target.options());
      try {
        return (await listAppMemberships(store.db, 'default')).map((m) => `${m.appGroup}/${m.memberId}`).sort();
      } finally {
        await store.close();
      }
    };
    const zero = String(user(0).id);
    // Adopted with the account: the memberships follow it to its Entra id.
    assert.deepEqual(await memberships(), [
      `Custom App Group/${zero}`,
      `Members Of Zero/${zero}`,
      `Without Zero/${zero}`,
      'Without Zero/local:not.in.entra@example.org',
    ]);
    const store = await openStore(target.options());
    try {
      await saveSettings(store.db, 'default', { lifecycle: { removeUnmanagedMemberships: true } }, 'test');
    } finally {
      await store.close();
    }
    const dry = await runCli(['sync', '--dry-run'], env());
    assert.match(dry.stdout, new RegExp(`would remove  membership ${zero}: appGroup "Without Zero" → —`));
    assert.equal((await memberships()).length, 4, 'a dry run removes nothing');
    const run = await runCli(['sync', '--json'], env());
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.equal(summary.memberships.removed, 2);
    // Entra's own membership stays, and so does the app group Entra does not feed.
    assert.deepEqual(await memberships(), [`Custom App Group/${zero}`, `Members Of Zero/${zero}`]);
  });
}

/** An approval killed half-way (SIGKILL) leaves the rest held; approving again finishes it, each leaver applied once. */
function approvalCrashSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  const env = () => cliEnv(emulator, target);
  const heldCount = async () => {
    const store = await openStore(target.options());
    try {
      return await countLeavers(store.db, 'default', 'held');
    } finally {
      await store.close();
    }
  };

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 3200, groups: 4, seed: 'approval-crash' });
    assert.equal((await runCli(['sync'], env())).code, 0);
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });

  it('SIGKILL during approve: nothing is half-applied, and a second approve finishes the job', async () => {
    const gone = [...emulator.tenant.liveUsers()].slice(0, 3000).map((i) => String(emulator.tenant.user(i).id));
    for (const id of gone) emulator.tenant.deleteUser(id);
    assert.equal((await runCli(['sync'], env())).code, 3);
    assert.equal(await heldCount(), 3000);

    const approve = startCli(['approve', '--all'], env());
    // Kill it as soon as its first page (1,000 leavers, one transaction) has committed.
    for (;;) {
      const held = await heldCount();
      if (held < 3000 || (await Promise.race([approve.result.then(() => true), Promise.resolve(false)]))) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    approve.child.kill('SIGKILL');
    await approve.result;
    const left = await heldCount();
    assert.ok(left % 1000 === 0 && left < 3000, `whole pages only: ${left} left`);

    const again = await runCli(['approve', '--all'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^Approved: ${left} leavers applied`));
    assert.equal(await heldCount(), 0);
    const list = JSON.parse((await runCli(['users', 'list', '--json'], env())).stdout) as {
      externalId: string;
      status: string;
    }[];
    const byId = new Map(list.map((u) => [u.externalId, u.status]));
    assert.ok(
      gone.every((id) => byId.get(id) === 'disabled'),
      'every approved leaver is disabled',
    );
    assert.equal((await runCli(['sync'], env())).code, 0, 'nothing held any more');
  });
}

describe('lifecycle on SQLite', () => lifecycleSuite(sqliteTarget));
describe('lifecycle on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else lifecycleSuite(postgresTarget);
});

describe('matching on SQLite', () => matchingSuite(sqliteTarget));
describe('matching on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else matchingSuite(postgresTarget);
});

describe('approval crash on SQLite', () => approvalCrashSuite(sqliteTarget));
describe('approval crash on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else approvalCrashSuite(postgresTarget);
});
