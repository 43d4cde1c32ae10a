import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfidentialClientApplication, ServerError, type NodeAuthOptions } from '@azure/msal-node';
import { serve, type ServerType } from '@hono/node-server';
import { SignJWT, createLocalJWKSet, importPKCS8, jwtVerify } from 'jose';
import { generateClientCertificate, generateTls, type ClientCertificate, type TlsMaterial } from '../tls.ts';
import {
  accessTokenMessages,
  createAuthRoutes,
  createTokenSigner,
  verifyAccessToken,
  type AuthRequestKind,
  type ConsentDecision,
  type EmulatorTenantAuth,
  type TokenSigner,
} from './index.ts';
import { caNetworkClient, httpsRequest, type HttpsResponse } from './ca-network-client.ts';

const tenantId = '6e1c4bd0-5f0a-4b8e-9d63-1f0e2a7c9b11';
const domain = 'contoso.onmicrosoft.com';
const secretAppId = '1f2b3c4d-0000-4000-8000-00000000000a';
const certAppId = '1f2b3c4d-0000-4000-8000-00000000000b';
const unknownAppId = '1f2b3c4d-0000-4000-8000-0000000000ff';
const secret = 'k8Q~s3cret.value_with+special/chars=';
const graphScope = 'https://graph.microsoft.com/.default';
const day = 24 * 60 * 60 * 1000;

let tls: TlsMaterial;
let cert: ClientCertificate;
let otherCert: ClientCertificate;
let signer: TokenSigner;
let server: ServerType;
let baseUrl: string;
let tenants: EmulatorTenantAuth[];
let consentDecision: ConsentDecision = 'approve';
const consents: string[] = [];
const calls: AuthRequestKind[] = [];

before(async () => {
  [tls, cert, otherCert, signer] = await Promise.all([
    generateTls(),
    generateClientCertificate({ subject: 'CN=usersync test' }),
    generateClientCertificate({ subject: 'CN=someone else' }),
    createTokenSigner(),
  ]);
  tenants = [
    {
      tenantId,
      domains: [domain, 'contoso.com'],
      apps: [
        {
          clientId: secretAppId,
          displayName: 'usersync (secret)',
          secrets: [{ value: secret }, { value: 'retired-secret', expiresAt: new Date(Date.now() - day) }],
          certificates: [],
          roles: ['User.Read.All', 'GroupMember.Read.All'],
        },
        {
          clientId: certAppId,
          displayName: 'usersync (certificate)',
          secrets: [],
          certificates: [{ pem: cert.certPem }],
          roles: ['User.Read.All'],
        },
      ],
    },
  ];
  const app = createAuthRoutes({
    tenants: () => tenants,
    baseUrl: () => baseUrl,
    signer,
    consentDecision: () => consentDecision,
    onConsent: (grant) => consents.push(`${grant.tenantId}/${grant.clientId}`),
    onRequest: (kind) => calls.push(kind),
  });
  const port = await new Promise<number>((resolve) => {
    server = serve(
      {
        fetch: app.fetch,
        port: 0,
        hostname: '127.0.0.1',
        createServer: https.createServer,
        serverOptions: { key: tls.keyPem, cert: tls.certPem },
      },
      (info: AddressInfo) => resolve(info.port),
    );
  });
  baseUrl = `https://127.0.0.1:${port}`;
});

after(() => {
  server.close();
});

function msal(auth: Omit<NodeAuthOptions, 'knownAuthorities'>): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { knownAuthorities: [new URL(baseUrl).host], ...auth },
    system: { networkClient: caNetworkClient(tls.caPem) },
  });
}

function tokenUrl(tenant: string = tenantId): string {
  return `${baseUrl}/${tenant}/oauth2/v2.0/token`;
}

function postToken(
  form: Record<string, string>,
  opts: { tenant?: string; headers?: Record<string, string>; query?: string } = {},
) {
  return httpsRequest(tokenUrl(opts.tenant) + (opts.query ?? ''), {
    ca: tls.caPem,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8', ...opts.headers },
    body: new URLSearchParams(form).toString(),
  });
}

function get(path: string): Promise<HttpsResponse> {
  return httpsRequest(baseUrl + path, { ca: tls.caPem });
}

