import { createInterface } from 'node:readline';
import { renameSync } from 'node:fs';
import type { Command } from 'commander';
import {
  createAdmin,
  createApiToken,
  createSetupCode,
  createSignInLink,
  hasAdmins,
  SETUP_CODE_HOURS,
} from '../admins/accounts.ts';
import { startService } from '../api/server.ts';
import { loadStoreConfig } from '../config/env.ts';
import { createLogger } from '../config/log.ts';
import { resealCredentials } from '../connections/connections.ts';
import { runnerFor } from '../jobs/runner.ts';
import { serviceApp } from '../connections/consent.ts';
import { createScheduler } from '../jobs/scheduler.ts';
import { boxOf, generateKey, keyFiles, loadSecretBox, parseKey, writeKeyFile, type SecretBox } from '../secrets/box.ts';
import { getAdminByEmail, type Store } from '../store/index.ts';
import { connectGraph } from '../sync/connect.ts';
import { integer, whoAmI } from './options.ts';
import { openConfiguredStore, withStore } from './store.ts';

// The service's commands: `serve` (API, scheduler, runner), `worker` (scheduler and runner only, for more processes
// over one PostgreSQL store), `admin create|link`, `token create`, `secrets rotate`.

export function serviceCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the service: the API under /api/v1 (reference at /api/docs), schedules and runs. Prints {"url"} once listening.',
    )
    .option('--port <port>', 'the port (0: any free port)', integer('--port', 0, 65535), 8080)
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .action(async (flags: { port: number; host: string }) => {
      const logger = createLogger(process.env, 'info');
      const store = await openConfiguredStore();
      const box = secretBox();
      const service = await startService({ store, box, logger, port: flags.port, host: flags.host });
      process.stdout.write(`${JSON.stringify({ url: service.url })}\n`);
      if (!(await hasAdmins(store))) {
        // The link holds a one-time code: whoever can read this process's output may create the first admin.
        const code = await createSetupCode(store);
        process.stderr.write(
          `usersync: no admin account yet. Create the first one in the browser (the link works once, for ${SETUP_CODE_HOURS} hours):\n  ${service.url}/?setup=${code}\nor on this machine:\n  usersync admin create --email you@example.com\nthen sign in at ${service.url}/ (or use an API token: usersync token create --name NAME).\n`,
        );
      }
      await untilStopped(async () => {
        await service.close();
        await store.close();
      });
    });

  program
    .command('worker')
    .description(
      'Run schedules and runs without the API: add workers beside `usersync serve` over one PostgreSQL store.',
    )
    .action(async () => {
      const logger = createLogger(process.env, 'info');
      const store = await openConfiguredStore();
      const box = secretBox();
      if (store.dialect !== 'postgres')
        throw new Error(
          'usersync worker shares runs over PostgreSQL (DATABASE_URL); with the embedded store, `usersync serve` runs everything itself',
        );
      const runner = await runnerFor({
        store,
        box,
        app: serviceApp(),
        logger,
        graphFor: (config, log) => connectGraph(config, { logger: log }),
      });
      const scheduler = createScheduler({ store, runner, logger });
      scheduler.start();
      logger.info({ pid: process.pid }, 'usersync worker started');
      process.stdout.write(`${JSON.stringify({ worker: process.pid })}\n`);
      await untilStopped(async () => {
        await scheduler.stop();
        await runner.close();
        await store.close();
      });
    });

  const admin = program.command('admin').description('Admin accounts of the console.');
  admin
    .command('create')
    .description('Create an admin account (asks for the password on a terminal; --password-stdin reads it from stdin).')
    .requiredOption('--email <email>', "the admin's email address")
    .option('--password-stdin', 'read the password from standard input (one line)')
    .option('--no-password', 'no password: the admin signs in with a sign-in link (usersync admin link) only')
    .action(async (flags: { email: string; passwordStdin?: boolean; password: boolean }) => {
      const password = flags.password === false ? null : await readPassword(flags.passwordStdin ?? false);
      await withStore(async (store) => {
        const row = await createAdmin(store, { email: flags.email, password }, whoAmI());
        process.stdout.write(
          `Admin ${row.email} created.${password ? '' : ' Sign in with a link: usersync admin link --email ' + row.email}\n`,
        );
      });
    });
  admin
    .command('link')
    .description('Print a one-time sign-in link for an admin (valid 15 minutes).')
    .requiredOption('--email <email>', "the admin's email address")
    .option('--url <url>', 'the service URL the link opens', 'http://127.0.0.1:8080')
    .action(async (flags: { email: string; url: string }) => {
      await withStore(async (store) => {
        const row = await getAdminByEmail(store.db, flags.email);
        if (!row)
          throw new Error(
            `there is no admin ${flags.email}: create one with usersync admin create --email ${flags.email}`,
          );
        process.stdout.write(`${await signInUrl(store, flags.url, row.id)}\n`);
      });
    });

  program
    .command('token')
    .description('API tokens for automation (Authorization: Bearer …).')
    .command('create')
    .description('Create an API token; it is shown once.')
    .requiredOption('--name <name>', 'what uses it, e.g. hr-app')
    .option('--json', 'print {"token": "…"}')
    .action(async (flags: { name: string; json?: boolean }) => {
      await withStore(async (store) => {
        const token = await createApiToken(store, flags.name, whoAmI());
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ token: token.token, id: token.id, name: token.name })}\n`
            : `${token.token}\nStore it now: it is not shown again. Send it as Authorization: Bearer <token>.\n`,
        );
      });
    });

  program
    .command('secrets')
    .description('The key that encrypts stored secrets.')
    .command('rotate')
    .description(
      'Encrypt every stored secret with a new key. With the key file: a new key is made and the old one kept as secret.key.previous. With USERSYNC_SECRET_KEY: give the new key in USERSYNC_NEW_SECRET_KEY, then switch the variable.',
    )
    .action(async () => {
      const { dataDir } = loadStoreConfig();
      const current = secretBox();
      await withStore(async (store) => {
        if (process.env.USERSYNC_SECRET_KEY?.trim()) {
          const next = process.env.USERSYNC_NEW_SECRET_KEY;
          if (!next?.trim())
            throw new Error(
              'USERSYNC_SECRET_KEY holds the key: set USERSYNC_NEW_SECRET_KEY to the new key (openssl rand -base64 32) and run this again; then set USERSYNC_SECRET_KEY to it everywhere usersync runs.',
            );
          const n = await reseal(
            store,
            current,
            boxOf([parseKey(next, 'USERSYNC_NEW_SECRET_KEY')], 'USERSYNC_NEW_SECRET_KEY'),
          );
          process.stdout.write(
            `Re-encrypted ${secrets(n)} with the new key. Set USERSYNC_SECRET_KEY to the value of USERSYNC_NEW_SECRET_KEY wherever usersync runs.\n`,
          );
          return;
        }
        const files = keyFiles(dataDir);
        // The new key is on disk before any secret uses it, so a crash at any point leaves every secret readable.
        const key = generateKey();
        writeKeyFile(files.next, key);
        const n = await reseal(store, current, boxOf([key], files.next));
        renameSync(files.current, files.previous);
        renameSync(files.next, files.current);
        process.stdout.write(
          `Re-encrypted ${secrets(n)} with a new key in ${files.current}; the old key is kept as ${files.previous} (delete it once your backups have the new one).\n`,
        );
      });
    });
}

const secrets = (n: number) => `${n} connection secret${n === 1 ? '' : 's'}`;

async function reseal(store: Store, current: SecretBox, next: SecretBox): Promise<number> {
  // Opens with the current key (or any it knows), seals with the new one.
  const both: SecretBox = {
    source: next.source,
    keyId: next.keyId,
    seal: next.seal,
    open: (s, p) => current.open(s, p),
  };
  return resealCredentials(store, both);
}

export function secretBox(): SecretBox {
  return loadSecretBox({ dataDir: loadStoreConfig().dataDir });
}

export async function signInUrl(store: Store, base: string, adminId: string): Promise<string> {
  const link = await createSignInLink(store, adminId);
  return `${base.replace(/\/+$/, '')}/api/v1/auth/link?token=${link.token}`;
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const line = text.split(/\r?\n/)[0] ?? '';
    if (!line) throw new Error('--password-stdin: standard input held no password line');
    return line;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      // Nothing typed is echoed.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(q)) process.stderr.write(q);
      };
      rl.question(q, (answer) => resolve(answer));
    });
  const first = await ask('Password: ');
  process.stderr.write('\n');
  const again = await ask('Again: ');
  process.stderr.write('\n');
  rl.close();
  if (first !== again) throw new Error('the two passwords differ; run the command again');
  return first;
}

/** Waits for SIGINT or SIGTERM, then runs `stop` once (a second signal exits at once). */
function untilStopped(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      stop().finally(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
