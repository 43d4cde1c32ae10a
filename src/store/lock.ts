import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresConnectionString, type Store } from './db.ts';
import { StoreError } from './errors.ts';
import type { LockRow } from './schema.ts';

// One run per connection at a time, across processes.
// PostgreSQL: a session advisory lock on a dedicated connection, freed by the server when
// that session ends (process killed included). SQLite: a row in `locks`, taken inside a
// `begin immediate` transaction, kept alive by a heartbeat; a row whose heartbeat is old,
// or whose process on this host is gone, is stale and taken over.

export type RunLockHolder = {
  pid: number | null;
  host: string | null;
  since: string | null;
  heartbeatAt: string | null;
};

export type AcquireRunLockOptions = {
  /** How long to wait for the current holder; 0 (default) tries once. */
  waitMs?: number;
  /** Called when the lock is busy and we start waiting (and again if the holder changes). */
  onWait?: (holder: RunLockHolder) => void;
  pollMs?: number;
  /** SQLite: a heartbeat older than this marks the lock stale (default 30 s). */
  staleMs?: number;
  /** SQLite: how often the holder refreshes its heartbeat (default 5 s). */
  heartbeatMs?: number;
};

export type RunLock = {
  release(): Promise<void>;
  /** Aborted if the lock is lost while held (taken over after a stall, or the PostgreSQL session died). */
  signal: AbortSignal;
};

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 5_000;
const DEFAULT_POLL_MS = 250;

export function runLockName(connectionId: string): string {
  return `run:${connectionId}`;
}

/** The 64-bit advisory lock key of a connection's run lock on PostgreSQL. */
export function advisoryLockKey(connectionId: string): string {
  return createHash('sha256').update(`usersync:${connectionId}`).digest().readBigInt64BE(0).toString();
}

export async function acquireRunLock(
  store: Store,
  connectionId: string,
  options: AcquireRunLockOptions = {},
): Promise<RunLock> {
  return store.dialect === 'postgres'
    ? acquirePostgres(store, connectionId, options)
    : acquireSqlite(store, connectionId, options);
}

type Attempt = { acquired: true } | { acquired: false; holder: RunLockHolder | null };

async function waitFor(
  connectionId: string,
  options: AcquireRunLockOptions,
  attempt: () => Promise<Attempt>,
  howItFrees: string,
): Promise<void> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let reported: string | undefined;
  let last: RunLockHolder | null = null;
  for (;;) {
    const result = await attempt();
    if (result.acquired) return;
    last = result.holder ?? last;
    // The same holder (pid, host, start) is reported once; its heartbeat moving is not news.
    const key = last ? JSON.stringify([last.pid, last.host, last.since]) : undefined;
    if (last && key !== reported) {
      reported = key;
      options.onWait?.(last);
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(options.pollMs ?? DEFAULT_POLL_MS, left));
  }
  const who = last
    ? `pid ${last.pid ?? '?'} on host ${last.host ?? '?'} since ${last.since ?? '?'}`
    : 'another process';
  const waited = options.waitMs ? ` (waited ${Math.round(options.waitMs / 1000)} s)` : '';
  throw new StoreError(
    'RUN_LOCK_BUSY',
    `Another usersync run of connection "${connectionId}" is in progress: ${who}${waited}. Wait for it to finish and try again, or stop that process; ${howItFrees}`,
    { connectionId, holder: last },
  );
}

// --- SQLite -------------------------------------------------------------------------