type AssertionOptions = {
  key?: string;
  certificate?: ClientCertificate;
  alg?: 'PS256' | 'RS256';
  aud?: string;
  iss?: string;
  sub?: string;
  nbf?: number;
  exp?: number;
};

/** A client assertion as MSAL builds it (PS256 + x5t#S256, or RS256 + x5t), with any part overridable. */
async function clientAssertion(o: AssertionOptions = {}): Promise<string> {
  const alg = o.alg ?? 'PS256';
  const certificate = o.certificate ?? cert;
  const thumbprint =
    alg === 'PS256'
      ? { 'x5t#S256': Buffer.from(certificate.thumbprintSha256, 'hex').toString('base64url') }
      : { x5t: Buffer.from(certificate.thumbprintSha1, 'hex').toString('base64url') };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg, typ: 'JWT', ...thumbprint })
    .setAudience(o.aud ?? tokenUrl())
    .setIssuer(o.iss ?? certAppId)
    .setSubject(o.sub ?? o.iss ?? certAppId)
    .setNotBefore(o.nbf ?? now)
    .setExpirationTime(o.exp ?? now + 600)
    .sign(await importPKCS8(o.key ?? certificate.keyPem, alg));
}

function assertionForm(assertion: string): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_id: certAppId,
    scope: graphScope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  };
}

const secretForm = {
  grant_type: 'client_credentials',
  client_id: secretAppId,
  scope: graphScope,
  client_secret: secret,
};

function accessTokenOf(res: HttpsResponse): string {
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text) as { access_token: string }).access_token;
}

