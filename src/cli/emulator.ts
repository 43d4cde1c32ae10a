import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import type { Emulator } from '../emulator/server.ts';
import { integer } from './options.ts';

// The emulator and the demo load only when asked for, so `usersync sync` does not carry them.

interface EmulatorFlags {
  port: number;
  host: string;
  users: number;
  groups?: number;
  seed: string;
  cert?: string;
  key?: string;
  ca?: string;
  roles?: string;
  deltaPageSize?: number;
  membersPerPage?: number;
  tenants?: number;
  publicUrl?: string;
}

export function emulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Serve an emulated Microsoft Graph + Entra ID tenant over HTTPS; prints one JSON line with the connection values when listening.',
    )
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port', 0, 65535), 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--users <n>', 'number of generated users', integer('--users', 1, 2_000_000), 50)
    .option(
      '--groups <n>',
      'number of generated groups (default: 2% of users, at least 10)',
      integer('--groups', 0, 200_000),
    )
    .option('--seed <seed>', 'seed of the generated tenant (same seed, same tenant)', 'usersync')
    .option('--cert <file>', 'server certificate (PEM) instead of a generated one; needs --key')
    .option('--key <file>', 'private key (PEM) of --cert')
    .option('--ca <file>', 'CA certificate (PEM) that signed --cert')
    .option('--roles <list>', 'comma-separated application permissions granted to the app', undefined)
    .option('--delta-page-size <n>', 'objects per delta page', integer('--delta-page-size', 1, 5000))
    .option(
      '--tenants <n>',
      'tenants to serve (each generated alike with its own id; the JSON line lists them as tenantIds)',
      integer('--tenants', 1, 10_000),
    )
    .option(
      '--public-url <url>',
      'the https address clients reach it at, when it differs from --host/--port (in a container: https://localhost:8443)',
    )
    .option(
      '--members-per-page <n>',
      'members@delta entries per page before a group is split',
      integer('--members-per-page', 1, 100_000),
    )
    .action(async (flags: EmulatorFlags) => {
      const emulator = await startFromFlags(flags);
      // Listening for the signals before the line is printed: a caller may stop the emulator as soon as it reads it.
      const stopped = untilSignal(emulator);
      process.stdout.write(`${JSON.stringify(connectionLine(emulator))}\n`);
      process.stderr.write(
        `usersync emulator: ${emulator.tenant.userCount()} users, ${emulator.tenant.groupCount()} groups on ${emulator.graphUrl} (Ctrl+C stops)\n`,
      );
      await stopped;
    });

  program
    .command('demo', { hidden: true })
    .description('npm start: the service with a demo connection to an emulated tenant that changes as it runs.')
    .option('--port <port>', 'the port of the service (taken: any free port)', integer('--port', 0, 65535), 8080)
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--tour', 'instead: a guided tour on the command line (syncs, changes, settings, a held wave of leavers)')
    .action(async (flags: { port: number; host: string; tour?: boolean }) => {
      const emulator = await startFromFlags({ port: 0, host: '127.0.0.1', users: 200, seed: 'demo' });
      if (flags.tour) {
        const { runDemo } = await import('./demo.ts');
        // Listening for the signals before the demo prints its last line: a reader may stop it as soon as it sees it.
        let dataDir: string | null = null;
        const stopped = untilSignal(emulator, () => {
          if (dataDir) rmSync(dataDir, { recursive: true, force: true });
        });
        dataDir = await runDemo(emulator);
        await stopped;
        return;
      }
      const { startServiceDemo } = await import('./demo-service.ts');
      let demo: Awaited<ReturnType<typeof startServiceDemo>> | null = null;
      const stopped = untilSignal(emulator, async () => {
        await demo?.stop();
        if (demo) rmSync(demo.dataDir, { recursive: true, force: true });
      });
      demo = await startServiceDemo(emulator, { port: flags.port, host: flags.host });
      await stopped;
    });
}

async function startFromFlags(flags: EmulatorFlags): Promise<Emulator> {
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new Error('--cert and --key go together: give both, or neither to generate a certificate.');
  if (flags.publicUrl !== undefined && !/^https:\/\/[^/?#]+\/?$/.test(flags.publicUrl))
    throw new Error(
      `--public-url ${flags.publicUrl} is not an https origin: give the scheme, host and port clients use, such as https://localhost:8443`,
    );
  const { loadTls } = await import('../emulator/tls.ts');
  const { startEmulator } = await import('../emulator/server.ts');
  const tls = flags.cert && flags.key ? await loadTls({ cert: flags.cert, key: flags.key, ca: flags.ca }) : undefined;
  return startEmulator({
    port: flags.port,
    host: flags.host,
    users: flags.users,
    groups: flags.groups,
    seed: flags.seed,
    tls,
    roles: flags.roles
      ?.split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    deltaPageSize: flags.deltaPageSize,
    deltaMembersPerPage: flags.membersPerPage,
    extraTenants: (flags.tenants ?? 1) - 1,
    publicUrl: flags.publicUrl,
  });
}

export function connectionLine(e: Emulator) {
  return {
    authorityHost: e.authorityHost,
    graphUrl: e.graphUrl,
    tenantId: e.tenantId,
    clientId: e.clientId,
    clientSecret: e.clientSecret,
    ca: e.ca,
    // Only with --tenants: every tenant served, the first one included.
    ...(e.extraTenants.length > 0 ? { tenantIds: [e.tenantId, ...e.extraTenants.map((t) => t.spec.tenantId)] } : {}),
  };
}

/** Serves until SIGINT or SIGTERM, then stops the emulator (which removes its temporary folder) and runs `cleanup`. */
function untilSignal(emulator: Emulator, cleanup?: () => void | Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      // What runs against the emulator stops first (the demo's service finishes its page), then the emulator.
      void (async () => {
        try {
          await cleanup?.();
        } finally {
          await emulator.stop();
        }
      })().finally(() => {
        resolve();
        process.exit(0);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
