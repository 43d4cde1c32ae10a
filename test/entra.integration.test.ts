import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { loadConnectionConfig, type ConnectionConfig } from '../src/config/env.ts';
import { caNetworkClient } from '../src/emulator/auth/ca-network-client.ts';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { generateClientCertificate } from '../src/emulator/tls.ts';
import { DeltaTokenExpiredError, GraphError } from '../src/entra/errors.ts';
import { createGraphHttp, type FetchLike, type GraphHttpOptions } from '../src/entra/http.ts';
import { readDelta, type Page } from '../src/entra/paging.ts';
import { photoBytes, photoEtags } from '../src/entra/photos.ts';
import { createTokenProvider } from '../src/entra/token.ts';

// The Graph client against the real emulator over HTTPS: msal tokens (secret and certificate), error
// translation, retries under injected faults, delta paging and $batch photo reads.

const USERS = 300;
let emulator: Emulator;
let dispatcher: Agent;
let fetch: FetchLike;

before(async () => {
  emulator = await startEmulator({ users: USERS, groups: 10, seed: 'entra-client', deltaPageSize: 25 });
  dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  fetch = (url, init) => undiciFetch(url, { ...init, dispatcher });
});
after(async () => {
  await dispatcher.close();
  await emulator.stop();
});
afterEach(() => {
  emulator.faults.reset();
  emulator.requests.reset();
});

function config(overrides: Record<string, string | undefined> = {}): ConnectionConfig {
  return loadConnectionConfig({ ...emulator.env(), ...overrides });
}

function client(cfg: ConnectionConfig = config(), options: Partial<GraphHttpOptions> = {}) {
  const tokens = createTokenProvider(cfg, { networkClient: caNetworkClient(emulator.caPem) });
  const http = createGraphHttp({ graphUrl: cfg.graphUrl, getToken: (o) => tokens.getToken(o), fetch, ...options });
  return { tokens, http };
}

async function collect(iterable: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of iterable) out.push(page);
  return out;
}

