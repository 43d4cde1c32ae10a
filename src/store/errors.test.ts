import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStoreCorrupt, sqliteFailure, StoreError } from './errors.ts';

// node:sqlite failures become StoreErrors that name the file and the fix (issue 8); anything else passes through.

const sqliteError = (errcode: number, message: string) =>
  Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: message });
const FILE = '/srv/usersync/.usersync/usersync.db';

describe('sqliteFailure', () => {
  it('reads corrupt and not-a-database answers, extended codes included, as a damaged store', () => {
    for (const [code, message] of [
      [11, 'database disk image is malformed'],
      [26, 'file is not a database'],
      [11 | (1 << 8), 'database disk image is malformed'],
      [779, 'database disk image is malformed'],
    ] as const) {
      const error = sqliteFailure(sqliteError(code, message), FILE) as StoreError;
      assert.ok(isStoreCorrupt(error), `errcode ${code}`);
      assert.equal(error.context.location, FILE);
      assert.equal(
        error.message,
        `The store ${FILE} is damaged (${message}); usersync refuses to write to it. Restore it from a backup (docs/operations.md, "Restore"), or move it aside together with its -wal and -shm files and run \`usersync sync\`, which rebuilds the directory with a full read.`,
      );
    }
  });

  it('names the user and the permission for read-only and unopenable stores, and says when the disk is full', () => {
    const readonly = sqliteFailure(sqliteError(8, 'attempt to write a readonly database'), FILE) as StoreError;
    assert.equal(readonly.code, 'STORE_READONLY');
    assert.match(
      readonly.message,
      /^The store \/srv\/usersync\/\.usersync\/usersync\.db cannot be written by .+ \(attempt to write a readonly database\): usersync needs write permission on the file and on its folder \/srv\/usersync\/\.usersync /,
    );
    const cannot = sqliteFailure(sqliteError(14, 'unable to open database file'), FILE) as StoreError;
    assert.equal(cannot.code, 'STORE_CANNOT_OPEN');
    assert.match(
      cannot.message,
      /the folder \/srv\/usersync\/\.usersync must exist and be readable and writable by that user/,
    );
    const full = sqliteFailure(sqliteError(13, 'database or disk is full'), FILE) as StoreError;
    assert.equal(full.code, 'STORE_FULL');
    assert.match(full.message, /is full .*free some space/);
  });

  it('leaves other errors as they are', () => {
    const busy = sqliteError(5, 'database is locked');
    assert.equal(sqliteFailure(busy, FILE), busy, 'busy is retried by the lock, not an operator problem');
    const plain = new Error('boom');
    assert.equal(sqliteFailure(plain, FILE), plain);
    const ours = new StoreError('RUN_LOCK_BUSY', 'x');
    assert.equal(sqliteFailure(ours, FILE), ours);
    assert.equal(isStoreCorrupt(plain), false);
  });
});
