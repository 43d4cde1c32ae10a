import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { UsersyncError } from '../core/errors.ts';

// A store failure a person can act on: what failed, why, and what to do next.
export type StoreErrorCode =
  | 'STORE_UNREACHABLE'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_MISSING' // a read command on a folder or database with no directory yet
  | 'STORE_NOT_A_FOLDER' // USERSYNC_DATA names a file
  | 'STORE_CORRUPT' // SQLITE_CORRUPT / SQLITE_NOTADB, or the run-start check failed
  | 'STORE_READONLY' // SQLITE_READONLY: the process may read but not write
  | 'STORE_CANNOT_OPEN' // SQLITE_CANTOPEN, or the folder cannot be created
  | 'STORE_FULL' // SQLITE_FULL: the disk is full
  | 'RUN_LOCK_BUSY';

export class StoreError extends UsersyncError {
  declare readonly code: StoreErrorCode;

  constructor(
    code: StoreErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, {
      context: { ...(typeof context.location === 'string' ? { object: context.location } : {}), ...context },
      cause: options?.cause,
    });
    this.name = 'StoreError';
  }
}

/** The store file is damaged: nothing may be written to it. */
export function isStoreCorrupt(error: unknown): boolean {
  return error instanceof StoreError && error.code === 'STORE_CORRUPT';
}

/** `root (uid 0)`: who the process runs as, for permission advice. */
export function processUser(): string {
  const uid = process.getuid?.();
  try {
    return `${userInfo().username}${uid === undefined ? '' : ` (uid ${uid})`}`;
  } catch {
    return uid === undefined ? 'this user' : `uid ${uid}`;
  }
}

/** What to do about a damaged SQLite store; docs/operations.md says the same at length. */
export function corruptStoreError(file: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    'STORE_CORRUPT',
    `The store ${file} is damaged (${detail}); usersync refuses to write to it. Restore it from a backup (docs/operations.md, "Restore"), ` +
      `or move it aside together with its -wal and -shm files and run \`usersync sync\`, which rebuilds the directory with a full read.`,
    { location: file, detail },
    cause === undefined ? undefined : { cause },
  );
}

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_READONLY = 8;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** Translates a node:sqlite failure on `file` into a StoreError that says what to do; other errors are returned as they are. */
export function sqliteFailure(error: unknown, file: string): unknown {
  if (error instanceof StoreError) return error;
  const e = error as { errcode?: unknown; message?: unknown };
  if (typeof e?.errcode !== 'number') return error;
  const reason = typeof e.message === 'string' ? e.message : String(error);
  const folder = dirname(file);
  switch (e.errcode & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return corruptStoreError(file, reason, error);
    case SQLITE_READONLY:
      return new StoreError(
        'STORE_READONLY',
        `The store ${file} cannot be written by ${processUser()} (${reason}): usersync needs write permission on the file and on its folder ${folder} ` +
          '(it keeps -wal and -shm files beside it). Give that user write permission on both, or run usersync as the user that owns them.',
        { location: file },
        { cause: error },
      );
    case SQLITE_CANTOPEN:
      return new StoreError(
        'STORE_CANNOT_OPEN',
        `The store ${file} cannot be opened by ${processUser()} (${reason}): the folder ${folder} must exist and be readable and writable by that user, ` +
          'and so must the file if it exists. Fix the permissions, or point USERSYNC_DATA at a folder that user can write.',
        { location: file },
        { cause: error },
      );
    case SQLITE_FULL:
      return new StoreError(
        'STORE_FULL',
        `The disk holding the store ${file} is full (${reason}): free some space and run again; nothing of the failed step was kept.`,
        { location: file },
        { cause: error },
      );
    default:
      return error;
  }
}
