import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { HttpMethod, RequestInformation } from '@microsoft/kiota-abstractions';
import { AzureIdentityAuthenticationProvider } from '@microsoft/kiota-authentication-azure';
import { createGraphServiceClient, GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import { createUserCollectionResponseFromDiscriminatorValue, type User } from '@microsoft/msgraph-sdk/models/index.js';
import {
  createODataErrorFromDiscriminatorValue,
  type ODataError,
} from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { BatchRequestContent, PageIterator } from '@microsoft/msgraph-sdk-core';
import '@microsoft/msgraph-sdk-users';
import { deltaRound, emulatorEnv } from './env.ts';

// Microsoft's Kiota-generated Graph SDK (@microsoft/msgraph-sdk, with its users package) and @azure/identity, pointed
// at the emulator with configuration only: the authority host (no instance discovery), the adapter's base URL, the
// emulator's host in allowedHosts, and its CA trusted through NODE_EXTRA_CA_CERTS. Kiota calls delta as a function
// (`/users/delta()`). Run by sdk.integration.test.ts.

const env = emulatorEnv();
const credential = new ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, {
  authorityHost: env.authorityHost,
  disableInstanceDiscovery: true,
});
const authProvider = new AzureIdentityAuthenticationProvider(
  credential,
  ['https://graph.microsoft.com/.default'],
  undefined,
  new Set([env.graphHostname]),
);
const adapter = new GraphRequestAdapter(authProvider);
adapter.baseUrl = `${env.graphUrl}/v1.0`;
const client = createGraphServiceClient(adapter);
const errorMappings = { XXX: createODataErrorFromDiscriminatorValue };

/** A Graph request through Kiota's adapter (groups have no generated package): the answer as JSON. */
async function getJson(urlOrTemplate: string, select?: string[]): Promise<Record<string, unknown>> {
  const info = new RequestInformation(HttpMethod.GET);
  if (urlOrTemplate.startsWith('https://')) info.URL = urlOrTemplate;
  else {
    info.urlTemplate = urlOrTemplate;
    info.pathParameters.baseurl = adapter.baseUrl;
    if (select) info.queryParameters['%24select'] = select;
  }
  const bytes = await adapter.sendPrimitive<ArrayBuffer>(info, 'ArrayBuffer', errorMappings);
  return JSON.parse(Buffer.from(bytes!).toString('utf8')) as Record<string, unknown>;
}

