import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { UsersyncError } from '../core/errors.ts';

// Admin passwords (scrypt, Node's own, with a per-password salt and the cost stored beside the hash) and the random
// tokens of sessions, API tokens and sign-in links (stored as SHA-256 hashes: a stolen store grants nothing).

const COST = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 12;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** A password fit for an admin: long enough, and not only spaces. The error names the field and the rule. */
export function checkPassword(password: string, field = 'password'): void {
  if (password.trim().length < MIN_PASSWORD_LENGTH)
    throw new UsersyncError('invalid_password', `${field} must be at least ${MIN_PASSWORD_LENGTH} characters`, {
      hint: 'choose a longer password (a passphrase of a few words works well)',
      context: { field },
    });
}

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Without a stored hash the same work is done, so timing does not tell which accounts have a password.
  const [scheme, n, r, p, salt, hash] = (stored ?? `scrypt$${COST.N}$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`).split(
    '$',
  );
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: COST.maxmem,
  });
  return stored !== null && key.length === expected.length && timingSafeEqual(key, expected);
}

/** A new random token with a readable prefix (`usy_` API tokens, `uss_` sessions, `usl_` sign-in links, `usc_` setup codes). */
export function newToken(prefix: 'usy' | 'uss' | 'usl' | 'usc' | 'csrf'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two strings in constant time (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