describe('token endpoint with msal-node', () => {
  test('client secret: a token for Graph carrying the granted roles, without instance discovery', async () => {
    calls.length = 0;
    const client = msal({ clientId: secretAppId, authority: `${baseUrl}/${tenantId}`, clientSecret: secret });
    const result = await client.acquireTokenByClientCredential({ scopes: [graphScope] });
    assert.ok(result);
    const check = verifyAccessToken(signer, `Bearer ${result.accessToken}`);
    assert.ok(check.ok);
    assert.equal(check.tenantId, tenantId);
    assert.equal(check.appId, secretAppId);
    assert.deepEqual(check.roles, ['User.Read.All', 'GroupMember.Read.All']);
    assert.equal(check.claims.aud, 'https://graph.microsoft.com');
    assert.equal(check.claims.iss, `https://sts.windows.net/${tenantId}/`);
    assert.equal(check.claims.idtyp, 'app');
    assert.equal(check.claims.appidacr, '1');
    assert.deepEqual(calls, ['openid-configuration', 'token']);
  });

  test('a domain authority resolves to the tenant GUID', async () => {
    const client = msal({ clientId: secretAppId, authority: `${baseUrl}/${domain}`, clientSecret: secret });
    const result = await client.acquireTokenByClientCredential({ scopes: [graphScope] });
    const check = verifyAccessToken(signer, `Bearer ${result?.accessToken}`);
    assert.ok(check.ok);
    assert.equal(check.tenantId, tenantId);
  });

  const certificateModes = [
    {
      name: 'SHA-256 thumbprint (PS256)',
      clientCertificate: () => ({ thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem }),
    },
    {
      name: 'SHA-1 thumbprint (RS256)',
      clientCertificate: () => ({ thumbprint: cert.thumbprintSha1, privateKey: cert.keyPem }),
    },
    {
      name: 'SHA-256 thumbprint with x5c',
      clientCertificate: () => ({
        thumbprintSha256: cert.thumbprintSha256,
        privateKey: cert.keyPem,
        x5c: cert.certPem,
      }),
    },
  ];
  for (const mode of certificateModes) {
    test(`certificate, ${mode.name}`, async () => {
      const client = msal({
        clientId: certAppId,
        authority: `${baseUrl}/${tenantId}`,
        clientCertificate: mode.clientCertificate(),
      });
      const result = await client.acquireTokenByClientCredential({ scopes: [graphScope] });
      const check = verifyAccessToken(signer, `Bearer ${result?.accessToken}`);
      assert.ok(check.ok);
      assert.equal(check.appId, certAppId);
      assert.equal(check.claims.appidacr, '2');
    });
  }

  const msalFailures = [
    {
      name: 'wrong secret',
      auth: () => ({ clientId: secretAppId, clientSecret: 'nope' }),
      error: 'invalid_client',
      code: 7000215,
      status: 401,
    },
    {
      name: 'expired secret',
      auth: () => ({ clientId: secretAppId, clientSecret: 'retired-secret' }),
      error: 'invalid_client',
      code: 7000222,
      status: 401,
    },
    {
      name: 'unknown app',
      auth: () => ({ clientId: unknownAppId, clientSecret: secret }),
      error: 'unauthorized_client',
      code: 700016,
      status: 400,
    },
    {
      name: 'unregistered certificate',
      auth: () => ({
        clientId: certAppId,
        clientCertificate: { thumbprintSha256: otherCert.thumbprintSha256, privateKey: otherCert.keyPem },
      }),
      error: 'invalid_client',
      code: 700027,
      status: 401,
    },
  ];
  for (const f of msalFailures) {
    test(`msal surfaces ${f.name} as ServerError ${f.error} ${f.code}`, async () => {
      const client = msal({ authority: `${baseUrl}/${tenantId}`, ...f.auth() });
      const correlationId = crypto.randomUUID();
      const err = await client.acquireTokenByClientCredential({ scopes: [graphScope], correlationId }).then(
        () => assert.fail('expected a ServerError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ServerError, String(err));
      assert.equal(err.errorCode, f.error);
      // msal-node types errorNo as a string, but passes error_codes[0] through as sent: a number.
      assert.equal(String(err.errorNo), String(f.code));
      assert.equal(err.status, f.status);
      assert.equal(err.correlationId, correlationId);
    });
  }

  test('unknown tenant fails at authority discovery', async () => {
    const client = msal({
      clientId: secretAppId,
      authority: `${baseUrl}/fabrikam.onmicrosoft.com`,
      clientSecret: secret,
    });
    await assert.rejects(client.acquireTokenByClientCredential({ scopes: [graphScope] }), (e: unknown) => {
      assert.equal((e as { errorCode?: string }).errorCode, 'endpoints_resolution_error');
      return true;
    });
  });
});

describe('token endpoint on the wire', () => {
  test('success: body and cache headers as Entra sends them', async () => {
    const res = await postToken(
      { ...secretForm, 'x-client-SKU': 'msal.js.node', 'x-app-name': 'usersync' },
      { query: `?client-request-id=${crypto.randomUUID()}` },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['cache-control'], 'no-store, no-cache');
    assert.equal(res.headers['pragma'], 'no-cache');
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    const body = JSON.parse(res.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3599);
    assert.equal(body.ext_expires_in, 3599);
  });

  test('client_secret_basic', async () => {
    const basic = Buffer.from(`${encodeURIComponent(secretAppId)}:${encodeURIComponent(secret)}`).toString('base64');
    const res = await postToken(
      { grant_type: 'client_credentials', scope: graphScope },
      { headers: { Authorization: `Basic ${basic}` } },
    );
    assert.ok(verifyAccessToken(signer, `Bearer ${accessTokenOf(res)}`).ok);
  });

  test('assertion audience may name the tenant by domain', async () => {
    const res = await postToken(assertionForm(await clientAssertion({ aud: tokenUrl(domain) })), { tenant: domain });
    assert.ok(verifyAccessToken(signer, `Bearer ${accessTokenOf(res)}`).ok);
  });

  test('roles are read at mint time', async () => {
    const app = tenants[0].apps[0];
    const before = [...app.roles];
    app.roles.push('ProfilePhoto.Read.All');
    try {
      const check = verifyAccessToken(signer, `Bearer ${accessTokenOf(await postToken(secretForm))}`);
      assert.ok(check.ok);
      assert.deepEqual(check.roles, [...before, 'ProfilePhoto.Read.All']);
    } finally {
      app.roles.splice(0, app.roles.length, ...before);
    }
  });

  test('error body: AADSTS description, numeric codes, Entra timestamp, correlation id = client-request-id', async () => {
    const correlationId = crypto.randomUUID();
    const res = await postToken(
      { ...secretForm, client_secret: 'wrong' },
      { headers: { 'client-request-id': correlationId } },
    );
    assert.equal(res.status, 401);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), [
      'error',
      'error_description',
      'error_codes',
      'timestamp',
      'trace_id',
      'correlation_id',
      'error_uri',
    ]);
    assert.equal(body.correlation_id, correlationId);
    assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
    assert.match(String(body.trace_id), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(
      body.error_description,
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ` +
        `not the client secret ID, for a secret added to app '${secretAppId}'.\r\nTrace ID: ${body.trace_id}\r\n` +
        `Correlation ID: ${correlationId}\r\nTimestamp: ${body.timestamp}`,
    );
    assert.deepEqual(body.error_codes, [7000215]);
    assert.equal(body.error_uri, `${baseUrl}/error?code=7000215`);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const failures: {
    name: string;
    form: () => Record<string, string> | Promise<Record<string, string>>;
    tenant?: string;
    status: number;
    error: string;
    code: number;
  }[] = [
    {
      name: 'wrong secret',
      form: () => ({ ...secretForm, client_secret: 'wrong' }),
      status: 401,
      error: 'invalid_client',
      code: 7000215,
    },
    {
      name: 'expired secret',
      form: () => ({ ...secretForm, client_secret: 'retired-secret' }),
      status: 401,
      error: 'invalid_client',
      code: 7000222,
    },
    {
      name: 'no credential',
      form: () => ({ grant_type: 'client_credentials', client_id: secretAppId, scope: graphScope }),
      status: 401,
      error: 'invalid_client',
      code: 7000218,
    },
    {
      name: 'unknown app',
      form: () => ({ ...secretForm, client_id: unknownAppId }),
      status: 400,
      error: 'unauthorized_client',
      code: 700016,
    },
    {
      name: 'unknown tenant id',
      form: () => secretForm,
      tenant: '00000000-0000-4000-8000-000000000000',
      status: 400,
      error: 'invalid_tenant',
      code: 90002,
    },
    {
      name: 'unknown tenant domain',
      form: () => secretForm,
      tenant: 'fabrikam.com',
      status: 400,
      error: 'invalid_tenant',
      code: 90002,
    },
    {
      name: 'malformed tenant',
      form: () => secretForm,
      tenant: 'not_a_tenant',
      status: 400,
      error: 'invalid_request',
      code: 900023,
    },
    {
      name: 'common tenant',
      form: () => secretForm,
      tenant: 'common',
      status: 400,
      error: 'invalid_request',
      code: 50059,
    },
    {
      name: 'delegated scope',
      form: () => ({ ...secretForm, scope: 'User.Read.All' }),
      status: 400,
      error: 'invalid_scope',
      code: 70011,
    },
    {
      name: 'resource scope that is not .default',
      form: () => ({ ...secretForm, scope: 'https://graph.microsoft.com/User.Read.All' }),
      status: 400,
      error: 'invalid_scope',
      code: 70011,
    },
    {
      name: 'two resources',
      form: () => ({ ...secretForm, scope: `${graphScope} https://management.azure.com/.default` }),
      status: 400,
      error: 'invalid_scope',
      code: 700022,
    },
    {
      name: 'missing scope',
      form: () => ({ ...secretForm, scope: '' }),
      status: 400,
      error: 'invalid_request',
      code: 900144,
    },
    {
      name: 'missing grant_type',
      form: () => ({ client_id: secretAppId, scope: graphScope, client_secret: secret }),
      status: 400,
      error: 'invalid_request',
      code: 900144,
    },
    {
      name: 'missing client_id',
      form: () => ({ grant_type: 'client_credentials', scope: graphScope, client_secret: secret }),
      status: 400,
      error: 'invalid_request',
      code: 900144,
    },
    {
      name: 'unsupported grant type',
      form: () => ({ ...secretForm, grant_type: 'password' }),
      status: 400,
      error: 'unsupported_grant_type',
      code: 70003,
    },
    {
      name: 'assertion signed with another key',
      form: async () => assertionForm(await clientAssertion({ key: otherCert.keyPem })),
      status: 401,
      error: 'invalid_client',
      code: 700027,
    },
    {
      name: 'assertion with an unregistered thumbprint',
      form: async () => assertionForm(await clientAssertion({ certificate: otherCert })),
      status: 401,
      error: 'invalid_client',
      code: 700027,
    },
    {
      name: 'expired assertion',
      form: async () => assertionForm(await clientAssertion({ nbf: now() - 3600, exp: now() - 1800 })),
      status: 401,
      error: 'invalid_client',
      code: 700024,
    },
    {
      name: 'assertion not yet valid',
      form: async () => assertionForm(await clientAssertion({ nbf: now() + 1800, exp: now() + 3600 })),
      status: 401,
      error: 'invalid_client',
      code: 700024,
    },
    {
      name: 'assertion for another token endpoint',
      form: async () =>
        assertionForm(await clientAssertion({ aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' })),
      status: 401,
      error: 'invalid_client',
      code: 700023,
    },
    {
      name: 'assertion issued by another client',
      form: async () => assertionForm(await clientAssertion({ iss: secretAppId })),
      status: 401,
      error: 'invalid_client',
      code: 700021,
    },
    {
      name: 'garbled assertion',
      form: () => assertionForm('not-a-jwt'),
      status: 400,
      error: 'invalid_request',
      code: 50027,
    },
  ];
  for (const f of failures) {
    test(`${f.name} → ${f.status} ${f.error} AADSTS${f.code}`, async () => {
      const res = await postToken(await f.form(), { tenant: f.tenant });
      const body = JSON.parse(res.text) as { error: string; error_codes: number[]; error_description: string };
      assert.equal(res.status, f.status, res.text);
      assert.equal(body.error, f.error);
      assert.equal(body.error_codes[0], f.code);
      assert.ok(body.error_description.startsWith(`AADSTS${f.code}: `), body.error_description);
    });
  }

  test('RS256 assertion with an x5t (SHA-1) thumbprint', async () => {
    const res = await postToken(assertionForm(await clientAssertion({ alg: 'RS256' })));
    assert.ok(verifyAccessToken(signer, `Bearer ${accessTokenOf(res)}`).ok);
  });

  test('a certificate registered at run time is accepted', async () => {
    const app = tenants[0].apps[1];
    app.certificates.push({ pem: otherCert.certPem });
    try {
      const res = await postToken(assertionForm(await clientAssertion({ certificate: otherCert })));
      assert.equal(res.status, 200, res.text);
    } finally {
      app.certificates.pop();
    }
  });
});

describe('verifyAccessToken', () => {
  test('accepts a fresh token and rejects it once expired', async () => {
    const token = accessTokenOf(await postToken(secretForm));
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number; iat: number };
    assert.ok(verifyAccessToken(signer, `Bearer ${token}`, (claims.exp - 1) * 1000).ok);
    assert.deepEqual(verifyAccessToken(signer, `Bearer ${token}`, claims.exp * 1000), {
      ok: false,
      message: accessTokenMessages.expired,
    });
    assert.deepEqual(verifyAccessToken(signer, `Bearer ${token}`, (claims.iat - 1) * 1000), {
      ok: false,
      message: accessTokenMessages.notYetValid,
    });
    assert.equal(accessTokenMessages.expired, 'Lifetime validation failed, the token is expired.');
  });

  test('honours the configured token lifetime', async () => {
    const signerForShortTokens = await createTokenSigner();
    const app = createAuthRoutes({
      tenants: () => tenants,
      baseUrl: () => baseUrl,
      signer: signerForShortTokens,
      tokenLifetimeSeconds: () => 60,
    });
    const res = await app.request(`/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(secretForm).toString(),
    });
    const body = (await res.json()) as { expires_in: number; access_token: string };
    assert.equal(body.expires_in, 60);
    assert.equal(verifyAccessToken(signerForShortTokens, `Bearer ${body.access_token}`, Date.now() + 61_000).ok, false);
  });

  const rejections: { name: string; header: () => string | undefined | Promise<string>; message: string }[] = [
    { name: 'missing header', header: () => undefined, message: accessTokenMessages.empty },
    { name: 'empty bearer', header: () => 'Bearer ', message: accessTokenMessages.empty },
    {
      name: 'another scheme',
      header: () => `Basic ${Buffer.from('a:b').toString('base64')}`,
      message: accessTokenMessages.empty,
    },
    { name: 'not a JWT', header: () => 'Bearer EwBwA8l6BAAU', message: accessTokenMessages.noDots },
    { name: 'one dot', header: () => 'Bearer eyJhbGciOi.eyJhdWQi', message: accessTokenMessages.unparseable },
    { name: 'garbled JWT', header: () => 'Bearer eyJhbGciOi.eyJhdWQi.c2ln', message: accessTokenMessages.unparseable },
    {
      name: 'signed by another key',
      header: async () => {
        const foreign = createAuthRoutes({
          tenants: () => tenants,
          baseUrl: () => baseUrl,
          signer: await createTokenSigner(),
        });
        const res = await foreign.request(`/${tenantId}/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams(secretForm).toString(),
        });
        return `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
      },
      message: accessTokenMessages.badSignature,
    },
  ];
  for (const r of rejections) {
    test(`rejects ${r.name}`, async () => {
      assert.deepEqual(verifyAccessToken(signer, await r.header()), { ok: false, message: r.message });
    });
  }

  test('checks the audience when asked to', async () => {
    const header = `Bearer ${accessTokenOf(await postToken(secretForm))}`;
    assert.ok(verifyAccessToken(signer, header, Date.now(), { audiences: ['https://graph.microsoft.com'] }).ok);
    assert.deepEqual(verifyAccessToken(signer, header, Date.now(), { audiences: ['https://graph.microsoft.us'] }), {
      ok: false,
      message: accessTokenMessages.badAudience,
    });
  });
});

describe('discovery', () => {
  test('OpenID configuration by GUID and by domain names the GUID endpoints', async () => {
    for (const tenant of [tenantId, domain, domain.toUpperCase()]) {
      const res = await get(`/${tenant}/v2.0/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'max-age=86400, private');
      const doc = JSON.parse(res.text) as Record<string, string>;
      assert.equal(doc.token_endpoint, `${baseUrl}/${tenantId}/oauth2/v2.0/token`);
      assert.equal(doc.authorization_endpoint, `${baseUrl}/${tenantId}/oauth2/v2.0/authorize`);
      assert.equal(doc.jwks_uri, `${baseUrl}/${tenantId}/discovery/v2.0/keys`);
      assert.equal(doc.issuer, `${baseUrl}/${tenantId}/v2.0`);
    }
  });

  test('OpenID configuration of common keeps the {tenantid} issuer', async () => {
    const doc = JSON.parse((await get('/common/v2.0/.well-known/openid-configuration')).text) as Record<string, string>;
    assert.equal(doc.issuer, `${baseUrl}/{tenantid}/v2.0`);
    assert.equal(doc.token_endpoint, `${baseUrl}/common/oauth2/v2.0/token`);
  });

  test('OpenID configuration of an unknown tenant is AADSTS90002', async () => {
    const res = await get('/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration');
    assert.equal(res.status, 400);
    const body = JSON.parse(res.text) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_tenant');
    assert.deepEqual(body.error_codes, [90002]);
  });

  test('instance discovery answers for our own host only', async () => {
    const ours = await get(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${baseUrl}/${tenantId}/oauth2/v2.0/authorize`)}`,
    );
    assert.equal(ours.status, 200);
    const host = new URL(baseUrl).host;
    assert.deepEqual(JSON.parse(ours.text), {
      tenant_discovery_endpoint: `${baseUrl}/${tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
    const foreign = await get(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://login.example.com/common/oauth2/v2.0/authorize')}`,
    );
    assert.equal(foreign.status, 400);
    const body = JSON.parse(foreign.text) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_instance');
    assert.deepEqual(body.error_codes, [50049]);
  });

  test('the JWKS verifies issued tokens', async () => {
    const jwks = JSON.parse((await get(`/${tenantId}/discovery/v2.0/keys`)).text) as Parameters<
      typeof createLocalJWKSet
    >[0];
    const token = accessTokenOf(await postToken(secretForm));
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: `https://sts.windows.net/${tenantId}/`,
      audience: 'https://graph.microsoft.com',
    });
    assert.equal(payload.appid, secretAppId);
    assert.equal(protectedHeader.kid, signer.kid);
  });
});