describe('@microsoft/msgraph-sdk (Kiota) with @azure/identity', () => {
  before(() => env.control.resetFaults());
  after(async () => {
    await env.control.resetFaults();
  });

  it('pages every user with PageIterator', async () => {
    const info = await env.control.info();
    const first = await client.users.get({ queryParameters: { top: 25, select: ['id', 'displayName'] } });
    const ids: string[] = [];
    const iterator = new PageIterator<User>(
      adapter,
      { value: first!.value!, odataNextLink: first!.odataNextLink ?? undefined },
      (user) => {
        ids.push(user.id!);
        return true;
      },
      createUserCollectionResponseFromDiscriminatorValue as never,
      errorMappings,
    );
    await iterator.iterate();
    assert.equal(ids.length, info.users);
    assert.equal(new Set(ids).size, info.users);
  });

  it('reads users delta() through rounds of changes: only what changed, deletions as @removed', async () => {
    const get = async (link: string) => {
      const page = link
        ? await client.users.delta.withUrl(link).get()
        : await client.users.delta.get({ queryParameters: { select: ['id', 'displayName', 'department'] } });
      return {
        value: (page?.value ?? []).map((u) => ({ id: u.id, department: u.department, ...u.additionalData })),
        nextLink: page?.odataNextLink ?? undefined,
        deltaLink: page?.odataDeltaLink ?? undefined,
      };
    };
    await env.control.clearRequests();
    const initial = await deltaRound('', get);
    assert.ok(initial.pages > 1, 'the first round spans pages');
    const log = (await env.control.requests()) as { recent: { path: string }[] };
    assert.ok(
      log.recent.some((r) => r.path === '/v1.0/users/delta()'),
      'Kiota calls delta in its function form',
    );
    const info = await env.control.info();
    const someone = String(initial.items[5].id);
    const leaver = String(initial.items[6].id);
    const hire = await env.control.createUser({
      userPrincipalName: `kiota.hire@${info.domain}`,
      displayName: 'Kiota Hire',
    });
    await env.control.updateUser(someone, { department: 'Kiota Department' });
    await env.control.deleteUser(leaver);
    const second = await deltaRound(initial.deltaLink, get);
    const byId = new Map(second.items.map((u) => [String(u.id), u]));
    assert.deepEqual([...byId.keys()].sort(), [hire.id, someone, leaver].sort());
    assert.equal(byId.get(someone)!.department, 'Kiota Department');
    assert.deepEqual(byId.get(leaver)!['@removed'], { reason: 'changed' });
  });

  it('reads groups delta() through rounds of changes with its request adapter', async () => {
    const get = async (link: string) => {
      const page = await getJson(link || '{+baseurl}/groups/delta(){?%24select}', ['id', 'displayName', 'members']);
      return {
        value: page.value as Record<string, unknown>[],
        nextLink: page['@odata.nextLink'] as string | undefined,
        deltaLink: page['@odata.deltaLink'] as string | undefined,
      };
    };
    const initial = await deltaRound('', get);
    assert.ok(initial.items.length >= (await env.control.info()).groups);
    const member = String(
      initial.items.length ? (await client.users.get({ queryParameters: { top: 1 } }))!.value![0].id : '',
    );
    const group = await env.control.createGroup({
      displayName: 'Kiota Group',
      kind: 'microsoft365',
      members: [member],
    });
    const second = await deltaRound(initial.deltaLink, get);
    const rows = second.items.filter((g) => g.id === group.id);
    assert.equal(rows[0].displayName, 'Kiota Group');
    assert.ok(
      rows.flatMap((g) => (g['members@delta'] as { id: string }[] | undefined) ?? []).some((m) => m.id === member),
    );
  });

  it('sends $batch with BatchRequestContent and reads each answer by id', async () => {
    const users = (await client.users.get({ queryParameters: { top: 2, select: ['id'] } }))!.value!;
    const batch = new BatchRequestContent(adapter, errorMappings);
    const one = batch.addBatchRequest(
      client.users
        .byUserId(users[0].id!)
        .toGetRequestInformation({ queryParameters: { select: ['id', 'displayName'] } }),
    );
    const missing = batch.addBatchRequest(
      client.users.byUserId(`nobody-${randomUUID()}@example.com`).toGetRequestInformation(),
    );
    const answer = (await batch.postAsync())!;
    const first = answer.getResponseById(one.id)!;
    assert.equal(first.status, 200);
    assert.equal(answer.getResponseById(missing.id)!.status, 404);
    const statuses = await answer.getResponsesStatusCodes();
    assert.equal(statuses.size, 2);
  });

  it('retries throttled requests (429 with Retry-After) through its RetryHandler, and they succeed', async () => {
    await env.control.setFaults({ throttleRatio: 0.4, throttleRetryAfterSeconds: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const page = await client.users.get({ queryParameters: { top: 5, select: ['id'] } });
        assert.equal(page!.value!.length, 5);
      }
      const state = await env.control.faults();
      assert.ok(state.injected.throttle > 0, `throttled ${state.injected.throttle} times`);
    } finally {
      await env.control.resetFaults();
    }
  });

  it('parses Graph errors into ODataError, innerError included', async () => {
    const missing = `nobody-${randomUUID()}@example.com`;
    await assert.rejects(client.users.byUserId(missing).get(), (error: ODataError) => {
      assert.equal(error.responseStatusCode, 404);
      // Kiota names Graph's `error` member errorEscaped (Error has its own).
      assert.equal(error.errorEscaped?.code, 'Request_ResourceNotFound');
      assert.match(error.errorEscaped?.message ?? '', new RegExp(`Resource '${missing}' does not exist`));
      const inner = error.errorEscaped?.innerError;
      assert.ok(inner?.requestId);
      const sent = error.responseHeaders?.['client-request-id']?.[0];
      assert.equal(inner?.clientRequestId, sent ?? inner?.requestId);
      return true;
    });
  });

  it('downloads a photo as bytes', async () => {
    const someone = (await client.users.get({ queryParameters: { top: 1, select: ['id'] } }))!.value![0].id!;
    const photo = (await env.control.generatePhoto(someone)) as { sha256: string; size: number };
    const bytes = Buffer.from((await client.users.byUserId(someone).photo.content.get())!);
    assert.equal(bytes.length, photo.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), photo.sha256);
  });

  it('runs advanced queries: $count=true with ConsistencyLevel, and /users/$count with $filter', async () => {
    const headers = { ConsistencyLevel: 'eventual' };
    const page = await client.users.get({
      headers,
      queryParameters: { filter: 'accountEnabled eq false', count: true, select: ['id'], top: 999 },
    });
    assert.ok((page!.odataCount ?? 0) > 0);
    assert.equal(page!.odataCount, page!.value!.length);
    const count = await client.users.count.get({ headers, queryParameters: { filter: 'accountEnabled eq false' } });
    assert.equal(count, page!.odataCount);
  });

  it('surfaces token failures: a wrong secret (AADSTS7000215) and an unknown resource (AADSTS500011)', async () => {
    const wrong = new ClientSecretCredential(env.tenantId, env.clientId, 'not-the-secret', {
      authorityHost: env.authorityHost,
      disableInstanceDiscovery: true,
    });
    const failingAdapter = new GraphRequestAdapter(
      new AzureIdentityAuthenticationProvider(
        wrong,
        ['https://graph.microsoft.com/.default'],
        undefined,
        new Set([env.graphHostname]),
      ),
    );
    failingAdapter.baseUrl = adapter.baseUrl;
    await assert.rejects(createGraphServiceClient(failingAdapter).users.get(), /AADSTS7000215/);
    await assert.rejects(credential.getToken('https://nonexistent.example.org/.default'), /AADSTS500011/);
  });
});
