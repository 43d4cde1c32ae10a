import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { OpenStoreOptions } from '../../src/store/index.ts';

// Where integration tests keep the directory: a temporary SQLite folder, or a uniquely named PostgreSQL
// database created for the suite and dropped after it.

export const PG_ADMIN_URL = process.env.USERSYNC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type Target = {
  options(): OpenStoreOptions;
  setup(): Promise<void>;
  teardown(): Promise<void>;
};

export function sqliteTarget(): Target {
  let dir = '';
  return {
    options: () => ({ dataDir: dir }),
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'usersync-store-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function postgresTarget(): Target {
  const database = `usersync_test_${randomBytes(5).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  return {
    options: () => ({ databaseUrl: withDatabase(PG_ADMIN_URL, database) }),
    setup: () => admin(`create database ${database}`),
    teardown: () => admin(`drop database if exists ${database} with (force)`),
  };
}

export async function postgresUnreachable(): Promise<string | undefined> {
  // A loaded machine can take seconds to accept a connection: try twice, 10 s each, before skipping the suite.
  let reason = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      reason = (error as Error).message;
    } finally {
      await client.end().catch(() => {});
    }
  }
  return `PostgreSQL unreachable at ${PG_ADMIN_URL} (${reason}); set USERSYNC_TEST_POSTGRES_URL or start the server to run this suite`;
}
