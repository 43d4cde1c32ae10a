import { loadConnectionConfig, loadStoreConfig } from '../src/config/env.ts';
import { openStore } from '../src/store/index.ts';
import { connectGraph } from '../src/sync/connect.ts';
import { runSync } from '../src/sync/run.ts';

// One sync run in its own process, as `usersync sync` runs it (bench/sync.ts passes the V8 flags of
// bin/usersync.js), reporting the summary and the peak RSS.

const { dataDir, databaseUrl } = loadStoreConfig();
const store = await openStore({ dataDir, databaseUrl: databaseUrl ?? undefined });
const summary = await runSync(
  { store, http: connectGraph(loadConnectionConfig()) },
  {
    full: process.argv.includes('--full'),
    photoSweepHours: process.env.USERSYNC_PHOTO_SWEEP_HOURS
      ? Number(process.env.USERSYNC_PHOTO_SWEEP_HOURS)
      : undefined,
  },
);
await store.close();
process.stdout.write(`${JSON.stringify({ summary, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
