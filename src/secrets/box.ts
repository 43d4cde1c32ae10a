import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsersyncError } from '../core/errors.ts';

// Secrets at rest (client secrets, certificate keys): AES-256-GCM under a 32-byte key from USERSYNC_SECRET_KEY, or from
// the key file `secret.key` in the data folder (created on first start, mode 0600). A sealed value names its key by a
// short id, so a box can hold the current key and the one being rotated to or from, and a wrong key is said plainly.
// The additional data binds a value to its place (a connection's credential), so a value copied elsewhere fails.

export const KEY_FILE = 'secret.key';
const NEXT_KEY_FILE = 'secret.key.next';
const PREVIOUS_KEY_FILE = 'secret.key.previous';
const VERSION = 'v1';

export interface SecretBox {
  /** Where the current key comes from, for messages (never the key). */
  readonly source: string;
  readonly keyId: string;
  seal(plaintext: string, place: string): string;
  open(sealed: string, place: string): string;
}

export class SecretKeyError extends UsersyncError {
  constructor(message: string, hint: string) {
    // The fix is in the message too: the command line prints one line.
    super('secret_key', `${message}: ${hint}`, { hint, context: { field: 'USERSYNC_SECRET_KEY' } });
    this.name = 'SecretKeyError';
  }
}

/** A key's id: 8 characters of its SHA-256, enough to tell keys apart, useless for guessing one. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/** Parses USERSYNC_SECRET_KEY: 32 bytes as base64 (44 characters) or hex (64 characters). */
export function parseKey(text: string, variable = 'USERSYNC_SECRET_KEY'): Buffer {
  const value = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32 || (!/^[0-9a-f]{64}$/i.test(value) && key.toString('base64') !== value))
    throw new SecretKeyError(
      `${variable} is not a 32-byte key`,
      `set ${variable} to 32 random bytes as base64 (for example the output of \`openssl rand -base64 32\`) or as 64 hex digits`,
    );
  return key;
}

export function generateKey(): Buffer {
  return randomBytes(32);
}

/**
 * The box of this process: USERSYNC_SECRET_KEY if set, else the data folder's key file (created now if there is none).
 * Keys being rotated (`secret.key.next`, `secret.key.previous` beside the file) can still open what they sealed.
 */
export function loadSecretBox(options: { env?: Record<string, string | undefined>; dataDir: string }): SecretBox {
  const env = options.env ?? process.env;
  if (env.USERSYNC_SECRET_KEY?.trim()) return boxOf(envKeys(env), 'USERSYNC_SECRET_KEY');
  const load = () => boxOf(fileKeys(options.dataDir), join(options.dataDir, KEY_FILE));
  let box = load();
  // `usersync secrets rotate` may change the key files under a running service: a value sealed with a key this box
  // does not know sends it back to the files once.
  return {
    get source() {
      return box.source;
    },
    get keyId() {
      return box.keyId;
    },
    seal: (plaintext, place) => box.seal(plaintext, place),
    open(sealed, place) {
      try {
        return box.open(sealed, place);
      } catch (error) {
        const id = sealed.split('.')[1];
        if (!(error instanceof SecretKeyError) || id === undefined || id === box.keyId) throw error;
        box = load();
        return box.open(sealed, place);
      }
    },
  };
}

function envKeys(env: Record<string, string | undefined>): Buffer[] {
  const keys = [parseKey(env.USERSYNC_SECRET_KEY!)];
  if (env.USERSYNC_PREVIOUS_SECRET_KEY?.trim())
    keys.push(parseKey(env.USERSYNC_PREVIOUS_SECRET_KEY, 'USERSYNC_PREVIOUS_SECRET_KEY'));
  return keys;
}

function fileKeys(dataDir: string): Buffer[] {
  const keys: Buffer[] = [];
  const path = join(dataDir, KEY_FILE);
  if (!existsSync(path)) writeKeyFile(path, generateKey());
  keys.push(readKeyFile(path));
  for (const extra of [NEXT_KEY_FILE, PREVIOUS_KEY_FILE]) {
    const p = join(dataDir, extra);
    if (existsSync(p)) keys.push(readKeyFile(p));
  }
  return keys;
}

/** A box sealing with the first key and opening with any of them. */
export function boxOf(keys: readonly Buffer[], source: string): SecretBox {
  const byId = new Map(keys.map((k) => [keyIdOf(k), k]));
  const current = keys[0];
  const currentId = keyIdOf(current);
  return {
    source,
    keyId: currentId,
    seal(plaintext, place) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(place));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        VERSION,
        currentId,
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        body.toString('base64url'),
      ].join('.');
    },
    open(sealed, place) {
      const [version, id, iv, tag, body] = sealed.split('.');
      if (version !== VERSION || body === undefined)
        throw new SecretKeyError('a stored secret is not in a form this version reads', 'enter the secret again');
      const key = byId.get(id);
      if (!key)
        throw new SecretKeyError(
          `a stored secret was sealed with another key (id ${id}) than ${source} holds (id ${currentId})`,
          'start usersync with the key the secrets were stored with (restore the key file from your backup, or set USERSYNC_SECRET_KEY to it), or enter the secrets again',
        );
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(place));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretKeyError(
          'a stored secret failed its integrity check (changed in the store, or moved from another row)',
          'enter the secret again',
        );
      }
    },
  };
}

function readKeyFile(path: string): Buffer {
  return parseKey(readFileSync(path, 'utf8'), path);
}

export function writeKeyFile(path: string, key: Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The key files of a rotation in the data folder: where the next key waits, and where the old one is kept. */
export function keyFiles(dataDir: string): { current: string; next: string; previous: string } {
  return {
    current: join(dataDir, KEY_FILE),
    next: join(dataDir, NEXT_KEY_FILE),
    previous: join(dataDir, PREVIOUS_KEY_FILE),
  };
}