async function acquireSqlite(store: Store, connectionId: string, options: AcquireRunLockOptions): Promise<RunLock> {
  const name = runLockName(connectionId);
  const owner = randomUUID();
  const host = hostname();
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;

  const attempt = async (): Promise<Attempt> => {
    try {
      return await store.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('locks').selectAll().where('name', '=', name).executeTakeFirst();
        const now = new Date();
        if (row && !isStale(row, now, staleMs)) return { acquired: false, holder: holderOf(row) };
        const at = now.toISOString();
        const values = { name, owner, pid: process.pid, host, acquired_at: at, heartbeat_at: at };
        await trx
          .insertInto('locks')
          .values(values)
          .onConflict((oc) => oc.column('name').doUpdateSet(values))
          .execute();
        return { acquired: true } as const;
      });
    } catch (error) {
      // Another process kept the write lock past busy_timeout: busy, try again later.
      if (isSqliteBusy(error)) return { acquired: false, holder: null };
      throw error;
    }
  };

  await waitFor(
    connectionId,
    options,
    attempt,
    `a crashed run's lock is taken over automatically (at once on the same host, otherwise after ${Math.round(staleMs / 1000)} s without a heartbeat).`,
  );

  const controller = new AbortController();
  let beat: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (beat) return;
    beat = heartbeat().finally(() => {
      beat = undefined;
    });
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  timer.unref();

  async function heartbeat(): Promise<void> {
    try {
      const result = await store.db
        .updateTable('locks')
        .set({ heartbeat_at: new Date().toISOString() })
        .where('name', '=', name)
        .where('owner', '=', owner)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        clearInterval(timer);
        controller.abort(
          new Error(
            `The run lock of connection "${connectionId}" was taken over by another process after this run stalled.`,
          ),
        );
      }
    } catch {
      // Busy or closing: the next beat retries; staleness needs many missed beats.
    }
  }

  let released = false;
  return {
    signal: controller.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beat;
      await store.db.deleteFrom('locks').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}

function isStale(row: LockRow, now: Date, staleMs: number): boolean {
  const heartbeat = Date.parse(row.heartbeat_at);
  if (!Number.isFinite(heartbeat) || now.getTime() - heartbeat > staleMs) return true;
  return row.host === hostname() && !isProcessAlive(Number(row.pid));
}

function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isSqliteBusy(error: unknown): boolean {
  const e = error as { errcode?: number; message?: string };
  return e?.errcode === 5 || e?.errcode === 6 || /database is locked|SQLITE_BUSY/i.test(e?.message ?? '');
}

function holderOf(row: LockRow): RunLockHolder {
  return {
    pid: row.pid === null ? null : Number(row.pid),
    host: row.host,
    since: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
  };
}

// --- PostgreSQL ---------------------------------------------------------------------

async function acquirePostgres(store: Store, connectionId: string, options: AcquireRunLockOptions): Promise<RunLock> {
  const name = runLockName(connectionId);
  const key = advisoryLockKey(connectionId);
  const owner = randomUUID();
  const controller = new AbortController();
  let released = false;

  // A session of its own: the advisory lock lives exactly as long as this session.
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: postgresConnectionString(store),
    application_name: `usersync run lock ${connectionId}`.slice(0, 63),
  });
  const lost = (reason: string) => {
    if (!released && !controller.signal.aborted) {
      controller.abort(new Error(`The run lock of connection "${connectionId}" was lost: ${reason}.`));
    }
  };
  client.on('error', (error) => lost(`its PostgreSQL session failed (${error.message})`));
  client.on('end', () => lost('its PostgreSQL session ended'));
  await client.connect();

  const attempt = async (): Promise<Attempt> => {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [key]);
    if (rows[0].ok) return { acquired: true };
    const info = await client.query<LockRow>('select * from locks where name = $1', [name]);
    return { acquired: false, holder: info.rows[0] ? holderOf(info.rows[0]) : null };
  };

  try {
    await waitFor(connectionId, options, attempt, 'the lock is freed as soon as its database session ends.');
    // Who holds it, for the next waiter's message; the advisory lock is what counts.
    const at = new Date().toISOString();
    await client.query(
      `insert into locks (name, owner, pid, host, acquired_at, heartbeat_at) values ($1, $2, $3, $4, $5, $5)
       on conflict (name) do update set owner = excluded.owner, pid = excluded.pid, host = excluded.host,
         acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
      [name, owner, process.pid, hostname(), at],
    );
  } catch (error) {
    released = true;
    await client.end().catch(() => {});
    throw error;
  }

  return {
    signal: controller.signal,
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('delete from locks where name = $1 and owner = $2', [name, owner]);
        await client.query('select pg_advisory_unlock($1::bigint)', [key]);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
