import { benchEmulator } from './emulator.ts';
import { table } from './support.ts';
import { benchService, serviceTable } from './service.ts';
import { benchScope, benchStorm, benchSync, type SyncRow } from './sync.ts';

// `npm run bench`: measurements against the emulator, printed as tables. Never part of `npm test`.

const only = process.argv[2];
if (!only || only === 'emulator') {
  const rows = [];
  for (const users of [10_000, 100_000, 1_000_000]) rows.push(await benchEmulator(users));
  console.log(
    '\nEmulator: start-up (until the JSON line), resident memory, users pages (100 per page, 8 concurrent clients)\n',
  );
  console.log(
    table(
      rows.map((r) => ({
        users: r.users.toLocaleString('en'),
        'start-up ms': r.startupMs,
        'RSS MB at start': r.rssMb,
        'RSS MB after load': r.rssAfterPagesMb,
        'users pages/s': r.usersPageRps,
      })),
    ),
  );
}

if (!only || only === 'sync') {
  const rows = [...(await benchSync(10_000)), ...(await benchSync(100_000, 1000))];
  console.log(
    '\nSync: SQLite store, emulator in its own process (2% groups per user count, ~3 memberships per user)\n',
  );
  console.log(syncTable(rows));
}

if (!only || only === 'storm') {
  const rows = await benchStorm();
  console.log(
    '\nThrottling storm: a full read with a quarter of all requests throttled (SQLite, emulator in its own process)\n',
  );
  console.log(syncTable(rows));
}

if (!only || only === 'scope') {
  const rows = await benchScope();
  console.log(
    '\nGroup-scoped reading: SQLite, emulator in its own process; runs after the first sweep photos daily (USERSYNC_PHOTO_SWEEP_HOURS=24)\n',
  );
  console.log(syncTable(rows));
}

// Not in the default run (about ten minutes, and PostgreSQL at 127.0.0.1:5432): `npm run bench -- service [connections] [minutes]`.
if (only === 'service') {
  const connections = Number(process.argv[3] ?? 1000);
  const minutes = Number(process.argv[4] ?? 5);
  const rows = await benchService(connections, minutes);
  console.log(
    `\nService: ${connections} connections of 1,000 users (one emulator process serving every tenant), 2 \`usersync worker\` processes on PostgreSQL (4 runs at once each)\n`,
  );
  console.log(serviceTable(rows));
}

// Not in the default run (about ten minutes): `npm run bench -- sync-1m` checks that memory stays flat at a million users.
if (only === 'sync-1m') {
  const rows = await benchSync(1_000_000);
  console.log(syncTable(rows));
}

function syncTable(rows: SyncRow[]): string {
  return table(
    rows.map((r) => ({
      scenario: r.scenario,
      seconds: r.seconds,
      'Graph requests': r.graphRequests,
      'lower bound': r.lowerBound,
      ratio: r.ratio,
      'peak RSS MB': r.peakRssMb,
    })),
  );
}
