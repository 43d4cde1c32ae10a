import { createHash, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as X509 from '@peculiar/x509';

export type TlsMaterial = {
  /** PEM of the certificate clients must trust (NODE_EXTRA_CA_CERTS). */
  caPem: string;
  certPem: string;
  keyPem: string;
};

export type ClientCertificate = {
  certPem: string;
  /** PKCS#8 PEM, as msal-node's `clientCertificate.privateKey` expects. */
  keyPem: string;
  /** Hex SHA-1 / SHA-256 of the DER, as msal-node's `thumbprint` / `thumbprintSha256` expect. */
  thumbprintSha1: string;
  thumbprintSha256: string;
};

// ECDSA P-256 for TLS: generated in milliseconds and accepted by Node, browsers and curl alike.
const tlsKeyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const tlsSigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
// Entra only takes RSA certificates as app credentials.
const rsaKeyAlgorithm = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;
const day = 24 * 60 * 60 * 1000;

/** A fresh throwaway CA and a server certificate it signed, for localhost, 127.0.0.1 and ::1. */
export async function generateTls(now: Date = new Date()): Promise<TlsMaterial> {
  const x509 = await loadX509();
  const notBefore = new Date(now.getTime() - day);
  const notAfter = new Date(now.getTime() + 365 * day);

  const caKeys = await webcrypto.subtle.generateKey(tlsKeyAlgorithm, true, ['sign', 'verify']);
  const caName = 'CN=usersync emulator CA, O=usersync';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: tlsSigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = await webcrypto.subtle.generateKey(tlsKeyAlgorithm, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost',
    issuer: caName,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: tlsSigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    caPem: ca.toString('pem') + '\n',
    certPem: server.toString('pem') + '\n',
    keyPem: await privateKeyPem(x509, serverKeys.privateKey),
  };
}

/** A self-signed RSA certificate for an app registration's certificate credential. */
export async function generateClientCertificate(
  opts: { subject?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<ClientCertificate> {
  const x509 = await loadX509();
  const now = Date.now();
  const keys = await webcrypto.subtle.generateKey(rsaKeyAlgorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: opts.subject ?? 'CN=usersync',
    notBefore: opts.notBefore ?? new Date(now - day),
    notAfter: opts.notAfter ?? new Date(now + 365 * day),
    keys,
    signingAlgorithm: rsaKeyAlgorithm,
  });
  const der = Buffer.from(cert.rawData);
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: await privateKeyPem(x509, keys.privateKey),
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/**
 * TLS material from files (`--cert/--key/--ca`). Without a CA file the certificate is
 * taken to be self-signed, so it is also what clients must trust.
 */
export async function loadTls(paths: { cert: string; key: string; ca?: string }): Promise<TlsMaterial> {
  const [certPem, keyPem, caPem] = await Promise.all([
    readFile(paths.cert, 'utf8'),
    readFile(paths.key, 'utf8'),
    paths.ca === undefined ? undefined : readFile(paths.ca, 'utf8'),
  ]);
  return { certPem, keyPem, caPem: caPem ?? certPem };
}

let x509Module: Promise<typeof X509> | undefined;

// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill loaded first.
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return x509Module;
}

async function privateKeyPem(x509: typeof X509, key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n';
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // a positive DER integer without a leading zero byte
  return Buffer.from(bytes).toString('hex');
}
