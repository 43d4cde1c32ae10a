import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { generateClientCertificate } from '../../src/emulator/tls.ts';
import { keyFiles } from '../../src/secrets/box.ts';
import { runCli } from '../support/cli.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from '../support/targets.ts';
import { connectionBody, createAdmin, signIn, startServer, waitForRun, type Reply, type Server } from './support.ts';

// The service from the outside, as the console and an application use it: a real `usersync serve` over HTTP, a real
// emulator, a real store (SQLite here; the PostgreSQL suite below repeats the run lifecycle). Every response is kept, so
// the last test can check that no secret ever left the server, in a response or a log line.

function serviceSuite(name: string, makeTarget: () => Target, options: { full: boolean }) {
  describe(`the service on ${name}`, () => {
    let emulator: Emulator;
    let target: Target;
    let server: Server;
    const replies: Reply[] = [];
    const api = async (...args: Parameters<Server['request']>) => {
      const reply = await server.request(...args);
      replies.push(reply);
      return reply;
    };
    let conn: string;

    before(async () => {
      target = makeTarget();
      await target.setup();
      emulator = await startEmulator({ users: 60, groups: 6, seed: 'service' });
      server = await startServer(emulator, target);
    });
    after(async () => {
      await server?.stop();
      await emulator?.stop();
      await target?.teardown();
    });

    it('health needs no sign-in; the first start says how to create an admin and never sets a password', async () => {
      assert.equal((await api('GET', '/healthz', { token: null })).status, 200);
      assert.equal((await api('GET', '/readyz', { token: null })).status, 200);
      assert.match(
        server.output(),
        /no admin account yet\. Create the first one in the browser \(the link works once, for 24 hours\):\n {2}http:\/\/[^/]+\/\?setup=usc_[\w-]+\nor on this machine:\n {2}usersync admin create --email/,
      );
      const status = await api('GET', '/api/v1/auth/status', { token: null });
      assert.deepEqual(status.body, {
        admins: false,
        firstAdmin:
          'open the setup link `usersync serve` printed, or create the first admin on the server: usersync admin create --email YOU@EXAMPLE.COM',
        microsoft: false,
      });
    });

    it('every /api/v1 route answers 401 problem+json without a token or session, and with a wrong token', async () => {
      const doc = (await api('GET', '/api/openapi.json', { token: null })).body;
      let checked = 0;
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
        if (path.startsWith('/api/v1/auth/')) continue;
        const concrete = path.replace(/\{[^}]+\}/g, 'x');
        for (const method of Object.keys(methods)) {
          for (const token of [null, 'usy_not-a-token']) {
            const reply = await api(method.toUpperCase(), concrete, { token, body: method === 'get' ? undefined : {} });
            assert.equal(reply.status, 401, `${method} ${path}`);
            assert.equal(reply.headers.get('content-type'), 'application/problem+json');
            assert.equal(reply.body.code, 'unauthorized');
            assert.match(reply.body.hint, /usersync token create/);
            checked++;
          }
        }
      }
      assert.ok(checked >= 60, `checked ${checked}`);
    });

    it('the OpenAPI document is valid OpenAPI 3.1, with the settings JSON Schema and an interactive reference', async () => {
      const doc = (await api('GET', '/api/openapi.json', { token: null })).body;
      assert.equal(doc.openapi, '3.1.0');
      const result = await new Validator().validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      assert.ok(doc.components.schemas.Settings.properties.scope, 'the Settings component is the settings schema');
      for (const path of ['/api/v1/connections', '/api/v1/runs/{runId}', '/api/v1/connections/{id}/events'])
        assert.ok(doc.paths[path], path);
      const page = await api('GET', '/api/docs', { token: null });
      assert.equal(page.status, 200);
      assert.match(page.text, /swagger-ui-bundle\.js/);
      assert.equal((await api('GET', '/api/docs/assets/swagger-ui-bundle.js', { token: null })).status, 200);
    });

    it('admins sign in with a password: wrong ones are refused and rate limited; the session needs its CSRF token to write', async () => {
      await createAdmin(server);
      const wrong = await api('POST', '/api/v1/auth/sign-in', {
        token: null,
        body: { email: 'admin@example.com', password: 'not the password' },
        headers: { 'x-forwarded-for': 'ignored' },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.detail, 'the email or password is wrong');
      const session = await signIn(server);
      const cookieHeader = (
        await api('POST', '/api/v1/auth/sign-in', {
          token: null,
          body: { email: 'ADMIN@example.com', password: 'correct horse battery staple' },
        })
      ).headers.get('set-cookie')!;
      assert.match(cookieHeader, /HttpOnly/);
      assert.match(cookieHeader, /SameSite=Strict/);
      const me = await api('GET', '/api/v1/auth/session', { cookie: session.cookie });
      assert.equal(me.body.email, 'admin@example.com');
      assert.equal(me.body.csrfToken, session.csrf);
      // Reading with the cookie works; writing needs the CSRF token as well.
      assert.equal((await api('GET', '/api/v1/connections', { cookie: session.cookie })).status, 200);
      const noCsrf = await api('POST', '/api/v1/tokens', { cookie: session.cookie, body: { name: 'x' } });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body.code, 'csrf');
      const withCsrf = await api('POST', '/api/v1/tokens', {
        cookie: session.cookie,
        csrf: session.csrf,
        body: { name: 'from the console' },
      });
      assert.equal(withCsrf.status, 201);
      const actions = await api('GET', '/api/v1/admin-actions');
      assert.ok(actions.body.items.some((a: any) => a.action === 'token.created' && a.actor === 'admin@example.com'));
      // Signed out, the cookie is worthless.
      await api('POST', '/api/v1/auth/sign-out', { cookie: session.cookie, csrf: session.csrf });
      assert.equal((await api('GET', '/api/v1/connections', { cookie: session.cookie })).status, 401);
    });

    it('after 5 failed sign-ins an account is locked out for a while (429 with Retry-After in the message)', async () => {
      for (let i = 0; i < 5; i++)
        await api('POST', '/api/v1/auth/sign-in', {
          token: null,
          body: { email: 'ops@example.com', password: `guess ${i}` },
        });
      const locked = await api('POST', '/api/v1/auth/sign-in', {
        token: null,
        body: { email: 'ops@example.com', password: 'guess 6' },
      });
      assert.equal(locked.status, 429);
      assert.match(locked.body.detail, /too many failed sign-ins; try again in \d+ seconds/);
    });

    it('API tokens are shown once, listed without their value, and stop working when revoked', async () => {
      const created = await api('POST', '/api/v1/tokens', { body: { name: 'hr-app' } });
      assert.equal(created.status, 201);
      assert.match(created.body.token, /^usy_/);
      const list = await api('GET', '/api/v1/tokens');
      assert.ok(list.body.items.some((t: any) => t.id === created.body.id));
      assert.ok(!list.text.includes(created.body.token));
      assert.equal((await api('GET', '/api/v1/connections', { token: created.body.token })).status, 200);
      assert.equal((await api('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 204);
      assert.equal((await api('GET', '/api/v1/connections', { token: created.body.token })).status, 401);
      const bad = await api('POST', '/api/v1/tokens', { body: { name: '' } });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.errors, [{ field: 'name', message: 'name must be 1 to 100 characters' }]);
    });

    it('invalid connections are refused naming the field and the fix; a valid one is created without its secret', async () => {
      const body = connectionBody(emulator);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ ...body, tenantId: 'common' }, 'tenantId', /tenantId cannot be common/],
        [{ ...body, clientId: 'my-app' }, 'clientId', /clientId must be a GUID/],
        [{ ...body, clientSecret: undefined }, 'clientSecret', /clientSecret or certificatePem is required/],
        [{ ...body, graphUrl: 'http://graph.example' }, 'graphUrl', /graphUrl must use https:\/\//],
        [{ ...body, certificatePem: 'nope' }, 'clientSecret', /not both/],
        [
          { ...body, clientSecret: undefined, certificatePem: 'nope' },
          'certificatePem',
          /holds no -----BEGIN CERTIFICATE----- block/,
        ],
        [{ ...body, tenant: 'x' }, 'tenant', /unrecognized key|unknown/i],
        [{ ...body, name: 42 }, 'name', /name must be a string/],
      ];
      for (const [input, field, message] of cases) {
        const reply = await api('POST', '/api/v1/connections', { body: input });
        assert.equal(reply.status, 400, JSON.stringify(input));
        assert.equal(reply.body.errors?.[0]?.field, field, reply.text);
        assert.match(reply.body.errors[0].message, message);
      }
      assert.equal((await api('GET', '/api/v1/connections')).body.items.length, 0, 'nothing was created');

      const created = await api('POST', '/api/v1/connections', { body });
      assert.equal(created.status, 201, created.text);
      conn = created.body.id;
      assert.equal(conn, 'contoso');
      assert.equal(created.body.credential.kind, 'secret');
      assert.equal(created.body.nextRunAt, null);
      const again = await api('POST', '/api/v1/connections', { body });
      assert.equal(again.body.id, 'contoso-2', 'a second connection of the same name gets its own id');
      assert.equal((await api('DELETE', `/api/v1/connections/${again.body.id}`)).status, 204);
      assert.equal((await api('GET', `/api/v1/connections/${again.body.id}`)).status, 404);
      const renamed = await api('PATCH', `/api/v1/connections/${conn}`, { body: { name: 'Contoso Ltd' } });
      assert.equal(renamed.body.name, 'Contoso Ltd');
    });

    const secrets: string[] = [];
    it('a certificate connection keeps its thumbprint and expiry, never the key, and syncs with it', async () => {
      const cert = await generateClientCertificate();
      emulator.app.certificates.push({ pem: cert.certPem });
      const keyBody = cert.keyPem.split('\n')[1];
      secrets.push(keyBody);
      const { clientSecret: _, ...body } = connectionBody(emulator, 'Contoso by certificate');
      const created = await api('POST', '/api/v1/connections', {
        body: { ...body, certificatePem: cert.keyPem + cert.certPem },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.credential.kind, 'certificate');
      assert.equal(created.body.credential.thumbprint, cert.thumbprintSha1);
      assert.ok(Date.parse(created.body.credential.expiresAt) > Date.now());
      const run = await api('POST', `/api/v1/connections/${created.body.id}/runs`, { body: {} });
      const done = await waitForRun(server, run.body.id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
      assert.equal((await api('DELETE', `/api/v1/connections/${created.body.id}`)).status, 204);
    });

    it('the secret key file is created with mode 0600 in the data folder', { skip: !options.full }, () => {
      const dataDir = target.options().dataDir!;
      assert.equal(statSync(join(dataDir, 'secret.key')).mode & 0o777, 0o600);
    });

    it('settings round-trip: an invalid document changes nothing and names each path; a valid one is versioned', async () => {
      const bad = await api('PUT', `/api/v1/connections/${conn}/settings`, {
        body: {
          scope: { filters: [[{ attribute: 'department', operator: 'EQUAL', value: 'Sales' }]] },
          mapping: { fields: { nope: { source: 'x' } } },
        },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_settings');
      const fields = bad.body.errors.map((e: any) => e.field);
      assert.ok(fields.includes('scope.filters[0][0].operator'), fields.join());
      assert.match(
        bad.body.errors.find((e: any) => e.field === 'scope.filters[0][0].operator').message,
        /did you mean "EQUALS"/,
      );
      assert.equal((await api('GET', `/api/v1/connections/${conn}/settings`)).body.version, 0);
      const document = { mapping: { custom: { upnLower: { expression: 'ToLower([userPrincipalName])' } } } };
      const saved = await api('PUT', `/api/v1/connections/${conn}/settings`, { body: document });
      assert.equal(saved.status, 200);
      assert.equal(saved.body.version, 1);
      assert.equal(saved.body.changedBy, 'token:tests');
      assert.deepEqual((await api('GET', `/api/v1/connections/${conn}/settings`)).body.document, document);
      assert.equal((await api('GET', `/api/v1/connections/${conn}/settings/history`)).body.items.length, 1);
    });

    let firstRun: any;
    it('Sync Now: 202 with the queued run, then the run record with the summary of sync --json', async () => {
      const queued = await api('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
      assert.equal(queued.status, 202);
      assert.equal(queued.body.status, 'queued');
      assert.equal(queued.body.trigger, 'api');
      firstRun = await waitForRun(server, queued.body.id);
      assert.equal(firstRun.status, 'succeeded', JSON.stringify(firstRun.failure));
      assert.equal(firstRun.connectionId, conn);
      assert.equal(firstRun.summary.mode, 'full');
      assert.equal(firstRun.summary.users.created, 60);
      assert.equal(firstRun.summary.runId, firstRun.id);
      assert.deepEqual(Object.keys(firstRun.summary).slice(0, 9), [
        'status',
        'mode',
        'dryRun',
        'users',
        'groups',
        'departments',
        'graphRequests',
        'durationMs',
        'memberships',
      ]);
      const history = await api('GET', `/api/v1/connections/${conn}/runs`);
      assert.equal(history.body.items[0].id, firstRun.id);
      const connection = await api('GET', `/api/v1/connections/${conn}`);
      assert.equal(connection.body.lastRun.status, 'succeeded');
    });

    it('the command line syncs a connection the service made, with its stored credential (no AZURE_* variables)', async () => {
      const result = await runCli(['sync', '--json', '--connection', conn], server.env);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
      assert.equal(summary.mode, 'delta');
      const runs = await api('GET', `/api/v1/runs?connectionId=${conn}&trigger=cli`);
      assert.equal(runs.body.items[0].id, summary.runId);
    });

    it('the directory reads as users list --json does, a page at a time, with search, photos and the org chart', async () => {
      const cliUsers = JSON.parse(
        (await runCli(['users', 'list', '--json', '--connection', conn], server.env)).stdout,
      ) as any[];
      const paged: any[] = [];
      let cursor: string | null = null;
      do {
        const page: Reply = await api(
          'GET',
          `/api/v1/connections/${conn}/users?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(page.status, 200);
        paged.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.deepEqual(paged, cliUsers);
      assert.equal(paged[0].custom.upnLower, paged[0].loginAccount.toLowerCase());
      const someone = cliUsers.find((u) => u.name && u.photo);
      const found = await api(
        'GET',
        `/api/v1/connections/${conn}/users?search=${encodeURIComponent(someone.name.toUpperCase())}`,
      );
      assert.ok(found.body.items.some((u: any) => u.externalId === someone.externalId));
      const one = await api('GET', `/api/v1/connections/${conn}/users/${someone.externalId}`);
      assert.deepEqual(one.body, someone);
      const photo = await fetch(`${server.url}/api/v1/connections/${conn}/users/${someone.externalId}/photo`, {
        headers: { authorization: `Bearer ${await server.newToken('photo')}` },
      });
      assert.equal(photo.status, 200);
      assert.equal(
        createHash('sha256')
          .update(Buffer.from(await photo.arrayBuffer()))
          .digest('hex'),
        someone.photo,
      );
      const groups = await api('GET', `/api/v1/connections/${conn}/groups`);
      assert.equal(groups.body.items.length, 6);
      const departments = await api('GET', `/api/v1/connections/${conn}/departments`);
      assert.ok(departments.body.items.length > 0);
      const top = await api('GET', `/api/v1/connections/${conn}/org-chart`);
      const boss = top.body.items.find((n: any) => n.reports > 0);
      const reports = await api('GET', `/api/v1/connections/${conn}/org-chart?manager=${boss.user.externalId}`);
      assert.equal(reports.body.items.length, boss.reports);
      assert.ok(reports.body.items.every((n: any) => n.user.lineManager === boss.user.loginAccount));
      const badCursor = await api('GET', `/api/v1/connections/${conn}/users?cursor=nonsense`);
      assert.equal(badCursor.status, 400);
      assert.equal(badCursor.body.errors[0].field, 'cursor');
      const badLimit = await api('GET', `/api/v1/connections/${conn}/users?limit=5000`);
      assert.equal(badLimit.status, 400);
      assert.equal(badLimit.body.errors[0].field, 'limit');
    });

    let cursorAfterFirstRun: string;
    it('the events feed lists every change in order and resumes after a cursor', async () => {
      const all: any[] = [];
      let after: string | null = null;
      for (;;) {
        const page: Reply = await api(
          'GET',
          `/api/v1/connections/${conn}/events?limit=50${after ? `&after=${after}` : ''}`,
        );
        all.push(...page.body.items);
        if (page.body.items.length === 0) break;
        after = page.body.nextCursor;
      }
      const cursors = all.map((e) => Number(e.cursor));
      assert.deepEqual(
        cursors,
        [...cursors].sort((a, b) => a - b),
      );
      assert.equal(all.filter((e) => e.type === 'user.created').length, 60);
      cursorAfterFirstRun = after!;
      // A change in Entra, a run, and the feed after the cursor has exactly the new events.
      const id = String(emulator.tenant.user(3).id);
      emulator.tenant.updateUser(id, { jobTitle: 'Chief Tester' });
      const run = await api('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
      assert.equal((await waitForRun(server, run.body.id)).status, 'succeeded');
      const next = await api('GET', `/api/v1/connections/${conn}/events?after=${cursorAfterFirstRun}`);
      assert.deepEqual(
        next.body.items.map((e: any) => [e.type, e.objectId, e.changes]),
        [
          [
            'user.updated',
            id,
            [
              {
                field: 'jobTitle',
                from: emulator.tenant.user(3).jobTitle === 'Chief Tester' ? next.body.items[0].changes[0].from : null,
                to: 'Chief Tester',
              },
            ],
          ],
        ],
      );
      assert.equal(next.body.items[0].runId, run.body.id);
      const empty = await api('GET', `/api/v1/connections/${conn}/events?after=${next.body.nextCursor}`);
      assert.deepEqual(empty.body, { items: [], nextCursor: next.body.nextCursor });
      const bad = await api('GET', `/api/v1/connections/${conn}/events?after=abc`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errors[0].field, 'after');
    });

    it('a test sync (dryRun) writes nothing and lists the changes it would make', async () => {
      const id = String(emulator.tenant.user(4).id);
      emulator.tenant.updateUser(id, { department: 'Test Department' });
      const run = await api('POST', `/api/v1/connections/${conn}/runs`, { body: { dryRun: true } });
      const done = await waitForRun(server, run.body.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.dryRun, true);
      assert.equal(done.summary.dryRun, true);
      const changes = await api('GET', `/api/v1/runs/${run.body.id}/changes`);
      const change = changes.body.items.find((c: any) => c.id === id);
      assert.ok(change.changes.some((f: any) => f.field === 'department' && f.to === 'Test Department'));
      const stored = await api('GET', `/api/v1/connections/${conn}/users/${id}`);
      assert.notEqual(stored.body.department, 'Test Department', 'a dry run writes nothing');
    });

    it('stop: a running run ends cancelled at a page boundary; the next run completes the directory', async () => {
      emulator.faults.update({ slowRatio: 1, slowMs: 150 });
      try {
        const run = await api('POST', `/api/v1/connections/${conn}/runs`, { body: { full: true } });
        await waitForRun(server, run.body.id, (r) => r.status === 'running' && r.progress !== null);
        const stop = await api('POST', `/api/v1/runs/${run.body.id}/cancel`);
        assert.equal(stop.status, 202);
        assert.equal(stop.body.cancelRequested, true);
        const ended = await waitForRun(server, run.body.id);
        assert.equal(ended.status, 'cancelled');
        assert.equal(ended.failure.code, 'run_cancelled');
        const again = await api('POST', `/api/v1/runs/${run.body.id}/cancel`);
        assert.equal(again.status, 409);
      } finally {
        emulator.faults.update({ slowRatio: 0 });
      }
      const next = await api('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
      assert.equal((await waitForRun(server, next.body.id)).status, 'succeeded');
      const users = (await api('GET', `/api/v1/connections/${conn}/users?limit=1000`)).body.items;
      assert.equal(users.length, 60);
      const filtered = await api('GET', `/api/v1/runs?connectionId=${conn}&status=cancelled`);
      assert.equal(filtered.body.items.length, 1);
    });

    it('schedules: auto sync with a frequency shows the next run; pause and resume; a bad cron names the field', async () => {
      const set = await api('PUT', `/api/v1/connections/${conn}/schedule`, {
        body: { enabled: true, every: { value: 15, unit: 'minutes' }, startAt: '2026-01-01T00:00', timeZone: 'UTC' },
      });
      assert.equal(set.status, 200, set.text);
      const next = new Date(set.body.nextRunAt).getTime();
      assert.ok(next > Date.now() && next <= Date.now() + 15 * 60_000);
      assert.equal(new Date(next).getUTCMinutes() % 15, 0);
      const paused = await api('POST', `/api/v1/connections/${conn}/pause`);
      assert.equal(paused.body.nextRunAt, null);
      assert.equal(paused.body.schedule.paused, true);
      const resumed = await api('POST', `/api/v1/connections/${conn}/resume`);
      assert.equal(resumed.body.nextRunAt, set.body.nextRunAt);
      const bad = await api('PUT', `/api/v1/connections/${conn}/schedule`, {
        body: { enabled: true, cron: 'sometimes' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errors[0].field, 'schedule.cron');
      const badZone = await api('PUT', `/api/v1/connections/${conn}/schedule`, { body: { timeZone: 'Moon/Base' } });
      assert.equal(badZone.body.errors[0].field, 'timeZone');
      await api('PUT', `/api/v1/connections/${conn}/schedule`, { body: { enabled: false } });
    });

    it('held leavers via the API: a mass deletion is held, listed, approved in part and discarded for the rest', async () => {
      await api('PUT', `/api/v1/connections/${conn}/settings`, {
        body: { safety: { deletionThreshold: { count: 5 } } },
      });
      const gone = [10, 11, 12, 13, 14, 15, 16, 17].map((i) => String(emulator.tenant.user(i).id));
      for (const id of gone) emulator.tenant.deleteUser(id);
      const run = await api('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
      const done = await waitForRun(server, run.body.id);
      assert.equal(done.status, 'held');
      assert.equal(done.summary.held.disable, 8);
      const held = await api('GET', `/api/v1/connections/${conn}/held`);
      assert.deepEqual(held.body.items.map((l: any) => l.externalId).sort(), [...gone].sort());
      assert.equal(held.body.items[0].reason, 'deleted');
      // The list of connections says it too, as the one connection does.
      const listed = (await api('GET', '/api/v1/connections')).body.items.find((c: any) => c.id === conn);
      const single = (await api('GET', `/api/v1/connections/${conn}`)).body;
      assert.equal(listed.heldLeavers, 8);
      assert.deepEqual(listed.lastRun, {
        id: run.body.id,
        status: 'held',
        startedAt: done.startedAt,
        finishedAt: done.finishedAt,
      });
      assert.deepEqual([listed.heldLeavers, listed.lastRun], [single.heldLeavers, single.lastRun]);
      const none = await api('POST', `/api/v1/connections/${conn}/held/approve`, { body: {} });
      assert.equal(none.status, 400);
      assert.equal(none.body.errors[0].field, 'ids');
      const approved = await api('POST', `/api/v1/connections/${conn}/held/approve`, {
        body: { ids: gone.slice(0, 3) },
      });
      assert.deepEqual(approved.body, { decided: 3, disabled: 3, removed: 0, kept: 0 });
      const discarded = await api('POST', `/api/v1/connections/${conn}/held/discard`, { body: { all: true } });
      assert.deepEqual(discarded.body, { decided: 5, disabled: 0, removed: 0, kept: 5 });
      const users = new Map(
        (await api('GET', `/api/v1/connections/${conn}/users?limit=1000`)).body.items.map((u: any) => [
          u.externalId,
          u,
        ]),
      );
      assert.equal((users.get(gone[0]) as any).status, 'disabled');
      assert.equal((users.get(gone[5]) as any).status, 'active');
      const audit = await api('GET', `/api/v1/connections/${conn}/users/${gone[0]}/audit`);
      assert.ok(audit.body.items.some((e: any) => e.action === 'held'));
      assert.ok(audit.body.items.some((e: any) => e.action === 'left' && e.actor === 'token:tests'));
      const actions = await api('GET', `/api/v1/admin-actions?connectionId=${conn}`);
      assert.ok(actions.body.items.some((a: any) => a.action === 'held.approved' && a.actor === 'token:tests'));
      assert.ok(actions.body.items.some((a: any) => a.action === 'settings.updated'));
    });

    it('the tools: expression, scope test and preview answer as the CLI does, errors with their position', async () => {
      const value = await api('POST', '/api/v1/expression', {
        body: { expression: 'Join(" ", [givenName], [surname])', input: { givenName: 'Ada', surname: 'Lovelace' } },
      });
      assert.deepEqual(value.body, { value: 'Ada Lovelace' });
      const functions = await api('GET', '/api/v1/expression/functions');
      assert.deepEqual(
        functions.body.items.find((f: any) => f.name === 'Coalesce'),
        { name: 'Coalesce', minArguments: 1, maxArguments: null },
      );
      assert.deepEqual(
        functions.body.items.find((f: any) => f.name === 'ToLower'),
        { name: 'ToLower', minArguments: 1, maxArguments: 2 },
      );
      const broken = await api('POST', '/api/v1/expression', {
        body: { expression: 'Join(" ", [givenName]', input: {} },
      });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.errors[0].field, 'expression');
      assert.match(broken.body.detail, /at character \d+/);
      const scope = await api('POST', '/api/v1/scope-test', {
        body: {
          filters: [[{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }]],
          input: { department: 'Sales' },
        },
      });
      assert.deepEqual(scope.body, { inScope: true, reason: null });
      const badScope = await api('POST', '/api/v1/scope-test', {
        body: { filters: [[{ attribute: 'department', operator: 'EQUAL', value: 'Sales' }]], input: {} },
      });
      assert.equal(badScope.body.errors[0].field, 'filters[0][0].operator');
      const user = emulator.tenant.user(1);
      const preview = await api('POST', `/api/v1/connections/${conn}/preview`, {
        body: {
          user: String(user.userPrincipalName),
          settings: { mapping: { fields: { jobTitle: { constant: 'Previewed' } } } },
        },
      });
      assert.equal(preview.status, 200, preview.text);
      assert.equal(preview.body.record.jobTitle, 'Previewed');
      assert.ok(preview.body.changes.some((c: any) => c.field === 'jobTitle' && c.to === 'Previewed'));
      const live = await api('POST', '/api/v1/expression', {
        body: { expression: 'ToUpper([userPrincipalName])', user: String(user.id), connectionId: conn },
      });
      assert.equal(live.body.value, String(user.userPrincipalName).toUpperCase());
    });

    it(
      'secrets rotate: a new key file, the old one kept, and the running service still syncs',
      { skip: !options.full },
      async () => {
        const files = keyFiles(target.options().dataDir!);
        const before = readFileSync(files.current, 'utf8');
        const rotated = await runCli(['secrets', 'rotate'], server.env);
        assert.equal(rotated.code, 0, rotated.stderr);
        assert.match(
          rotated.stdout,
          /^Re-encrypted 1 connection secret with a new key in .*secret\.key; the old key is kept as .*secret\.key\.previous/,
        );
        assert.notEqual(readFileSync(files.current, 'utf8'), before);
        assert.equal(readFileSync(files.previous, 'utf8'), before);
        assert.equal(statSync(files.current).mode & 0o777, 0o600);
        const run = await api('POST', `/api/v1/connections/${conn}/runs`, { body: {} });
        assert.equal((await waitForRun(server, run.body.id)).status, 'succeeded');
      },
    );

    it('responses match the OpenAPI document', async () => {
      const doc = (await api('GET', '/api/openapi.json', { token: null })).body;
      // Shapes are what is checked here; formats (date-time…) are left to the zod schemas that produced them.
      const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
      ajv.addSchema({ ...doc, $id: 'usersync-openapi' });
      const check = (component: string, body: unknown) => {
        const validate = ajv.compile({ $ref: `usersync-openapi#/components/schemas/${component}` });
        assert.ok(validate(body), `${component}: ${JSON.stringify(validate.errors)}`);
      };
      check('Connection', (await api('GET', `/api/v1/connections/${conn}`)).body);
      check('RunPage', (await api('GET', `/api/v1/connections/${conn}/runs`)).body);
      check('Run', (await api('GET', `/api/v1/runs/${firstRun.id}`)).body);
      check('DirectoryUserPage', (await api('GET', `/api/v1/connections/${conn}/users?limit=5`)).body);
      check('DirectoryGroupPage', (await api('GET', `/api/v1/connections/${conn}/groups`)).body);
      check('EventPage', (await api('GET', `/api/v1/connections/${conn}/events?limit=20`)).body);
      check('SettingsVersion', (await api('GET', `/api/v1/connections/${conn}/settings`)).body);
      check('Settings', (await api('GET', `/api/v1/connections/${conn}/settings`)).body.document);
      check('HeldLeaverPage', (await api('GET', `/api/v1/connections/${conn}/held`)).body);
      check('AdminActionPage', (await api('GET', '/api/v1/admin-actions')).body);
      check('Problem', (await api('GET', '/api/v1/connections/nope')).body);
      check('Problem', (await api('PUT', `/api/v1/connections/${conn}/settings`, { body: { scope: 1 } })).body);
    });

    it('no secret ever appears in a response or a log line', async () => {
      for (const secret of [emulator.env().AZURE_CLIENT_SECRET, ...secrets]) {
        for (const reply of replies) assert.ok(!reply.text.includes(secret), reply.text.slice(0, 200));
        assert.ok(!server.output().includes(secret), 'a secret is in the server log');
      }
      assert.ok(server.output().includes('"runId"'), 'the log has run lines');
    });
  });
}

serviceSuite('SQLite', sqliteTarget, { full: true });

const pgDown = await postgresUnreachable();
describe('the service on PostgreSQL', { skip: pgDown }, () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  before(async () => {
    target = postgresTarget();
    await target.setup();
    emulator = await startEmulator({ users: 30, groups: 3, seed: 'service-pg' });
    server = await startServer(emulator, target, { USERSYNC_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') });
  });
  after(async () => {
    await server?.stop();
    await emulator?.stop();
    await target?.teardown();
  });

  it('connects, runs, pages users and follows events', async () => {
    const created = await server.request('POST', '/api/v1/connections', { body: connectionBody(emulator) });
    assert.equal(created.status, 201, created.text);
    const run = await server.request('POST', `/api/v1/connections/${created.body.id}/runs`, { body: {} });
    const done = await waitForRun(server, run.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    const page = await server.request('GET', `/api/v1/connections/${created.body.id}/users?limit=10`);
    assert.equal(page.body.items.length, 10);
    const rest = await server.request(
      'GET',
      `/api/v1/connections/${created.body.id}/users?limit=100&cursor=${page.body.nextCursor}`,
    );
    assert.equal(rest.body.items.length, 20);
    const events = await server.request('GET', `/api/v1/connections/${created.body.id}/events?limit=1000`);
    assert.equal(events.body.items.filter((e: any) => e.type === 'user.created').length, 30);
  });
});
