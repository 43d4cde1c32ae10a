import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';

// One emulator, many tenants (extraTenants): each has its own tenant id and generated directory, the same app is
// consented in all, and Graph answers with the directory of the tenant the token was issued for.

describe('an emulator serving many tenants', () => {
  let emulator: Emulator;
  let dispatcher: Agent;
  before(async () => {
    emulator = await startEmulator({ users: 30, groups: 2, seed: 'many', extraTenants: 3 });
    dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  });
  after(async () => {
    await dispatcher.close();
    await emulator.stop();
  });

  async function usersOf(tenantId: string): Promise<string[]> {
    const env = emulator.env();
    const token = await undiciFetch(`${emulator.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: env.AZURE_CLIENT_ID,
        client_secret: env.AZURE_CLIENT_SECRET,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    assert.equal(token.status, 200);
    const { access_token } = (await token.json()) as { access_token: string };
    const users = await undiciFetch(`${emulator.graphUrl}/v1.0/users?$select=id&$top=999`, {
      dispatcher,
      headers: { authorization: `Bearer ${access_token}` },
    });
    assert.equal(users.status, 200);
    return ((await users.json()) as { value: { id: string }[] }).value.map((u) => u.id);
  }

  it('serves each tenant its own directory', async () => {
    const ids = new Set<string>();
    for (const t of [emulator.tenant, ...emulator.extraTenants]) {
      const users = await usersOf(t.spec.tenantId);
      assert.equal(users.length, 30);
      assert.equal(users[0], t.user(0).id);
      ids.add(t.spec.tenantId);
      for (const id of users) assert.ok(!ids.has(`user:${id}`), 'a user belongs to one tenant');
      for (const id of users) ids.add(`user:${id}`);
    }
    assert.equal(ids.size, 4 + 4 * 30);
    // A change in one tenant shows in that tenant only.
    const extra = emulator.extraTenants[1];
    extra.createUser({ userPrincipalName: 'new@contoso.com', displayName: 'New' });
    assert.equal((await usersOf(extra.spec.tenantId)).length, 31);
    assert.equal((await usersOf(emulator.tenant.spec.tenantId)).length, 30);
  });
});
