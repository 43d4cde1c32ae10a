import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, ServerError, type INetworkModule } from '@azure/msal-node';
import type { ConnectionConfig } from '../config/env.ts';
import { createTokenProvider, tokenError } from './token.ts';

// msal's failures → actions. The wire-level behaviour (msal against the emulator) is in
// test/entra.integration.test.ts; these cover the translation table without a server.

const config: ConnectionConfig = {
  tenantId: '11111111-2222-3333-4444-555555555555',
  clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  credential: { kind: 'secret', secret: 's3cr3t-value' },
  authorityHost: 'https://login.example.test',
  graphUrl: 'https://graph.example.test',
  warnings: [],
};

const server = (error: string, code: number, status: number, description = 'Something.') =>
  new ServerError(
    error,
    'corr-1',
    `AADSTS${code}: ${description}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-01-01 00:00:00Z`,
    '',
    String(code),
    status,
  );

/** A token service that only answers POSTs; any GET (instance discovery, OpenID metadata) is recorded and refused. */
function fakeTokenService() {
  const gets: string[] = [];
  const posts: { url: string; body: URLSearchParams }[] = [];
  const networkClient: INetworkModule = {
    sendGetRequestAsync: async (url) => {
      gets.push(url);
      throw new Error(`unexpected GET ${url}`);
    },
    sendPostRequestAsync: async (url, options) => {
      posts.push({ url, body: new URLSearchParams(options?.body) });
      await new Promise((r) => setTimeout(r, 5));
      return {
        status: 200,
        headers: {},
        body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `token-${posts.length}` },
      } as never;
    },
  };
  return { networkClient, gets, posts };
}

