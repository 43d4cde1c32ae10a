import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { boxOf, generateKey, keyFiles, loadSecretBox, parseKey, writeKeyFile } from './box.ts';

test('a sealed secret opens with its key, in its place only, and says which key it needs', () => {
  const box = boxOf([generateKey()], 'test');
  const sealed = box.seal('s3cret value', 'connection:a');
  assert.ok(!sealed.includes('s3cret'));
  assert.equal(box.open(sealed, 'connection:a'), 's3cret value');
  assert.notEqual(box.seal('s3cret value', 'connection:a'), sealed, 'a fresh IV each time');
  assert.throws(
    () => box.open(sealed, 'connection:b'),
    /failed its integrity check \(changed in the store, or moved from another row\)/,
  );
  const other = boxOf([generateKey()], 'USERSYNC_SECRET_KEY');
  assert.throws(
    () => other.open(sealed, 'connection:a'),
    /sealed with another key \(id \S+\) than USERSYNC_SECRET_KEY holds/,
  );
  // A box holding a new key and the old one (a rotation) opens values of both, and seals with the new one.
  const key = generateKey();
  const oldKey = generateKey();
  const before = boxOf([oldKey], 'old').seal('v', 'p');
  const rotating = boxOf([key, oldKey], 'rotating');
  assert.equal(rotating.open(before, 'p'), 'v');
  assert.throws(() => boxOf([oldKey], 'old').open(rotating.seal('v', 'p'), 'p'), /another key/);
});

test('USERSYNC_SECRET_KEY must be 32 bytes, as base64 or hex', () => {
  const key = generateKey();
  assert.deepEqual(parseKey(key.toString('base64')), key);
  assert.deepEqual(parseKey(key.toString('hex')), key);
  assert.throws(() => parseKey('too short'), /USERSYNC_SECRET_KEY is not a 32-byte key/);
  assert.throws(() => parseKey(generateKey().subarray(0, 16).toString('base64')), /openssl rand -base64 32/);
});

test('the key file is made on first use with mode 0600; a rotated key is picked up by a running box', () => {
  const dir = mkdtempSync(join(tmpdir(), 'usersync-box-'));
  try {
    const box = loadSecretBox({ dataDir: dir, env: {} });
    const files = keyFiles(dir);
    assert.equal(statSync(files.current).mode & 0o777, 0o600);
    const old = box.seal('value', 'p');
    // What `usersync secrets rotate` does to the files, behind the running box's back.
    const next = generateKey();
    const rotated = boxOf([next], 'new').seal('value', 'p');
    const previous = readFileSync(files.current, 'utf8');
    writeKeyFile(files.previous, parseKey(previous));
    writeKeyFile(files.current, next);
    assert.equal(box.open(rotated, 'p'), 'value', 'the box reads the new key file');
    assert.equal(box.open(old, 'p'), 'value', 'and still opens values of the previous key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
