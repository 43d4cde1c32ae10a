import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { generateClientCertificate, type ClientCertificate } from '../emulator/tls.ts';
import { ConfigError, loadConnectionConfig, loadStoreConfig } from './env.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011';
const SECRET = 'Xy7~very.secret-value_123';
const base = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: SECRET };

const dir = mkdtempSync(join(tmpdir(), 'usersync-env-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConnectionConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes(SECRET), 'the secret must never appear in an error');
    assert.ok(!/\n/.test(error.message));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConnectionConfig', () => {
  it('reads a secret connection with the defaults of the contract', () => {
    const config = loadConnectionConfig(base);
    assert.deepEqual(config, {
      tenantId: TENANT,
      clientId: CLIENT,
      credential: { kind: 'secret', secret: SECRET },
      authorityHost: 'https://login.microsoftonline.com',
      graphUrl: 'https://graph.microsoft.com',
      warnings: [],
    });
  });

  it('normalises hosts: trailing slashes, a /v1.0 suffix, national clouds, emulator ports', () => {
    const config = loadConnectionConfig({
      ...base,
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
      USERSYNC_GRAPH_URL: 'https://graph.microsoft.us/v1.0/',
    });
    assert.equal(config.authorityHost, 'https://login.microsoftonline.us');
    assert.equal(config.graphUrl, 'https://graph.microsoft.us');
    const local = loadConnectionConfig({
      ...base,
      AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443',
      USERSYNC_GRAPH_URL: 'https://127.0.0.1:8443',
    });
    assert.equal(local.graphUrl, 'https://127.0.0.1:8443');
    assert.equal(
      loadConnectionConfig({ ...base, AZURE_TENANT_ID: 'contoso.onmicrosoft.com' }).tenantId,
      'contoso.onmicrosoft.com',
    );
  });

  it('names the missing variable and the fix', () => {
    const cases: [Record<string, string | undefined>, string, RegExp][] = [
      [
        { ...base, AZURE_CLIENT_ID: undefined },
        'AZURE_CLIENT_ID',
        /^AZURE_CLIENT_ID is missing: set it to the application \(client\) id of the app registration$/,
      ],
      [
        { ...base, AZURE_TENANT_ID: undefined },
        'AZURE_TENANT_ID',
        /^AZURE_TENANT_ID is missing: set it to the directory \(tenant\) id/,
      ],
      [{ ...base, AZURE_TENANT_ID: ' ' }, 'AZURE_TENANT_ID', /^AZURE_TENANT_ID is empty/],
      [{ ...base, AZURE_TENANT_ID: 'common' }, 'AZURE_TENANT_ID', /cannot be common/],
      [{ ...base, AZURE_CLIENT_ID: 'my app' }, 'AZURE_CLIENT_ID', /must be a GUID/],
      [
        { ...base, AZURE_CLIENT_SECRET: undefined },
        'AZURE_CLIENT_SECRET',
        /AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is missing/,
      ],
      [
        { ...base, AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.com' },
        'AZURE_AUTHORITY_HOST',
        /must use https:\/\//,
      ],
      [
        { ...base, AZURE_AUTHORITY_HOST: `https://login.microsoftonline.com/${TENANT}` },
        'AZURE_AUTHORITY_HOST',
        /host only.*put the tenant in AZURE_TENANT_ID/,
      ],
      [{ ...base, USERSYNC_GRAPH_URL: 'graph.microsoft.com' }, 'USERSYNC_GRAPH_URL', /is not a URL/],
    ];
    for (const [env, variable, message] of cases) {
      const error = configError(env);
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
    }
  });
});

describe('certificate credential', () => {
  let cert: ClientCertificate;
  before(async () => {
    cert = await generateClientCertificate();
  });

  it('reads certificate and key from one PEM, in either order, with both thumbprints', () => {
    for (const content of [cert.certPem + cert.keyPem, cert.keyPem + cert.certPem]) {
      const config = loadConnectionConfig({
        ...base,
        AZURE_CLIENT_SECRET: undefined,
        AZURE_CLIENT_CERTIFICATE_PATH: file('app.pem', content),
      });
      assert.equal(config.credential.kind, 'certificate');
      if (config.credential.kind !== 'certificate') return;
      assert.equal(config.credential.thumbprintSha256, cert.thumbprintSha256);
      assert.equal(config.credential.thumbprintSha1, cert.thumbprintSha1);
      assert.match(config.credential.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
      assert.equal(
        new X509Certificate(config.credential.certificatePem).fingerprint256.replace(/:/g, ''),
        cert.thumbprintSha256,
      );
    }
  });

  it('wins over a secret, with a warning that does not show the secret', () => {
    const config = loadConnectionConfig({
      ...base,
      AZURE_CLIENT_CERTIFICATE_PATH: file('both.pem', cert.certPem + cert.keyPem),
    });
    assert.equal(config.credential.kind, 'certificate');
    assert.deepEqual(config.warnings, [
      'AZURE_CLIENT_SECRET is ignored because AZURE_CLIENT_CERTIFICATE_PATH is set (the certificate is used); unset one of them',
    ]);
  });

  it('accepts PKCS#1 and encrypted keys (with AZURE_CLIENT_CERTIFICATE_PASSWORD), converting to PKCS#8', () => {
    const key = createPrivateKey(cert.keyPem);
    const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }).toString();
    const viaPkcs1 = loadConnectionConfig({
      ...base,
      AZURE_CLIENT_CERTIFICATE_PATH: file('rsa.pem', cert.certPem + pkcs1),
    });
    assert.ok(
      viaPkcs1.credential.kind === 'certificate' &&
        viaPkcs1.credential.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----'),
    );

    const encrypted = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const path = file('enc.pem', cert.certPem + encrypted);
    const ok = loadConnectionConfig({
      ...base,
      AZURE_CLIENT_CERTIFICATE_PATH: path,
      AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pw',
    });
    assert.equal(ok.credential.kind, 'certificate');
    const missing = configError({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: path });
    assert.equal(missing.variable, 'AZURE_CLIENT_CERTIFICATE_PASSWORD');
    assert.match(missing.message, /is encrypted and AZURE_CLIENT_CERTIFICATE_PASSWORD is missing/);
    assert.match(
      configError({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: path, AZURE_CLIENT_CERTIFICATE_PASSWORD: 'wrong' }).message,
      /does not decrypt it/,
    );
  });

  it('explains unusable files', async () => {
    const other = await generateClientCertificate();
    const expired = await generateClientCertificate({
      notBefore: new Date('2020-01-01'),
      notAfter: new Date('2021-01-01'),
    });
    const cases: [string, RegExp][] = [
      [join(dir, 'nope.pem'), /but the file does not exist: set it to a PEM file/],
      [file('only-cert.pem', cert.certPem), /holds no private key: put the certificate and its private key in one PEM/],
      [file('only-key.pem', cert.keyPem), /holds no -----BEGIN CERTIFICATE----- block/],
      [file('mismatch.pem', cert.certPem + other.keyPem), /does not belong to its first certificate/],
      [
        file('expired.pem', expired.certPem + expired.keyPem),
        /expired on 2021-01-01.*upload it to the app registration/,
      ],
    ];
    for (const [path, message] of cases) {
      const error = configError({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: path });
      assert.equal(error.variable, 'AZURE_CLIENT_CERTIFICATE_PATH');
      assert.match(error.message, message);
    }
  });
});

describe('loadStoreConfig', () => {
  it('defaults to the embedded store and passes DATABASE_URL through', () => {
    assert.deepEqual(loadStoreConfig({}), { dataDir: './.usersync', databaseUrl: null });
    assert.deepEqual(
      loadStoreConfig({ USERSYNC_DATA: '/var/lib/usersync', DATABASE_URL: 'postgres://u:p@db/usersync' }),
      { dataDir: '/var/lib/usersync', databaseUrl: 'postgres://u:p@db/usersync' },
    );
    assert.throws(
      () => loadStoreConfig({ DATABASE_URL: 'mysql://x' }),
      (e: ConfigError) => e.variable === 'DATABASE_URL' && !e.message.includes('mysql://x'),
    );
  });
});