describe('token provider', () => {
  // [authority host, Graph, scope, where msal posts (its preferred network alias)]
  const clouds: [string, string, string, string][] = [
    [
      'https://login.microsoftonline.com',
      'https://graph.microsoft.com',
      'https://graph.microsoft.com/.default',
      'https://login.microsoftonline.com',
    ],
    [
      'https://login.microsoftonline.us',
      'https://graph.microsoft.us',
      'https://graph.microsoft.us/.default',
      'https://login.microsoftonline.us',
    ],
    [
      'https://login.microsoftonline.us',
      'https://dod-graph.microsoft.us',
      'https://dod-graph.microsoft.us/.default',
      'https://login.microsoftonline.us',
    ],
    [
      'https://login.chinacloudapi.cn',
      'https://microsoftgraph.chinacloudapi.cn',
      'https://microsoftgraph.chinacloudapi.cn/.default',
      'https://login.partner.microsoftonline.cn',
    ],
  ];
  for (const [authorityHost, graphUrl, scope, tokenHost] of clouds) {
    it(`${authorityHost}: built-in metadata (no discovery request), scope ${scope}`, async () => {
      const service = fakeTokenService();
      const tokens = createTokenProvider(
        { ...config, authorityHost, graphUrl },
        { networkClient: service.networkClient },
      );
      assert.equal(tokens.scope, scope);
      assert.equal(await tokens.getToken(), 'token-1');
      assert.deepEqual(service.gets, []);
      assert.equal(service.posts.length, 1);
      assert.ok(
        service.posts[0].url.startsWith(`${tokenHost}/${config.tenantId}/oauth2/v2.0/token`),
        service.posts[0].url,
      );
      assert.equal(service.posts[0].body.get('scope'), scope);
      assert.equal(service.posts[0].body.get('client_secret'), 's3cr3t-value');
    });
  }

  it('concurrent callers share one token request; later callers get the cached token', async () => {
    const service = fakeTokenService();
    const tokens = createTokenProvider(
      { ...config, authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' },
      { networkClient: service.networkClient },
    );
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
    assert.ok(all.every((t) => t === 'token-1'));
    assert.equal(await tokens.getToken(), 'token-1');
    assert.equal(service.posts.length, 1);
    assert.equal(await tokens.getToken({ forceRefresh: true }), 'token-2');
  });
});

describe('token errors', () => {
  const cases: [string, Error, string, RegExp][] = [
    [
      'wrong secret',
      server('invalid_client', 7000215, 401),
      'bad_secret',
      /^The client secret for app aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee is wrong or expired \(AADSTS7000215\): create a new secret in the app registration and set AZURE_CLIENT_SECRET to its value \(not its secret id\)\. correlation-id: corr-1$/,
    ],
    [
      'expired secret',
      server('invalid_client', 7000222, 401),
      'bad_secret',
      /is wrong or expired \(AADSTS7000222: it has expired\): create a new secret .* update AZURE_CLIENT_SECRET/,
    ],
    [
      'unknown app',
      server('unauthorized_client', 700016, 400),
      'unknown_app',
      /^App aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee was not found in tenant 11111111-2222-3333-4444-555555555555 \(AADSTS700016\): check AZURE_CLIENT_ID/,
    ],
    [
      'unknown tenant',
      server('invalid_tenant', 90002, 400),
      'unknown_tenant',
      /^Tenant 11111111-2222-3333-4444-555555555555 was not found at https:\/\/login\.example\.test \(AADSTS90002\): check AZURE_TENANT_ID/,
    ],
    [
      'bad certificate',
      server('invalid_client', 700027, 401, 'Client assertion contains an invalid signature.'),
      'bad_certificate',
      /^The certificate for app .* was refused \(AADSTS700027: Client assertion contains an invalid signature\): upload the certificate in AZURE_CLIENT_CERTIFICATE_PATH/,
    ],
    ['bad scope', server('invalid_scope', 70011, 400), 'bad_scope', /set USERSYNC_GRAPH_URL/],
    [
      'other',
      server('invalid_request', 900144, 400, 'The request body must contain scope.'),
      'token_failed',
      /\(AADSTS900144, HTTP 400: The request body must contain scope\)/,
    ],
  ];
  for (const [name, error, code, message] of cases) {
    it(name, async () => {
      const translated = await tokenError(error, config);
      assert.equal(translated.code, code);
      assert.match(translated.message, message);
      assert.ok(!translated.message.includes('s3cr3t-value'));
      assert.ok(!/[\r\n]/.test(translated.message));
    });
  }

  it('an unreachable token service names AZURE_AUTHORITY_HOST', async () => {
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND login.example.test'), { code: 'ENOTFOUND' });
    const error = Object.assign(new AuthError('network_error', 'corr', 'Network request failed'), { cause });
    const translated = await tokenError(error, config);
    assert.equal(translated.code, 'unreachable');
    assert.equal(
      translated.message,
      'Cannot reach the token service at login.example.test: the host name login.example.test does not resolve; check AZURE_AUTHORITY_HOST',
    );
  });

  it('endpoint resolution failures are diagnosed: unknown tenant vs unreachable host', async () => {
    const resolution = new AuthError('endpoints_resolution_error', 'corr', 'Endpoints cannot be resolved');
    const answering = (status: number, body: unknown): INetworkModule => ({
      sendGetRequestAsync: async () => ({ status, headers: {}, body }) as never,
      sendPostRequestAsync: async () => {
        throw new Error('unused');
      },
    });
    const unknown = await tokenError(
      resolution,
      config,
      answering(400, { error: 'invalid_tenant', error_codes: [90002] }),
    );
    assert.equal(unknown.code, 'unknown_tenant');
    assert.match(
      unknown.message,
      /^Tenant .* was not found at https:\/\/login\.example\.test \(AADSTS90002\): check AZURE_TENANT_ID/,
    );

    const refused: INetworkModule = {
      sendGetRequestAsync: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      },
      sendPostRequestAsync: async () => {
        throw new Error('unused');
      },
    };
    const down = await tokenError(resolution, config, refused);
    assert.equal(down.code, 'unreachable');
    assert.match(down.message, /nothing accepts connections at login\.example\.test; check AZURE_AUTHORITY_HOST/);
  });
});
