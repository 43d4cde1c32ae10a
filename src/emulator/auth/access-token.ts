import { createHash, generateKeyPair, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/** The emulator's own token-signing key; its public half is served as JWKS. */
export type TokenSigner = {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwks: { keys: Record<string, unknown>[] };
};

export type AccessTokenClaims = {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  app_displayname: string;
  appid: string;
  /** `1` = client secret, `2` = certificate. */
  appidacr: '1' | '2';
  idp: string;
  idtyp: 'app';
  oid: string;
  roles?: string[];
  sub: string;
  tid: string;
  uti: string;
  ver: '1.0';
};

export type AccessTokenCheck =
  | { ok: true; tenantId: string; appId: string; roles: string[]; claims: AccessTokenClaims }
  | { ok: false; message: string };

/** Messages Graph puts in its 401 InvalidAuthenticationToken errors (sources in docs/emulator.md, §4.4). */
export const accessTokenMessages = {
  empty: 'Access token is empty.',
  expired: 'Lifetime validation failed, the token is expired.',
  notYetValid: 'Access token has expired or is not yet valid.',
  noDots:
    "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.",
  unparseable: 'CompactToken parsing failed with error code: 80049217',
  badSignature: 'Signature is invalid.',
  badAudience: 'Access token validation failure. Invalid audience.',
} as const;

const generateRsaKeyPair = promisify(generateKeyPair);

export async function createTokenSigner(): Promise<TokenSigner> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // Entra's kid is the key's base64url SHA-1 thumbprint, also sent as x5t.
  const kid = createHash('sha1').update(spki).digest('base64url');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    publicKey,
    jwks: { keys: [{ kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e }] },
  };
}

/** Issuer of Graph app-only tokens (v1.0 tokens, whatever endpoint issued them). */
export function accessTokenIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** The service principal object id of an app in a tenant, stable so that Graph can show the same id. */
export function servicePrincipalObjectId(tenantId: string, clientId: string): string {
  const hex = createHash('sha256').update(`${tenantId.toLowerCase()}/${clientId.toLowerCase()}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

export function mintAccessToken(signer: TokenSigner, claims: AccessTokenClaims): string {
  return signJwt(signer, claims);
}

/** A JWT signed RS256 with the emulator's key (access tokens, and ID tokens of users signing in). */
export function signJwt(signer: TokenSigner, claims: object): string {
  const header = { typ: 'JWT', alg: 'RS256', x5t: signer.kid, kid: signer.kid };
  const signingInput = `${base64urlJson(header)}.${base64urlJson(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), signer.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Checks the `Authorization` header of a Graph request the way Graph does, in the same order:
 * presence, compact-JWT shape, signature, lifetime (no clock skew: the emulator owns both clocks),
 * then audience when `audiences` is given.
 */
export function verifyAccessToken(
  signer: TokenSigner,
  authorization: string | null | undefined,
  now: number = Date.now(),
  opts: { audiences?: readonly string[] } = {},
): AccessTokenCheck {
  const token = bearerToken(authorization);
  if (!token) return { ok: false, message: accessTokenMessages.empty };

  const parts = token.split('.');
  if (parts.length === 1) return { ok: false, message: accessTokenMessages.noDots };
  if (parts.length !== 3) return { ok: false, message: accessTokenMessages.unparseable };
  const header = parseJsonPart(parts[0]);
  const claims = parseJsonPart(parts[1]);
  if (!header || !claims) return { ok: false, message: accessTokenMessages.unparseable };

  const signatureValid =
    header.alg === 'RS256' &&
    verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), signer.publicKey, Buffer.from(parts[2], 'base64url'));
  if (!signatureValid) return { ok: false, message: accessTokenMessages.badSignature };

  const nowSeconds = now / 1000;
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || exp <= nowSeconds) return { ok: false, message: accessTokenMessages.expired };
  if (typeof nbf === 'number' && nbf > nowSeconds) return { ok: false, message: accessTokenMessages.notYetValid };
  const typed = claims as AccessTokenClaims;
  if (opts.audiences && !opts.audiences.includes(typed.aud)) {
    return { ok: false, message: accessTokenMessages.badAudience };
  }
  return { ok: true, tenantId: typed.tid, appId: typed.appid, roles: typed.roles ?? [], claims: typed };
}

function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^\s*bearer\s+(\S.*?)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
