import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { startCli } from './support/cli.ts';

// `npm start` (the hidden `usersync demo`): the README's first command must do something real offline — the service
// with a demo connection that syncs on a schedule while the tenant changes, a sign-in link that works, an API token —
// and `demo --tour` walks through syncs, changes and settings on the command line. Both stop cleanly.

describe('npm start (usersync demo)', () => {
  it('starts the service with the demo connection, a working sign-in link and API token, and stops cleanly', async () => {
    const demo = startCli(['demo', '--port', '0'], { ...process.env, USERSYNC_LOG_LEVEL: '' });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      demo.child.stdout!.on('data', (d) => {
        out += d;
        if (/Sync Now succeeded/.test(out)) resolve();
      });
      demo.child.once('exit', (code) => reject(new Error(`the demo exited early (${code}): ${out}`)));
    });
    try {
      assert.match(out, /Sync Now succeeded: users 200 created; groups 10 created \(full/);
      const link = /Sign in +(\S+)/.exec(out)![1];
      const token = /API token +(usy_\S+)/.exec(out)![1];
      const console = /Console +(\S+)/.exec(out)![1];
      const signedIn = await fetch(link, { redirect: 'manual' });
      assert.equal(signedIn.status, 303);
      const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
      const session = await fetch(`${console}api/v1/auth/session`, { headers: { cookie } });
      assert.equal(((await session.json()) as { email: string }).email, 'admin@demo.usersync');
      assert.equal((await fetch(link, { redirect: 'manual' })).status, 401, 'the link works once');
      const users = await fetch(`${console}api/v1/connections/contoso/users?limit=1000`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(((await users.json()) as { items: unknown[] }).items.length, 200);
      const connection = (await (
        await fetch(`${console}api/v1/connections/contoso`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { schedule: { enabled: boolean; every: unknown }; nextRunAt: string };
      assert.deepEqual([connection.schedule.enabled, connection.schedule.every], [true, { value: 1, unit: 'minutes' }]);
      assert.ok(Date.parse(connection.nextRunAt) - Date.now() <= 60_000);
      // Sign in with Microsoft as a user of the demo tenant (the emulator's certificate is the demo's own: not checked here).
      const someone = (
        (await (
          await fetch(`${console}api/v1/connections/contoso/users?limit=1`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { items: { loginAccount: string }[] }
      ).items[0].loginAccount;
      const start = await fetch(`${console}api/v1/auth/microsoft?login_hint=${encodeURIComponent(someone)}`, {
        redirect: 'manual',
      });
      const insecure = new Agent({ connect: { rejectUnauthorized: false } });
      const entra = await undiciFetch(start.headers.get('location')!, { dispatcher: insecure, redirect: 'manual' });
      await insecure.close();
      const back = await fetch(entra.headers.get('location')!, {
        redirect: 'manual',
        headers: { cookie: start.headers.get('set-cookie')!.split(';')[0] },
      });
      assert.equal(back.headers.get('location'), '/');
      assert.ok(back.headers.getSetCookie().some((c) => c.startsWith('usersync_session=')));
    } finally {
      demo.child.kill('SIGTERM');
    }
    const result = await demo.result;
    assert.equal(result.code, 0, result.stderr);
  });

  it('--tour syncs the demo tenant, applies the settings with their hold approved, and stops cleanly on SIGTERM', async () => {
    const demo = startCli(['demo', '--tour'], { ...process.env, USERSYNC_LOG_LEVEL: '' });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      demo.child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('4. Go on from a shell')) resolve();
      });
      demo.child.once('exit', (code) => reject(new Error(`the demo exited early (${code}): ${out}`)));
    });
    demo.child.kill('SIGTERM');
    const result = await demo.result;
    assert.equal(result.code, 0, result.stderr);
    assert.match(out, /1\. First sync: a full read/);
    assert.match(out, /Sync succeeded: full read .*\n {2}users {8}200 created/);
    assert.match(out, /2\. Meanwhile in Entra/);
    assert.match(out, /3\. Settings: only the members of/);
    assert.match(out, /leavers held/);
    assert.match(out, /approved: \d+ leavers disabled/);
    assert.match(out, /i:0#\.f\|membership\|/);
    assert.match(out, /groups now synced: the scope groups/);
  });
});
