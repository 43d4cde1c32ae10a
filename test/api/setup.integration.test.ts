import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { ADMIN_PASSWORD, connectionBody, startServer, waitForRun, type Server } from './support.ts';

// What the console's first run and setup wizard need from the API: the first admin made with the setup code `serve`
// printed; the wizard's draft saved step by step (invalid parts named, nothing applied) and finished; the tenant's
// groups read live for the pickers; a test sync of the draft settings; how often Graph throttled each run.

describe('the first admin and the setup wizard through the API', () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  let conn: string;

  before(async () => {
    target = sqliteTarget();
    await target.setup();
    emulator = await startEmulator({ users: 30, groups: 8, seed: 'setup-api' });
    server = await startServer(emulator, target);
    const created = await server.request('POST', '/api/v1/connections', { body: connectionBody(emulator) });
    assert.equal(created.status, 201, created.text);
    conn = created.body.id;
  });
  after(async () => {
    await server?.stop();
    await emulator?.stop();
    await target?.teardown();
  });

  it('the first admin is made with the printed setup code, once; a bad password does not use the code up', async () => {
    const code = /\?setup=(usc_[\w-]+)/.exec(server.output())![1];
    const post = (body: unknown) => server.request('POST', '/api/v1/auth/first-admin', { token: null, body });
    const wrong = await post({ setupCode: 'usc_nope', email: 'first@example.com', password: ADMIN_PASSWORD });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.body.errors, [{ field: 'setupCode', message: 'the setup code is wrong, used or expired' }]);
    const weak = await post({ setupCode: code, email: 'first@example.com', password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.errors[0].field, 'password');
    const made = await post({ setupCode: code, email: 'First@Example.com', password: ADMIN_PASSWORD });
    assert.equal(made.status, 200, made.text);
    assert.equal(made.body.email, 'first@example.com');
    const cookie = made.headers.get('set-cookie')!.split(';')[0];
    assert.equal((await server.request('GET', '/api/v1/auth/session', { cookie })).status, 200);
    const again = await post({ setupCode: code, email: 'second@example.com', password: ADMIN_PASSWORD });
    assert.equal(again.status, 409);
    assert.equal((await server.request('GET', '/api/v1/auth/status', { token: null })).body.admins, true);
  });

  it("the tenant's groups are read live: by name prefix, by type, and by ids", async () => {
    const all = await server.request('GET', `/api/v1/connections/${conn}/source/groups`);
    assert.equal(all.status, 200, all.text);
    const expected = [...emulator.tenant.liveGroups()]
      .map((g) => String(emulator.tenant.group(g).displayName))
      .sort((a, b) => a.localeCompare(b));
    assert.deepEqual(
      all.body.items.map((g: any) => g.displayName),
      expected,
    );
    const first = all.body.items[0];
    const prefix = first.displayName.slice(0, 4);
    const search = await server.request(
      'GET',
      `/api/v1/connections/${conn}/source/groups?search=${encodeURIComponent(prefix)}`,
    );
    assert.ok(search.body.items.length >= 1);
    assert.ok(search.body.items.every((g: any) => g.displayName.startsWith(prefix)));
    const security = await server.request('GET', `/api/v1/connections/${conn}/source/groups?types=security`);
    assert.deepEqual(
      security.body.items.map((g: any) => g.id),
      all.body.items.filter((g: any) => g.type === 'security').map((g: any) => g.id),
    );
    const bad = await server.request('GET', `/api/v1/connections/${conn}/source/groups?types=teams`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /"teams" is not a group type/);
    const ids = all.body.items.slice(0, 2).map((g: any) => g.id);
    const byId = await server.request('GET', `/api/v1/connections/${conn}/source/groups?ids=${ids.join(',')}`);
    assert.deepEqual(byId.body.items.map((g: any) => g.id).sort(), [...ids].sort());
  });

  it('the wizard draft starts from the current settings, saves step by step, names invalid parts and applies nothing', async () => {
    const fresh = await server.request('GET', `/api/v1/connections/${conn}/setup`);
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.step, 'auto-sync');
    assert.deepEqual(fresh.body.settings, {});
    assert.equal(fresh.body.updatedAt, null);
    const schedule = { ...fresh.body.schedule, enabled: true, every: { value: 6, unit: 'hours' } };
    const bad = await server.request('PUT', `/api/v1/connections/${conn}/setup`, {
      body: { step: 'who', settings: { scope: { groups: ['not-a-guid'], userTypes: [] } }, schedule },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.errors.map((e: any) => e.field),
      ['settings.scope.groups[0]', 'settings.scope.userTypes'],
    );
    const badSchedule = await server.request('PUT', `/api/v1/connections/${conn}/setup`, {
      body: { step: 'schedule', settings: {}, schedule: { ...schedule, timeZone: 'Mars/Base' } },
    });
    assert.equal(badSchedule.status, 400);
    assert.equal(badSchedule.body.errors[0].field, 'schedule.timeZone');
    assert.equal((await server.request('GET', `/api/v1/connections/${conn}/setup`)).body.updatedAt, null);

    const group = emulator.tenant.groupIdOf(0);
    const settings = { scope: { groups: [group] }, groups: { map: { [group]: 'Everyone' } } };
    const saved = await server.request('PUT', `/api/v1/connections/${conn}/setup`, {
      body: { step: 'fields', settings, schedule },
    });
    assert.equal(saved.status, 200, saved.text);
    const resumed = await server.request('GET', `/api/v1/connections/${conn}/setup`);
    assert.equal(resumed.body.step, 'fields');
    assert.deepEqual(resumed.body.settings, settings);
    assert.equal(resumed.body.schedule.every.value, 6);
    assert.equal((await server.request('GET', `/api/v1/connections/${conn}/settings`)).body.version, 0);
    assert.equal((await server.request('GET', `/api/v1/connections/${conn}/schedule`)).body.schedule.enabled, false);
  });

  it('a test sync runs the draft settings without writing; settings without dryRun are refused', async () => {
    const refused = await server.request('POST', `/api/v1/connections/${conn}/runs`, {
      body: { settings: { scope: { userTypes: ['Member'] } } },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0].field, 'settings');
    const invalid = await server.request('POST', `/api/v1/connections/${conn}/runs`, {
      body: { dryRun: true, settings: { mapping: { fields: { jobTitle: { expression: 'Join(' } } } } },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.errors[0].field, 'settings.mapping.fields.jobTitle.expression');

    const draft = { mapping: { fields: { jobTitle: { constant: 'Drafted' } } } };
    const run = await server.request('POST', `/api/v1/connections/${conn}/runs`, {
      body: { dryRun: true, settings: draft },
    });
    assert.equal(run.status, 202, run.text);
    const done = await waitForRun(server, run.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    assert.equal(done.draft, true);
    assert.equal(done.summary.settings.version, -1);
    assert.equal(done.summary.users.created, emulator.tenant.userCount());
    const changes = await server.request('GET', `/api/v1/runs/${run.body.id}/changes?limit=1000`);
    const created = changes.body.items.filter((c: any) => c.action === 'created' && c.object === 'user');
    assert.equal(created.length, emulator.tenant.userCount());
    assert.ok(created.every((c: any) => c.changes.some((f: any) => f.field === 'jobTitle' && f.to === 'Drafted')));
    const users = await server.request('GET', `/api/v1/connections/${conn}/users`);
    assert.equal(users.body.items.length, 0, 'a test sync writes nothing');
  });

  it('finishing the wizard saves the settings as a version and sets the schedule; runs say how often Graph throttled', async () => {
    const done = await server.request('POST', `/api/v1/connections/${conn}/setup/complete`);
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.step, 'done');
    assert.ok(done.body.completedAt);
    const settings = await server.request('GET', `/api/v1/connections/${conn}/settings`);
    assert.equal(settings.body.version, 1);
    assert.deepEqual(Object.keys(settings.body.document).sort(), ['groups', 'scope']);
    const schedule = await server.request('GET', `/api/v1/connections/${conn}/schedule`);
    assert.equal(schedule.body.schedule.enabled, true);
    assert.ok(schedule.body.nextRunAt);
    const actions = await server.request('GET', '/api/v1/admin-actions');
    assert.ok(actions.body.items.some((a: any) => a.action === 'setup.completed' && a.connectionId === conn));

    emulator.faults.update({ throttleRatio: 0.3 });
    try {
      const run = await server.request('POST', `/api/v1/connections/${conn}/runs`, { body: { full: true } });
      const finished = await waitForRun(server, run.body.id, undefined, 120_000);
      assert.equal(finished.status, 'succeeded', JSON.stringify(finished.failure));
      assert.equal(finished.draft, false);
      assert.ok(finished.throttled > 0, `throttled ${finished.throttled}`);
    } finally {
      emulator.faults.update({ throttleRatio: 0 });
    }
  });
});
