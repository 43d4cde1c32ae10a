import { X509Certificate, createHash } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { aad } from './errors.ts';
import type { AadError, EmulatorApp } from './types.ts';

export const jwtBearerAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far an assertion's nbf/exp may be off the emulator's clock. */
const clockSkewSeconds = 300;

/** A registered certificate with its upper-case hex thumbprints. */
type RegisteredCertificate = { cert: X509Certificate; sha1: string; sha256: string };

/**
 * Verifies a certificate credential (RFC 7523 client assertion) the way Entra does:
 * registered thumbprint (`x5t#S256` or `x5t`), RS256/PS256 signature by that certificate's key,
 * `iss` = `sub` = client id, `aud` = one of the token URLs of this tenant, and the time window.
 */
export async function verifyClientAssertion(args: {
  assertion: string;
  clientId: string;
  app: EmulatorApp;
  audiences: readonly string[];
  nowMs: number;
}): Promise<AadError | undefined> {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(args.assertion);
    claims = decodeJwt(args.assertion);
  } catch {
    return aad.malformedAssertion();
  }

  const sha256 = header['x5t#S256'];
  const thumbprint = typeof sha256 === 'string' ? sha256 : header.x5t;
  if (typeof thumbprint !== 'string') return aad.assertionSignature('The key was not found.');
  const clientThumbprint = Buffer.from(thumbprint, 'base64url').toString('hex').toUpperCase();
  const digest = typeof sha256 === 'string' ? 'sha256' : 'sha1';
  const registered = args.app.certificates
    .map((c) => parseCertificate(c.pem))
    .find((c) => c !== undefined && c[digest] === clientThumbprint);
  if (!registered) {
    return aad.assertionSignature(
      `The key was not found., Thumbprint of key used by client: '${clientThumbprint}', ` +
        `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${args.clientId}'.`,
    );
  }
  const foundKey = `Found key 'Start=${usDate(registered.cert.validFrom)}, End=${usDate(registered.cert.validTo)}'`;
  const nowSeconds = Math.floor(args.nowMs / 1000);
  const certValid =
    Date.parse(registered.cert.validFrom) <= args.nowMs && args.nowMs <= Date.parse(registered.cert.validTo);
  if (!certValid) {
    return aad.assertionSignature(
      `The key used is expired., Thumbprint of key used by client: '${clientThumbprint}', ${foundKey}`,
    );
  }

  try {
    await compactVerify(args.assertion, registered.cert.publicKey, { algorithms: ['RS256', 'PS256'] });
  } catch {
    return aad.assertionSignature(
      'The provided signature value did not match the expected signature value., ' +
        `Thumbprint of key used by client: '${clientThumbprint}', ${foundKey}`,
    );
  }

  const clientId = args.clientId.toLowerCase();
  if (claims.iss?.toLowerCase() !== clientId || claims.sub?.toLowerCase() !== clientId) {
    return aad.assertionClientMismatch();
  }
  const audiences = args.audiences.map((a) => a.toLowerCase());
  const claimed = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!claimed.some((a) => typeof a === 'string' && audiences.includes(a.toLowerCase()))) {
    return aad.assertionAudience();
  }
  const { nbf, exp } = claims;
  const early = typeof nbf === 'number' && nbf - clockSkewSeconds > nowSeconds;
  const late = typeof exp !== 'number' || exp + clockSkewSeconds < nowSeconds;
  if (early || late) return aad.assertionTime(nowSeconds, nbf, exp);
  return undefined;
}

function parseCertificate(pem: string): RegisteredCertificate | undefined {
  try {
    const cert = new X509Certificate(pem);
    return {
      cert,
      sha1: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
      sha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(),
    };
  } catch {
    return undefined;
  }
}

/** `10/14/2018 00:00:00`, as Entra prints key validity. */
function usDate(text: string): string {
  const d = new Date(text);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
