import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { sqliteTarget, type Target } from '../support/targets.ts';
import { startServer, type Server } from './support.ts';

// "Sign in with Microsoft" for admins, offline: msal-node's authorization code flow with PKCE against the emulator's
// /authorize (a sign-in page for browsers; programs sign in as their login_hint) and token endpoint (ID tokens with the
// user's app roles). Only users of the configured tenants with the admin app role get a session.

describe('admins sign in with Microsoft', () => {
  let emulator: Emulator;
  let dispatcher: Agent;
  const servers: Server[] = [];
  const targets: Target[] = [];

  async function server(tenants: string): Promise<Server> {
    const target = sqliteTarget();
    await target.setup();
    targets.push(target);
    const env = emulator.env();
    const s = await startServer(emulator, target, {
      USERSYNC_APP_CLIENT_ID: env.AZURE_CLIENT_ID,
      USERSYNC_APP_CLIENT_SECRET: env.AZURE_CLIENT_SECRET,
      USERSYNC_ADMIN_TENANTS: tenants,
    });
    servers.push(s);
    return s;
  }

  before(async () => {
    emulator = await startEmulator({ users: 10, groups: 1, seed: 'sign-in' });
    dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    for (const t of targets) await t.teardown();
    await dispatcher.close();
    await emulator.stop();
  });

  /** Sign in as `upn`: the service sends the browser to Entra, Entra back to the service; where it lands, and its cookie. */
  async function signInAs(s: Server, upn: string): Promise<{ location: string; session: string | null }> {
    const start = await fetch(`${s.url}/api/v1/auth/microsoft?login_hint=${encodeURIComponent(upn)}`, {
      redirect: 'manual',
    });
    assert.equal(start.status, 302);
    const flowCookie = start.headers.get('set-cookie')!;
    assert.match(flowCookie, /HttpOnly/);
    assert.match(flowCookie, /SameSite=Lax/);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('code_challenge'));
    const entra = await undiciFetch(authorize, { dispatcher, redirect: 'manual' });
    assert.equal(entra.status, 302, await entra.text());
    const back = await fetch(entra.headers.get('location')!, {
      redirect: 'manual',
      headers: { cookie: flowCookie.split(';')[0] },
    });
    assert.equal(back.status, 303);
    const session = back.headers.getSetCookie().find((c) => c.startsWith('usersync_session='));
    return { location: back.headers.get('location')!, session: session ? session.split(';')[0] : null };
  }

  it('an admin with the app role signs in and gets a session; the admin account is made on first sign-in', async () => {
    const s = await server(emulator.tenant.spec.tenantId);
    assert.equal((await s.request('GET', '/api/v1/auth/status', { token: null })).body.microsoft, true);
    const user = emulator.tenant.user(0);
    emulator.appRoleAssignments.set(String(user.id), ['usersync.admin']);
    const { location, session } = await signInAs(s, String(user.userPrincipalName));
    assert.equal(location, '/');
    assert.ok(session);
    const me = await s.request('GET', '/api/v1/auth/session', { cookie: session! });
    assert.equal(me.body.email, String(user.userPrincipalName).toLowerCase());
    const admins = await s.request('GET', '/api/v1/admins');
    assert.deepEqual(
      admins.body.items.map((a: any) => [a.email, a.password]),
      [[String(user.userPrincipalName).toLowerCase(), false]],
    );
    const actions = await s.request('GET', '/api/v1/admin-actions');
    assert.ok(actions.body.items.some((a: any) => a.action === 'admin.signed_in' && a.detail.method === 'microsoft'));
  });

  it('a user without the role is refused, told which role to assign', async () => {
    const s = servers[0];
    const user = emulator.tenant.user(1);
    const { location, session } = await signInAs(s, String(user.userPrincipalName));
    assert.equal(session, null);
    const params = new URL(location, s.url).searchParams;
    assert.equal(
      params.get('signInError'),
      `${String(user.userPrincipalName)} does not have the role usersync.admin in usersync's app`,
    );
    assert.match(params.get('hint')!, /assign the app role usersync\.admin/);
  });

  it('a user of a tenant that is not allowed is refused', async () => {
    const s = await server(`${randomUUID()},${randomUUID()}`);
    const user = emulator.tenant.user(0);
    const { location, session } = await signInAs(s, String(user.userPrincipalName));
    assert.equal(session, null);
    assert.equal(
      new URL(location, s.url).searchParams.get('signInError'),
      `accounts of tenant ${emulator.tenant.spec.tenantId} may not administer usersync`,
    );
  });

  it('a browser gets the sign-in page; a callback without its flow cookie is refused', async () => {
    const s = servers[0];
    const start = await fetch(`${s.url}/api/v1/auth/microsoft`, { redirect: 'manual' });
    const page = await undiciFetch(start.headers.get('location')!, { dispatcher, headers: { accept: 'text/html' } });
    const html = await page.text();
    assert.match(html, /<h1>Sign in<\/h1>/);
    assert.match(html, new RegExp(String(emulator.tenant.user(0).userPrincipalName).replace(/[.]/g, '\\.')));
    const forged = await fetch(`${s.url}/api/v1/auth/microsoft/callback?code=x&state=y`, { redirect: 'manual' });
    assert.equal(
      new URL(forged.headers.get('location')!, s.url).searchParams.get('signInError'),
      'this sign-in was not started here, or its cookie was lost',
    );
  });
});