describe('admin consent', () => {
  const redirect = 'https://app.example.com/connect/callback?connection=42';
  const consentUrl = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;
  const location = (res: HttpsResponse) => {
    assert.equal(res.status, 302, res.text);
    return new URL(res.headers['location']);
  };

  test('v1 approve returns admin_consent=True with the tenant GUID and state', async () => {
    consents.length = 0;
    for (const tenant of [tenantId, domain, 'common']) {
      const url = location(
        await get(
          consentUrl(`/${tenant}/adminconsent`, { client_id: secretAppId, redirect_uri: redirect, state: 's-1' }),
        ),
      );
      assert.equal(url.origin + url.pathname, 'https://app.example.com/connect/callback');
      assert.deepEqual(
        [...url.searchParams],
        [
          ['connection', '42'],
          ['admin_consent', 'True'],
          ['tenant', tenantId],
          ['state', 's-1'],
        ],
      );
    }
    assert.deepEqual(consents, Array(3).fill(`${tenantId}/${secretAppId}`));
  });

  test('v2 approve adds the scope', async () => {
    const url = location(
      await get(
        consentUrl(`/organizations/v2.0/adminconsent`, {
          client_id: certAppId,
          scope: graphScope,
          redirect_uri: redirect,
          state: 'x',
        }),
      ),
    );
    assert.equal(url.searchParams.get('admin_consent'), 'True');
    assert.equal(url.searchParams.get('tenant'), tenantId);
    assert.equal(url.searchParams.get('scope'), graphScope);
  });

  const refusals: {
    name: string;
    path: string;
    params: Record<string, string>;
    decision: ConsentDecision;
    error: string;
    description: RegExp;
  }[] = [
    {
      name: 'v1 declined',
      path: `/${tenantId}/adminconsent`,
      params: { client_id: secretAppId, redirect_uri: redirect, state: 's' },
      decision: 'decline',
      error: 'permission_denied',
      description: /^The admin canceled the request$/,
    },
    {
      name: 'v2 declined',
      path: `/${tenantId}/v2.0/adminconsent`,
      params: { client_id: secretAppId, scope: graphScope, redirect_uri: redirect, state: 's' },
      decision: 'decline',
      error: 'access_denied',
      description: /^The admin canceled the request$/,
    },
    {
      name: 'unknown client',
      path: `/${tenantId}/adminconsent`,
      params: { client_id: unknownAppId, redirect_uri: redirect, state: 's' },
      decision: 'approve',
      error: 'unauthorized_client',
      description: /^AADSTS700016: /,
    },
    {
      name: 'unknown tenant',
      path: `/fabrikam.com/adminconsent`,
      params: { client_id: secretAppId, redirect_uri: redirect, state: 's' },
      decision: 'approve',
      error: 'invalid_tenant',
      description: /^AADSTS90002: /,
    },
    {
      name: 'v2 without scope',
      path: `/${tenantId}/v2.0/adminconsent`,
      params: { client_id: secretAppId, redirect_uri: redirect, state: 's' },
      decision: 'approve',
      error: 'invalid_request',
      description: /^AADSTS900144: .*'scope'/,
    },
  ];
  for (const r of refusals) {
    test(`${r.name} → error=${r.error}`, async () => {
      consentDecision = r.decision;
      try {
        const url = location(await get(consentUrl(r.path, r.params)));
        assert.equal(url.searchParams.get('error'), r.error);
        assert.match(url.searchParams.get('error_description') ?? '', r.description);
        assert.equal(url.searchParams.get('state'), 's');
        assert.equal(url.searchParams.get('admin_consent'), null);
      } finally {
        consentDecision = 'approve';
      }
    });
  }

  test('no redirect_uri leaves the admin on an error page', async () => {
    const res = await get(consentUrl(`/${tenantId}/adminconsent`, { client_id: secretAppId }));
    assert.equal(res.status, 400);
    assert.match(res.text, /AADSTS900144/);
  });
});

test('thumbprints match the DER of the generated certificate', () => {
  const der = Buffer.from(cert.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  assert.equal(createHash('sha256').update(der).digest('hex').toUpperCase(), cert.thumbprintSha256);
});
