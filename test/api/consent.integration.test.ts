import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { DEFAULT_ROLES, startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { startServer, waitForRun, type Server } from './support.ts';

// Connecting a tenant by admin consent, end to end and offline: the service hands out the tenant's /adminconsent link
// for its own app registration (USERSYNC_APP_CLIENT_ID), the emulator plays Entra (a consent page for browsers, the
// decision set by the test for programs), and the callback verifies the grant with Graph before recording the tenant.

describe('connecting a tenant by admin consent', () => {
  let emulator: Emulator;
  let target: Target;
  let server: Server;
  let dispatcher: Agent;

  before(async () => {
    target = sqliteTarget();
    await target.setup();
    emulator = await startEmulator({ users: 25, groups: 3, seed: 'consent' });
    dispatcher = new Agent({ connect: { ca: emulator.caPem } });
    const env = emulator.env();
    server = await startServer(emulator, target, {
      USERSYNC_APP_CLIENT_ID: env.AZURE_CLIENT_ID,
      USERSYNC_APP_CLIENT_SECRET: env.AZURE_CLIENT_SECRET,
    });
  });
  after(async () => {
    await server?.stop();
    await dispatcher?.close();
    await emulator?.stop();
    await target?.teardown();
  });

  /** Connect, Entra (the emulator) answers, and the browser lands back on usersync: where it is sent in the end. */
  async function consentRoundTrip(name: string): Promise<URL> {
    const start = await server.request('POST', '/api/v1/connections/consent', { body: { name } });
    assert.equal(start.status, 200, start.text);
    assert.equal(start.body.redirectUri, `${server.url}/api/v1/consent/callback`);
    const entra = await undiciFetch(start.body.url, { dispatcher, redirect: 'manual' });
    assert.equal(entra.status, 302);
    const back = new URL(entra.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, start.body.redirectUri);
    const landed = await fetch(back, { redirect: 'manual' });
    assert.equal(landed.status, 303);
    return new URL(landed.headers.get('location')!);
  }

  it('a browser sees the consent page with Accept and Cancel', async () => {
    const start = await server.request('POST', '/api/v1/connections/consent', { body: { name: 'Page' } });
    const page = await undiciFetch(start.body.url, { dispatcher, headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Permissions requested/);
    assert.match(html, /value="approve">Accept/);
    assert.match(html, /value="decline">Cancel/);
  });

  it('granted: the tenant is recorded, verified with Graph, and syncs with the service app', async () => {
    const landed = await consentRoundTrip('Fabrikam');
    assert.equal(landed.searchParams.get('connected'), 'fabrikam', landed.toString());
    const connection = await server.request('GET', '/api/v1/connections/fabrikam');
    assert.equal(connection.body.tenantId, emulator.tenant.spec.tenantId);
    assert.equal(connection.body.credential.kind, 'consent');
    assert.equal(connection.body.credential.consentedBy, 'token:tests');
    const verified = await server.request('POST', '/api/v1/connections/fabrikam/verify');
    assert.deepEqual(
      verified.body.permissions,
      DEFAULT_ROLES.map((permission) => ({ permission, granted: true })),
    );
    const run = await server.request('POST', '/api/v1/connections/fabrikam/runs', { body: {} });
    const done = await waitForRun(server, run.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    assert.equal(done.summary.users.created, 25);
    // Consent again for the same tenant: the same connection, not a second one.
    const again = await consentRoundTrip('Fabrikam again');
    assert.equal(again.searchParams.get('connected'), 'fabrikam');
    assert.equal((await server.request('GET', '/api/v1/connections')).body.items.length, 1);
    const edit = await server.request('PATCH', '/api/v1/connections/fabrikam', { body: { tenantId: 'contoso.com' } });
    assert.equal(edit.status, 400);
    assert.match(edit.body.detail, /reads its tenant through admin consent/);
  });

  it('declined: nothing is recorded and the console is told why and what to do', async () => {
    emulator.consent.decision = 'decline';
    try {
      const landed = await consentRoundTrip('Declined');
      assert.equal(landed.searchParams.get('consentError'), 'the admin did not grant consent');
      assert.match(landed.searchParams.get('hint')!, /Global Administrator/);
    } finally {
      emulator.consent.decision = 'approve';
    }
    assert.equal((await server.request('GET', '/api/v1/connections/declined')).status, 404);
  });

  it('a forged or replayed answer is refused by its state', async () => {
    const forged = await fetch(
      `${server.url}/api/v1/consent/callback?admin_consent=True&tenant=${emulator.tenant.spec.tenantId}&state=forged`,
      { redirect: 'manual' },
    );
    const to = new URL(forged.headers.get('location')!);
    assert.equal(
      to.searchParams.get('consentError'),
      'this consent answer does not belong to a consent usersync started',
    );
  });

  it('an app registration that lacks a permission is named, with how to grant it', async () => {
    // User.Read.All also reads photos (Graph accepts it for them): only GroupMember.Read.All is missing.
    emulator.consent.roles = ['User.Read.All'];
    try {
      const landed = await consentRoundTrip('Partial');
      assert.equal(
        landed.searchParams.get('consentError'),
        `the app lacks GroupMember.Read.All in tenant ${emulator.tenant.spec.tenantId}`,
      );
      assert.match(
        landed.searchParams.get('hint')!,
        /API permissions → Add → Microsoft Graph → Application permissions/,
      );
      const verified = await server.request('POST', '/api/v1/connections/fabrikam/verify');
      assert.equal(verified.body.ok, false);
      assert.deepEqual(
        verified.body.permissions.filter((p: any) => !p.granted).map((p: any) => p.permission),
        ['GroupMember.Read.All'],
      );
    } finally {
      emulator.consent.roles = [...DEFAULT_ROLES];
    }
  });
});
