import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import { createConnection, setSchedule } from '../src/connections/connections.ts';
import { createBossRunner } from '../src/jobs/boss.ts';
import { boxOf, parseKey } from '../src/secrets/box.ts';
import { openStore } from '../src/store/index.ts';
import { CLI, rssMb, spawnEmulator, table } from './support.ts';

// `npm run bench -- service`: connections of 1,000 users each (one emulator serving every tenant, in its own process)
// kept in sync every 15 minutes by 2 `usersync worker` processes on PostgreSQL. Phase 1 syncs every connection once
// (full reads, queued at once); phase 2 lets the schedules run for a few minutes and measures runs per minute, how
// late runs start after their scheduled time, and the workers' CPU and memory.

const PG_ADMIN_URL = process.env.USERSYNC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVERY_MINUTES = 15;

export interface ServiceRow {
  phase: string;
  runs: number;
  minutes: number;
  runsPerMinute: number;
  lagP50: string;
  lagP95: string;
  lagMax: string;
  failed: number;
  cpu: string;
  peakRssMb: string;
}

export async function benchService(connections: number, steadyMinutes: number): Promise<ServiceRow[]> {
  const database = `usersync_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${database}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const key = randomBytes(32).toString('base64');
  const emulator = await spawnEmulator([
    '--users',
    '1000',
    '--groups',
    '20',
    '--seed',
    'service',
    '--tenants',
    String(connections),
  ]);
  const tenantIds = (emulator.info as { tenantIds?: string[] }).tenantIds ?? [emulator.info.tenantId];
  const store = await openStore({ databaseUrl });
  const box = boxOf([parseKey(key)], 'bench');
  const workers: ChildProcess[] = [];
  const rows: ServiceRow[] = [];
  try {
    for (let k = 0; k < connections; k++) {
      await createConnection(
        store,
        box,
        {
          id: `tenant-${k}`,
          name: `Tenant ${k}`,
          tenantId: tenantIds[k],
          clientId: emulator.info.clientId,
          clientSecret: emulator.info.clientSecret,
          authorityHost: emulator.info.authorityHost,
          graphUrl: emulator.info.graphUrl,
        },
        'bench',
      );
    }
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      USERSYNC_SECRET_KEY: key,
      NODE_EXTRA_CA_CERTS: emulator.info.ca,
      USERSYNC_LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, [CLI, 'worker'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      workers.push(child);
      await once(child.stdout!, 'data');
    }
    const sampler = sampleWorkers(workers);

    // Phase 1: every connection synced once, all queued at once (a fleet's first day).
    const queue = await createBossRunner(
      { store, box, logger: pino({ level: 'silent' }), graphFor: () => null as never },
      { databaseUrl, concurrency: 0 },
    );
    const phase1Start = Date.now();
    for (let k = 0; k < connections; k++) await queue.enqueue(`tenant-${k}`, { trigger: 'api', requestedBy: 'bench' });
    await waitUntil(async () => (await count(store, `status in ('queued', 'running')`)) === 0, 60 * 60_000);
    const phase1Minutes = (Date.now() - phase1Start) / 60_000;
    rows.push(
      await row(
        store,
        'first sync of every connection (full reads)',
        `trigger = 'api'`,
        phase1Minutes,
        sampler.take(),
        false,
      ),
    );

    // Phase 2: schedules every 15 minutes, starting now, spread evenly over the 15 minutes.
    const now = new Date();
    const first = new Date(Math.ceil(now.getTime() / 60_000) * 60_000 + 60_000);
    for (let k = 0; k < connections; k++) {
      const at = new Date(first.getTime() + (k % EVERY_MINUTES) * 60_000);
      await setSchedule(
        store,
        `tenant-${k}`,
        {
          enabled: true,
          every: { value: EVERY_MINUTES, unit: 'minutes' },
          startAt: at.toISOString().slice(0, 16),
          timeZone: 'UTC',
        },
        'bench',
      );
    }
    // The window: whole minutes from the first scheduled time; runs due in it are counted once they had time to end.
    await new Promise((r) => setTimeout(r, first.getTime() - Date.now()));
    sampler.take();
    const windowEnd = new Date(first.getTime() + steadyMinutes * 60_000);
    await new Promise((r) => setTimeout(r, windowEnd.getTime() - Date.now()));
    const usage = sampler.take();
    await new Promise((r) => setTimeout(r, 30_000));
    rows.push(
      await row(
        store,
        `every ${EVERY_MINUTES} minutes (${steadyMinutes} minutes measured)`,
        `trigger = 'schedule' and queued_at >= '${first.toISOString()}' and queued_at < '${windowEnd.toISOString()}'`,
        steadyMinutes,
        usage,
        true,
        Math.round((connections / EVERY_MINUTES) * steadyMinutes),
      ),
    );
    sampler.stop();
    await queue.close();
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode === null ? once(w, 'exit') : null)));
    await store.close();
    await emulator.stop();
    await admin(`drop database if exists ${database} with (force)`);
  }
  return rows;
}

async function count(store: Awaited<ReturnType<typeof openStore>>, where: string): Promise<number> {
  const { sql } = await import('kysely');
  const r = await sql<{ n: string }>`select count(*) as n from runs where ${sql.raw(where)}`.execute(store.db);
  return Number(r.rows[0].n);
}

async function row(
  store: Awaited<ReturnType<typeof openStore>>,
  phase: string,
  where: string,
  minutes: number,
  usage: { cpu: string; peakRssMb: string },
  scheduled: boolean,
  expected?: number,
): Promise<ServiceRow> {
  const { sql } = await import('kysely');
  const runs = (
    await sql<{
      queued_at: string;
      started_at: string | null;
      status: string;
    }>`select queued_at, started_at, status from runs where ${sql.raw(where)}`.execute(store.db)
  ).rows;
  // A scheduled run is due on a whole minute (startAt is minute-aligned): its lag is start minus that minute.
  const lags = runs
    .filter((r) => r.started_at && r.queued_at)
    .map((r) => {
      const queued = Date.parse(r.queued_at);
      const due = scheduled ? Math.floor(queued / 60_000) * 60_000 : queued;
      return (Date.parse(r.started_at!) - due) / 1000;
    })
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    lags.length ? `${lags[Math.min(lags.length - 1, Math.floor(p * lags.length))].toFixed(1)} s` : '-';
  return {
    phase,
    runs: runs.length,
    minutes: Math.round(minutes * 10) / 10,
    runsPerMinute: Math.round((runs.length / minutes) * 10) / 10,
    lagP50: pct(0.5),
    lagP95: pct(0.95),
    lagMax: lags.length ? `${lags[lags.length - 1].toFixed(1)} s` : '-',
    failed: runs.filter((r) => r.status !== 'succeeded').length,
    cpu: usage.cpu,
    peakRssMb: usage.peakRssMb + (expected !== undefined ? ` (expected ~${expected} runs)` : ''),
  };
}

/** CPU (share of one core, both workers together) and peak RSS of the workers since the last take(). */
function sampleWorkers(workers: ChildProcess[]) {
  const ticks = () => workers.reduce((sum, w) => sum + cpuTicks(w.pid!), 0);
  let since = Date.now();
  let startTicks = ticks();
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, ...workers.map((w) => rssMb(w.pid!)));
    } catch {
      /* a worker is gone */
    }
  }, 2000);
  return {
    take() {
      const seconds = (Date.now() - since) / 1000;
      const used = (ticks() - startTicks) / 100;
      const out = { cpu: `${Math.round((used / seconds) * 100)}% of a core`, peakRssMb: String(Math.round(peak)) };
      since = Date.now();
      startTicks = ticks();
      peak = 0;
      return out;
    },
    stop: () => clearInterval(timer),
  };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the bench timed out waiting for the runs');
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export function serviceTable(rows: ServiceRow[]): string {
  return table(
    rows.map((r) => ({
      phase: r.phase,
      runs: r.runs,
      minutes: r.minutes,
      'runs/min': r.runsPerMinute,
      'lag p50': r.lagP50,
      'lag p95': r.lagP95,
      'lag max': r.lagMax,
      'not succeeded': r.failed,
      'workers CPU': r.cpu,
      'worker peak RSS MB': r.peakRssMb,
    })),
  );
}