/** A local port nobody listens on (fetch refuses "bad ports" such as 9 before connecting). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const liveUserIds = () => [...emulator.tenant.liveUsers()].map((i) => emulator.tenant.userIdOf(i));
const graphRequests = () => emulator.requests.snapshot().totals.graphRequests;

describe('tokens through msal-node', () => {
  it('gets a token with the client secret, offline (no instance discovery), one request for concurrent callers', async () => {
    const { tokens } = client();
    assert.equal(tokens.scope, `${emulator.graphUrl}/.default`);
    const results = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    assert.ok(results.every((t) => t === results[0] && t.split('.').length === 3));
    assert.equal(await tokens.getToken(), results[0], 'cached');
    assert.equal(emulator.requests.snapshot().totals.tokenRequests, 1);
    const forced = await tokens.getToken({ forceRefresh: true });
    assert.notEqual(forced, results[0]);
  });

  it('gets a token with a certificate from AZURE_CLIENT_CERTIFICATE_PATH', async () => {
    const cert = await generateClientCertificate();
    emulator.app.certificates.push({ pem: cert.certPem });
    const path = join(mkdtempSync(join(tmpdir(), 'usersync-cert-')), 'app.pem');
    writeFileSync(path, cert.certPem + cert.keyPem);
    const { http } = client(config({ AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: path }));
    const res = await http.get('/users?$select=id&$top=1');
    assert.equal(res.status, 200);
  });

  it('an unregistered certificate says to upload it', async () => {
    const cert = await generateClientCertificate();
    const path = join(mkdtempSync(join(tmpdir(), 'usersync-cert-')), 'other.pem');
    writeFileSync(path, cert.certPem + cert.keyPem);
    const { tokens } = client(config({ AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: path }));
    await assert.rejects(tokens.getToken(), (e: GraphError) => {
      assert.equal(e.code, 'bad_certificate');
      assert.match(
        e.message,
        /\(AADSTS700027: .*\): upload the certificate in AZURE_CLIENT_CERTIFICATE_PATH \(SHA-256 thumbprint [0-9A-F]{64}\)/,
      );
      return true;
    });
  });

  it('a wrong secret names the app and the variable to fix, and never the secret', async () => {
    const { http } = client(config({ AZURE_CLIENT_SECRET: 'not-the-secret' }));
    await assert.rejects(http.get('/users'), (e: GraphError) => {
      assert.equal(e.code, 'bad_secret');
      assert.match(
        e.message,
        new RegExp(
          `^The client secret for app ${emulator.clientId} is wrong or expired \\(AADSTS7000215\\): create a new secret in the app registration and set AZURE_CLIENT_SECRET to its value`,
        ),
      );
      assert.match(e.message, /correlation-id: [0-9a-f-]{36}$/);
      assert.ok(!e.message.includes('not-the-secret'));
      return true;
    });
    assert.equal(graphRequests(), 0, 'no Graph request without a token');
  });

  it('an unknown tenant and an unknown app say which variable to check', async () => {
    const tenant = client(config({ AZURE_TENANT_ID: randomUUID() }));
    await assert.rejects(
      tenant.tokens.getToken(),
      (e: GraphError) => e.code === 'unknown_tenant' && /AADSTS90002\): check AZURE_TENANT_ID/.test(e.message),
    );
    const app = client(config({ AZURE_CLIENT_ID: randomUUID() }));
    await assert.rejects(
      app.tokens.getToken(),
      (e: GraphError) => e.code === 'unknown_app' && /AADSTS700016\): check AZURE_CLIENT_ID/.test(e.message),
    );
  });

  it('a token service that is not listening is reported as unreachable', async () => {
    const port = await closedPort();
    const { tokens } = client(config({ AZURE_AUTHORITY_HOST: `https://127.0.0.1:${port}` }));
    await assert.rejects(
      tokens.getToken(),
      (e: GraphError) =>
        e.code === 'unreachable' &&
        e.message.includes(`nothing accepts connections at 127.0.0.1:${port}; check AZURE_AUTHORITY_HOST`),
    );
  });
});

describe('Graph errors', () => {
  it('a missing GroupMember.Read.All names the permission, the endpoint and the request-id', async () => {
    const roles = emulator.app.roles;
    emulator.app.roles = ['User.Read.All', 'ProfilePhoto.Read.All'];
    try {
      const { http } = client();
      await assert.rejects(
        collect(readDelta(http, { resource: 'groups', link: null, select: ['displayName', 'members'] })),
        (e: GraphError) => {
          assert.equal(e.code, 'permission_denied');
          assert.match(
            e.message,
            /^Graph denied \/groups\/delta \(403 Authorization_RequestDenied\): grant GroupMember\.Read\.All to the app and re-consent \(grant admin consent again\)\. request-id: [0-9a-f-]{36}$/,
          );
          return true;
        },
      );
    } finally {
      emulator.app.roles = roles;
    }
  });

  it('Graph that is not listening is reported as unreachable', async () => {
    const port = await closedPort();
    const { http } = client(config({ USERSYNC_GRAPH_URL: `https://127.0.0.1:${port}` }));
    await assert.rejects(
      http.get('/users'),
      (e: GraphError) =>
        e.code === 'unreachable' &&
        e.message.startsWith(`Cannot reach Graph at 127.0.0.1:${port}: nothing accepts connections`),
    );
  });
});

describe('TLS trust', () => {
  // Node's own fetch does not trust the emulator's fresh CA: exactly what a user without NODE_EXTRA_CA_CERTS sees.
  it('an untrusted Graph certificate points at NODE_EXTRA_CA_CERTS', async () => {
    const { tokens } = client();
    const http = createGraphHttp({ graphUrl: emulator.graphUrl, getToken: () => tokens.getToken() });
    await assert.rejects(
      http.get('/users'),
      (e: GraphError) =>
        e.code === 'unreachable' &&
        /its TLS certificate is not trusted \([A-Z_]+\); for a self-signed or private CA set NODE_EXTRA_CA_CERTS/.test(
          e.message,
        ),
    );
  });

  it('an untrusted token service certificate points at NODE_EXTRA_CA_CERTS', async () => {
    const tokens = createTokenProvider(config());
    await assert.rejects(
      tokens.getToken(),
      (e: GraphError) =>
        e.code === 'unreachable' &&
        /^Cannot reach the token service at 127\.0\.0\.1:\d+: its TLS certificate is not trusted .*NODE_EXTRA_CA_CERTS.*check AZURE_AUTHORITY_HOST$/.test(
          e.message,
        ),
    );
  });
});

describe('delta paging', () => {
  it('a round returns every user exactly once, then only the changes', async () => {
    const { http } = client();
    const pages = await collect(
      readDelta(http, {
        resource: 'users',
        link: null,
        select: ['displayName', 'accountEnabled', 'userPrincipalName'],
      }),
    );
    assert.ok(pages.length >= USERS / 25, `${pages.length} pages`);
    assert.ok(pages.slice(0, -1).every((p) => p.nextLink && !p.deltaLink));
    const deltaLink = pages.at(-1)!.deltaLink!;
    assert.ok(deltaLink);
    const ids = pages.flatMap((p) => p.value.map((u) => u.id as string));
    assert.equal(ids.length, new Set(ids).size, 'no duplicates');
    assert.deepEqual(new Set(ids), new Set(liveUserIds()));
    assert.equal(http.requestCount, pages.length);

    const changed = emulator.tenant.userIdOf(7);
    emulator.tenant.updateUser(changed, { displayName: 'Renamed Person' });
    const next = await collect(readDelta(http, { resource: 'users', link: deltaLink, select: [] }));
    const changes = next.flatMap((p) => p.value);
    assert.deepEqual(
      changes.map((u) => [u.id, u.displayName]),
      [[changed, 'Renamed Person']],
    );
    assert.ok(next.at(-1)!.deltaLink);
  });

  it('an expired delta token throws DeltaTokenExpiredError', async () => {
    const { http } = client();
    const pages = await collect(readDelta(http, { resource: 'users', link: null, select: ['displayName'] }));
    emulator.faults.expireDeltaTokens();
    await assert.rejects(
      collect(readDelta(http, { resource: 'users', link: pages.at(-1)!.deltaLink!, select: [] })),
      (e: GraphError) => {
        assert.ok(e instanceof DeltaTokenExpiredError);
        assert.match(
          e.message,
          /^Graph rejected the delta link for \/users\/delta \(400 syncStateNotFound\): the delta token expired or was reset; read everything again \(a full sync\)\. request-id: /,
        );
        return true;
      },
    );
  });
});

describe('under injected faults', () => {
  // Backoff without Retry-After is real time; a hundredth of it keeps the test fast without changing the logic.
  const fastSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms / 100));

  async function fullUsersRound(options: Partial<GraphHttpOptions>) {
    const { tokens, http } = client(config(), { maxRetries: 30, sleep: fastSleep, ...options });
    await tokens.getToken(); // token requests are not Graph requests
    emulator.requests.reset();
    const pages = await collect(
      readDelta(http, { resource: 'users', link: null, select: ['displayName', 'accountEnabled'] }),
    );
    const ids = pages.flatMap((p) => p.value.map((u) => u.id as string));
    assert.equal(ids.length, new Set(ids).size);
    assert.deepEqual(new Set(ids), new Set(liveUserIds()));
    assert.ok(pages.at(-1)!.deltaLink);
    return { http, pages };
  }

  it('a throttling storm (half of all requests 429) still completes, and every retry is counted', async () => {
    emulator.faults.update({ throttleRatio: 0.5, throttleRetryAfterSeconds: 0.01 });
    const { http, pages } = await fullUsersRound({});
    assert.ok(emulator.faults.counts.throttle > 0);
    assert.equal(http.requestCount, pages.length + emulator.faults.counts.throttle);
    assert.equal(http.requestCount, graphRequests());
  });

  it('503s without Retry-After and connection resets still complete, and every retry is counted', async () => {
    emulator.faults.update({ unavailableRatio: 0.25, unavailableRetryAfterSeconds: null, resetRatio: 0.25 });
    const { http, pages } = await fullUsersRound({});
    const { unavailable, reset } = emulator.faults.counts;
    assert.ok(unavailable > 0 && reset > 0, `unavailable ${unavailable}, reset ${reset}`);
    assert.equal(http.requestCount, pages.length + unavailable + reset);
    assert.equal(http.requestCount, graphRequests());
  });

  it('slow answers past the timeout are retried', async () => {
    emulator.faults.update({ slowRatio: 0.2, slowMs: 1000 });
    const { http, pages } = await fullUsersRound({ timeoutMs: 250 });
    assert.ok(emulator.faults.counts.delay > 0);
    // At least one retry per delayed answer (a loaded machine may time out a normal one too).
    assert.ok(http.requestCount >= pages.length + emulator.faults.counts.delay);
  });
});

describe('photos in $batch', () => {
  it('bytes and ETags equal the tenant, with no-photo users as null, 20 users per request', async () => {
    const { http } = client();
    const users = [...emulator.tenant.liveUsers()].slice(0, 50);
    const ids = users.map((i) => emulator.tenant.userIdOf(i));
    const [bytes, etags] = [await photoBytes(http, ids), await photoEtags(http, ids)];
    assert.equal(http.requestCount, 6);
    let withPhoto = 0;
    for (const i of users) {
      const expected = emulator.tenant.photo(i);
      const id = emulator.tenant.userIdOf(i);
      if (expected === null) {
        assert.equal(bytes.get(id), null);
        assert.equal(etags.get(id), null);
        continue;
      }
      withPhoto++;
      assert.deepEqual(bytes.get(id)!.bytes, expected.bytes);
      assert.equal(bytes.get(id)!.contentType, expected.contentType);
      assert.equal(etags.get(id), expected.etag);
    }
    assert.ok(withPhoto > 0 && withPhoto < users.length);
  });

  it('throttled batch items are retried on their own until every photo is read', async () => {
    emulator.faults.update({ throttleRatio: 0.3, throttleRetryAfterSeconds: 0.01, paths: 'photo' });
    const { http } = client(config(), { maxRetries: 30 });
    const users = [...emulator.tenant.liveUsers()].slice(0, 60);
    const bytes = await photoBytes(
      http,
      users.map((i) => emulator.tenant.userIdOf(i)),
    );
    assert.ok(emulator.faults.counts.throttle > 0);
    for (const i of users)
      assert.deepEqual(bytes.get(emulator.tenant.userIdOf(i))?.bytes ?? null, emulator.tenant.photo(i)?.bytes ?? null);
    assert.ok(http.requestCount > 3);
  });
});
