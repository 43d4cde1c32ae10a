import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  GraphError,
  PageIterator,
  ResponseType,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { deltaRound, emulatorEnv } from './env.ts';

// Microsoft's Graph JavaScript client (@microsoft/microsoft-graph-client 3) with @azure/identity, pointed at the
// emulator with nothing but configuration: the authority host (and no instance discovery), the Graph base URL, the
// emulator's host in customHosts, and its CA trusted through NODE_EXTRA_CA_CERTS. Run by sdk.integration.test.ts.

const env = emulatorEnv();
const credential = new ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, {
  authorityHost: env.authorityHost,
  disableInstanceDiscovery: true,
});
const client = Client.initWithMiddleware({
  authProvider: new TokenCredentialAuthenticationProvider(credential, {
    scopes: ['https://graph.microsoft.com/.default'],
  }),
  baseUrl: `${env.graphUrl}/`,
  customHosts: new Set([env.graphHostname]),
});

describe('@microsoft/microsoft-graph-client with @azure/identity', () => {
  before(() => env.control.resetFaults());
  after(async () => {
    await env.control.resetFaults();
  });

  it('pages every user with PageIterator', async () => {
    const info = await env.control.info();
    const ids: string[] = [];
    const first = await client.api('/users').select('id,displayName').top(25).get();
    const iterator = new PageIterator(client, first, (user: { id: string }) => {
      ids.push(user.id);
      return true;
    });
    await iterator.iterate();
    assert.equal(ids.length, info.users);
    assert.equal(new Set(ids).size, info.users);
  });

  it('reads users delta through rounds of changes: only what changed, deletions as @removed', async () => {
    const get = async (link: string) => {
      const page = await client.api(link).get();
      return { value: page.value, nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
    };
    const initial = await deltaRound('/users/delta?$select=id,displayName,jobTitle', get);
    assert.equal(initial.items.length, (await env.control.info()).users);
    assert.ok(initial.pages > 1, 'the first round spans pages');

    const someone = initial.items[3].id as string;
    const leaver = initial.items[4].id as string;
    const hire = await env.control.createUser({
      userPrincipalName: `sdk.hire@${(await env.control.info()).domain}`,
      displayName: 'SDK Hire',
    });
    await env.control.updateUser(someone, { jobTitle: 'Promoted by the SDK suite' });
    await env.control.deleteUser(leaver);
    const second = await deltaRound(initial.deltaLink, get);
    const byId = new Map(second.items.map((u) => [u.id as string, u]));
    assert.deepEqual([...byId.keys()].sort(), [hire.id, someone, leaver].sort());
    assert.equal(byId.get(someone)!.jobTitle, 'Promoted by the SDK suite');
    assert.deepEqual(byId.get(leaver)!['@removed'], { reason: 'changed' });

    const quiet = await deltaRound(second.deltaLink, get);
    assert.deepEqual(quiet.items, [], 'a round with no change is empty');
  });

  it('reads groups delta through rounds of changes, members as members@delta', async () => {
    const get = async (link: string) => {
      const page = await client.api(link).get();
      return { value: page.value, nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
    };
    const initial = await deltaRound('/groups/delta?$select=id,displayName,members', get);
    assert.ok(initial.items.length >= (await env.control.info()).groups);
    const member = (await client.api('/users').select('id').top(1).get()).value[0].id as string;
    const group = await env.control.createGroup({ displayName: 'SDK Group', kind: 'security' });
    await env.control.addMember(group.id, member);
    const second = await deltaRound(initial.deltaLink, get);
    const created = second.items.find((g) => g.id === group.id)!;
    assert.equal(created.displayName, 'SDK Group');
    const members = second.items
      .filter((g) => g.id === group.id)
      .flatMap((g) => (g['members@delta'] as { id: string }[] | undefined) ?? []);
    assert.ok(members.some((m) => m.id === member));
  });

  it('sends $batch with BatchRequestContent and reads each answer by id', async () => {
    const users = (await client.api('/users').select('id').top(2).get()).value as { id: string }[];
    const base = `${env.graphUrl}/v1.0`;
    const batch = new BatchRequestContent([
      { id: '1', request: new Request(`${base}/users/${users[0].id}?$select=id,displayName`, { method: 'GET' }) },
      { id: '2', request: new Request(`${base}/users/${users[1].id}/manager?$select=id`, { method: 'GET' }) },
      { id: '3', request: new Request(`${base}/users/nobody-${randomUUID()}@example.com`, { method: 'GET' }) },
    ]);
    const answer = new BatchResponseContent(await client.api('/$batch').post(await batch.getContent()));
    const first = answer.getResponseById('1');
    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { id: string }).id, users[0].id);
    assert.ok([200, 404].includes(answer.getResponseById('2').status));
    assert.equal(answer.getResponseById('3').status, 404);
  });

  it('retries throttled requests (429 with Retry-After) through its RetryHandler, and they succeed', async () => {
    await env.control.clearRequests();
    await env.control.setFaults({ throttleRatio: 0.4, throttleRetryAfterSeconds: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const page = await client.api('/users').select('id').top(5).get();
        assert.equal(page.value.length, 5);
      }
      const state = await env.control.faults();
      assert.ok(state.injected.throttle > 0, `throttled ${state.injected.throttle} times`);
    } finally {
      await env.control.resetFaults();
    }
  });

  it('parses Graph errors into GraphError, with the client-request-id it sent', async () => {
    const missing = `nobody-${randomUUID()}@example.com`;
    await assert.rejects(client.api(`/users/${missing}`).get(), (error: GraphError) => {
      assert.ok(error instanceof GraphError);
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'Request_ResourceNotFound');
      assert.match(error.message, new RegExp(`Resource '${missing}' does not exist`));
      assert.ok(error.requestId);
      const sent = error.headers?.get('client-request-id');
      assert.ok(sent);
      // GraphError.body is Graph's `error` object, as JSON.
      assert.equal(JSON.parse(error.body as string).innerError['client-request-id'], sent);
      return true;
    });
  });

  it('downloads a photo as bytes', async () => {
    const someone = (await client.api('/users').select('id').top(1).get()).value[0].id as string;
    const photo = (await env.control.generatePhoto(someone)) as { sha256: string; size: number };
    const bytes = Buffer.from(
      (await client.api(`/users/${someone}/photo/$value`).responseType(ResponseType.ARRAYBUFFER).get()) as ArrayBuffer,
    );
    assert.equal(bytes.length, photo.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), photo.sha256);
  });

  it('runs advanced queries: $count=true with ConsistencyLevel, and /users/$count with $filter', async () => {
    const page = await client
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .filter('accountEnabled eq false')
      .count(true)
      .select('id')
      .top(999)
      .get();
    assert.ok(page['@odata.count'] > 0);
    assert.equal(page['@odata.count'], page.value.length);
    const count = await client
      .api('/users/$count')
      .header('ConsistencyLevel', 'eventual')
      .filter('accountEnabled eq false')
      .responseType(ResponseType.TEXT)
      .get();
    assert.equal(Number(count), page['@odata.count']);
  });

  it('surfaces token failures: a wrong secret (AADSTS7000215) and an unknown resource (AADSTS500011)', async () => {
    const wrong = new ClientSecretCredential(env.tenantId, env.clientId, 'not-the-secret', {
      authorityHost: env.authorityHost,
      disableInstanceDiscovery: true,
    });
    await assert.rejects(wrong.getToken('https://graph.microsoft.com/.default'), /AADSTS7000215/);
    await assert.rejects(credential.getToken('https://nonexistent.example.org/.default'), /AADSTS500011/);
  });
});
