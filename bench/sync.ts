import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { openStore, saveSettings } from '../src/store/index.ts';
import type { SyncSummary } from '../src/sync/run.ts';
import { graphToken, spawnEmulator, type EmulatorProcess } from './support.ts';

// Sync bench: the emulator in its own process, each sync in its own process (like the CLI), an empty
// SQLite store. The lower bound is what the APIs allow at best: every delta page the service chooses to
// send, and one $batch item per user whose photo must be read (20 per request).

const WORKER = fileURLToPath(new URL('./sync-worker.ts', import.meta.url));
const DELTA_PAGE = 200;
const MEMBERS_PER_PAGE = 1000;
const BATCH = 20;

export interface SyncRow {
  scenario: string;
  seconds: number;
  graphRequests: number;
  lowerBound: number;
  ratio: number;
  peakRssMb: number;
  summary: SyncSummary;
}

async function runWorker(
  emulator: EmulatorProcess,
  dataDir: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ summary: SyncSummary; maxRssMb: number; seconds: number }> {
  const { info } = emulator;
  const env = {
    MALLOC_ARENA_MAX: '2',
    ...process.env,
    AZURE_AUTHORITY_HOST: info.authorityHost,
    USERSYNC_GRAPH_URL: info.graphUrl,
    AZURE_TENANT_ID: info.tenantId,
    AZURE_CLIENT_ID: info.clientId,
    AZURE_CLIENT_SECRET: info.clientSecret,
    NODE_EXTRA_CA_CERTS: info.ca,
    USERSYNC_DATA: dataDir,
    ...extraEnv,
  };
  delete (env as NodeJS.ProcessEnv).DATABASE_URL;
  const started = performance.now();
  // The same V8 flags as bin/usersync.js gives the CLI.
  const child = spawn(process.execPath, ['--max-semi-space-size=2', '--max-old-space-size=256', WORKER, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`sync worker exited with ${code}`);
  return { ...JSON.parse(out.trim().split('\n').pop()!), seconds: (performance.now() - started) / 1000 };
}

async function control(emulator: EmulatorProcess, path: string, body: unknown, method = 'POST'): Promise<any> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(emulator.info.ca, 'utf8') } });
  try {
    const res = await fetch(`${emulator.info.graphUrl}/_emulator${path}`, {
      method,
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  } finally {
    await dispatcher.close();
  }
}

/** Full sync of a fresh tenant; with `changes`, then that many user changes and an incremental sync. */
export async function benchSync(users: number, changes = 0): Promise<SyncRow[]> {
  const groups = Math.round(users * 0.02);
  const emulator = await spawnEmulator([
    '--users',
    String(users),
    '--groups',
    String(groups),
    '--seed',
    'bench',
    '--delta-page-size',
    String(DELTA_PAGE),
    '--members-per-page',
    String(MEMBERS_PER_PAGE),
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'usersync-bench-'));
  try {
    const full = await runWorker(emulator, dataDir, []);
    const memberships = Math.round(users * 3); // the generator's average; only used for the groups-page bound
    const fullBound =
      Math.ceil(users / DELTA_PAGE) +
      Math.max(Math.ceil(groups / DELTA_PAGE), Math.ceil(memberships / MEMBERS_PER_PAGE)) +
      Math.ceil(users / BATCH);
    const rows: SyncRow[] = [row(`full, ${users.toLocaleString('en')} users`, full, fullBound)];
    if (changes > 0) {
      // `changes` distinct users (7919 is prime, so the indices don't repeat), a tenth of them moving department.
      const ids = await userIds(emulator, users);
      const script = Array.from({ length: changes }, (_, k) => ({
        op: 'updateUser',
        id: ids[(k * 7919) % users],
        patch:
          k % 10 === 0
            ? { jobTitle: `Bench title ${k}`, department: `Bench department ${k % 50}` }
            : { jobTitle: `Bench title ${k}` },
      }));
      for (let i = 0; i < script.length; i += 500)
        await control(emulator, '/script', { changes: script.slice(i, i + 500) });
      const delta = await runWorker(emulator, dataDir, []);
      const deltaBound = Math.ceil(changes / DELTA_PAGE) + 1;
      rows.push(
        row(`incremental, ${changes.toLocaleString('en')} changes in ${users.toLocaleString('en')}`, delta, deltaBound),
      );
    }
    return rows;
  } finally {
    await emulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A throttling storm: the same full read of a fresh tenant, calm and then with 25 % of requests (and of $batch items) answered
 * 429 with Retry-After 1 s, 5 % 503. It converges either way; the storm row shows what honouring Graph's waits costs.
 */
export async function benchStorm(users = 3000): Promise<SyncRow[]> {
  const emulator = await spawnEmulator([
    '--users',
    String(users),
    '--seed',
    'storm',
    '--delta-page-size',
    String(DELTA_PAGE),
  ]);
  const rows: SyncRow[] = [];
  try {
    for (const storm of [false, true]) {
      const dataDir = mkdtempSync(join(tmpdir(), 'usersync-bench-'));
      try {
        if (storm)
          await control(
            emulator,
            '/faults',
            { throttleRatio: 0.25, throttleRetryAfterSeconds: 1, unavailableRatio: 0.05 },
            'PUT',
          );
        const run = await runWorker(emulator, dataDir, []);
        rows.push(
          row(
            `full, ${users.toLocaleString('en')} users, ${storm ? '25 % 429 (Retry-After 1 s) + 5 % 503' : 'no faults'}`,
            run,
            Math.ceil(users / DELTA_PAGE) + 1 + Math.ceil(users / BATCH),
          ),
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    return rows;
  } finally {
    await emulator.stop();
  }
}

/**
 * Group-scoped reading: a tenant of `users` whose scope is one group of 900 direct members and a nested group of 100
 * (1,000 users). The first sync reads only those; a run without changes, and one where a user joins the nested group,
 * follow. Photos are swept daily here (USERSYNC_PHOTO_SWEEP_HOURS=24), so runs after the first count only change reads.
 */
export async function benchScope(users = 1_000_000): Promise<SyncRow[]> {
  const emulator = await spawnEmulator(['--users', String(users), '--groups', '20', '--seed', 'scope']);
  const dataDir = mkdtempSync(join(tmpdir(), 'usersync-bench-'));
  const env = { USERSYNC_PHOTO_SWEEP_HOURS: '24' };
  try {
    const ids = await userIds(emulator, 1_100);
    const created = await control(emulator, '/script', {
      changes: [
        { op: 'createGroup', as: 'nested', displayName: 'Bench Scope Nested', members: ids.slice(900, 1000) },
        { op: 'createGroup', as: 'scope', displayName: 'Bench Scope', members: [...ids.slice(0, 900), '$nested'] },
      ],
    });
    const nestedId = created.results[0].result.id as string;
    const scopeId = created.results[1].result.id as string;
    const store = await openStore({ dataDir });
    try {
      await saveSettings(store.db, 'default', { scope: { groups: [scopeId] } }, 'bench');
    } finally {
      await store.close();
    }
    const label = `${users.toLocaleString('en')} users, scope 1 group of 1,000 (100 nested)`;
    const full = await runWorker(emulator, dataDir, [], env);
    // users latest + nested groups + groups latest + one $batch of groups + $count + one $batch of users, and the photos
    const rows = [row(`scoped full, ${label}`, full, 6 + Math.ceil(1000 / BATCH))];
    rows.push(row(`scoped, no change`, await runWorker(emulator, dataDir, [], env), 2));
    await control(emulator, '/script', { changes: [{ op: 'addMember', groupId: nestedId, memberId: ids[1050] }] });
    rows.push(row(`scoped, a user joins the nested group`, await runWorker(emulator, dataDir, [], env), 4));
    return rows;
  } finally {
    await emulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every user id, in Graph's list order. */
async function userIds(emulator: EmulatorProcess, users: number): Promise<string[]> {
  const { info } = emulator;
  const dispatcher = new Agent({ connect: { ca: readFileSync(info.ca, 'utf8') } });
  try {
    const token = await graphToken(info, dispatcher);
    const ids: string[] = [];
    let next: string | undefined = `${info.graphUrl}/v1.0/users?$select=id&$top=999`;
    while (next && ids.length < users) {
      const res = await fetch(next, { dispatcher, headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { value: { id: string }[]; '@odata.nextLink'?: string };
      ids.push(...body.value.map((u) => u.id));
      next = body['@odata.nextLink'];
    }
    return ids;
  } finally {
    await dispatcher.close();
  }
}

function row(
  scenario: string,
  run: { summary: SyncSummary; maxRssMb: number; seconds: number },
  lowerBound: number,
): SyncRow {
  return {
    scenario,
    seconds: Math.round(run.summary.durationMs / 100) / 10,
    graphRequests: run.summary.graphRequests,
    lowerBound,
    ratio: Math.round((run.summary.graphRequests / lowerBound) * 100) / 100,
    peakRssMb: run.maxRssMb,
    summary: run.summary,
  };
}
