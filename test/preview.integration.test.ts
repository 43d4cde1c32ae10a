import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { cliEnv, runCli, runCliWithStdin } from './support/cli.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// `usersync preview` (provision on demand) against the emulator on both stores: the scope decision with its reason,
// the record the settings produce, its difference from the stored one, a few Graph requests, and nothing written.

function previewSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 60, groups: 10, seed: 'preview' });
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
  });
  const env = () => cliEnv(emulator, target);
  const preview = async (user: string) => {
    const run = await runCli(['preview', user, '--json'], env());
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
  };

  it('before any sync: the record a first sync would create, from one Graph request', async () => {
    const user = emulator.tenant.user(4);
    const p = await preview(user.userPrincipalName as string);
    assert.equal(p.inScope, true);
    assert.equal(p.stored, null);
    assert.equal(p.record.externalId, user.id);
    assert.equal(p.record.loginAccount, user.userPrincipalName);
    assert.equal(p.record.department, user.department ?? null);
    assert.equal(p.graphRequests, 1);
  });

  it('after a sync, with settings: the changes they would make, the reason a user is out of scope, nothing written', async () => {
    const sync = await runCli(['sync', '--json'], env());
    assert.equal(sync.code, 0, sync.stderr);
    const t = emulator.tenant;
    const inside = [...t.liveUsers()].map((i) => t.user(i)).find((u) => u.department && u.jobTitle)!;
    const outside = [...t.liveUsers()]
      .map((i) => t.user(i))
      .find((u) => u.department && u.department !== inside.department)!;
    const settings = {
      scope: { filters: [[{ attribute: 'department', operator: 'EQUALS', value: inside.department }]] },
      mapping: {
        fields: { jobTitle: { expression: 'ToUpper([jobTitle])' } },
        custom: { claims: { expression: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))' } },
      },
    };
    const set = await runCliWithStdin(['config', 'set', '-'], JSON.stringify(settings), env());
    assert.equal(set.code, 0, set.stderr);
    const listBefore = (await runCli(['users', 'list', '--json'], env())).stdout;

    const p = await preview(inside.id as string);
    assert.equal(p.inScope, true);
    assert.equal(p.stored.jobTitle, inside.jobTitle);
    assert.equal(p.record.lineManager, p.stored.lineManager, 'lineManager as users list computes it');
    assert.equal(p.record.photo, p.stored.photo);
    assert.deepEqual(p.changes, [
      { field: 'jobTitle', from: inside.jobTitle, to: String(inside.jobTitle).toUpperCase() },
      { field: 'custom.claims', from: null, to: `i:0#.f|membership|${String(inside.userPrincipalName).toLowerCase()}` },
    ]);

    const q = await preview(outside.userPrincipalName as string);
    assert.equal(q.inScope, false);
    assert.equal(
      q.reason,
      `filter 1, clause 1 (department EQUALS ${JSON.stringify(inside.department)}): department is ${JSON.stringify(outside.department)}`,
    );
    assert.equal(q.record.status, 'disabled', 'a user out of scope would be disabled');

    const human = await runCli(['preview', outside.userPrincipalName as string], env());
    assert.match(human.stdout, /is out of scope: filter 1, clause 1/);
    assert.match(human.stdout, /Graph request; nothing was written\.\n$/);
    assert.equal((await runCli(['users', 'list', '--json'], env())).stdout, listBefore, 'preview writes nothing');
  });

  it("with scope groups it reads the user's groups too, and says when the user is in none", async () => {
    const t = emulator.tenant;
    const group = t.group(2);
    const member = [...t.groupMembers(2)].find((m) => m.ref.kind === 'user')!.ref.id;
    const stranger = [...t.liveUsers()]
      .map((i) => t.user(i))
      .find((u) => !t.userGroups(t.userIndex(u.id as string)!).includes(2))!;
    const set = await runCliWithStdin(['config', 'set', '-'], JSON.stringify({ scope: { groups: [group.id] } }), env());
    assert.equal(set.code, 0, set.stderr);
    const inGroup = await preview(member);
    assert.equal(inGroup.inScope, true);
    assert.equal(inGroup.graphRequests, 2, 'the user and their groups');
    const out = await preview(stranger.id as string);
    assert.equal(out.inScope, false);
    assert.equal(out.reason, 'not a member of any scope group');
  });

  it('an unknown user is one line naming it, exit 1', async () => {
    const run = await runCli(['preview', 'nobody@contoso.com'], env());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^usersync: Graph found nothing at \/users\/nobody@contoso\.com \(404/);
  });
}

describe('usersync preview on SQLite', () => previewSuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('usersync preview on PostgreSQL', { skip: pgSkip }, () => previewSuite(postgresTarget));
