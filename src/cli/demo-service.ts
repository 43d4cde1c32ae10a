import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import pino from 'pino';
import { createAdmin, createApiToken } from '../admins/accounts.ts';
import { startService, type Service } from '../api/server.ts';
import { createConnection, setSchedule } from '../connections/connections.ts';
import { emulatorClients } from '../emulator/connect.ts';
import type { Emulator } from '../emulator/server.ts';
import { loadSecretBox } from '../secrets/box.ts';
import { openStore, type Run, type Store } from '../store/index.ts';
import { signInUrl } from './serve.ts';

// `npm start`: the service on a fresh embedded store, with a demo connection to an emulated tenant that syncs every
// minute while the tenant changes on its own (a promotion, a new hire, a leaver, a new group member…). Prints where
// the console and the API are, a one-time sign-in link and an API token. Everything lives in a temporary folder that
// goes when the demo stops.

export const DEMO_CONNECTION = 'contoso';
const CHANGE_EVERY_MS = 20_000;

export interface ServiceDemo {
  service: Service;
  store: Store;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startServiceDemo(
  emulator: Emulator,
  options: { port: number; host: string; logger?: Logger; changeEveryMs?: number; out?: (text: string) => void },
): Promise<ServiceDemo> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const dataDir = mkdtempSync(join(tmpdir(), 'usersync-demo-'));
  const store = await openStore({ dataDir });
  const box = loadSecretBox({ dataDir, env: {} });
  const logger = options.logger ?? pino({ level: 'silent' });
  // This process started before the emulator made its CA: Graph and the token service are trusted explicitly.
  const { graphFor, networkClient, close: closeClients } = emulatorClients(emulator);
  const env = emulator.env();
  const tenant = emulator.tenant;
  const demoApp = {
    clientId: env.AZURE_CLIENT_ID,
    credential: { kind: 'secret' as const, secret: env.AZURE_CLIENT_SECRET },
    authorityHost: env.AZURE_AUTHORITY_HOST,
    graphUrl: env.USERSYNC_GRAPH_URL,
  };

  const connection = await createConnection(
    store,
    box,
    {
      id: DEMO_CONNECTION,
      name: `${tenant.spec.domain.split('.')[0].replace(/^./, (c) => c.toUpperCase())} (demo tenant)`,
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
      authorityHost: env.AZURE_AUTHORITY_HOST,
      graphUrl: env.USERSYNC_GRAPH_URL,
    },
    'demo',
  );
  await setSchedule(store, connection.id, { enabled: true, every: { value: 1, unit: 'minutes' } }, 'demo');
  const admin = await createAdmin(store, { email: 'admin@demo.usersync', password: null }, 'demo');
  const token = await createApiToken(store, 'demo', 'demo');

  const listen = (port: number) =>
    startService({
      store,
      box,
      logger,
      port,
      host: options.host,
      // usersync's own app is the emulator's: connecting by admin consent and signing in with Microsoft work offline
      // (any user of the demo tenant may sign in as an admin).
      app: demoApp,
      microsoft: { app: demoApp, tenants: [env.AZURE_TENANT_ID.toLowerCase()], roles: ['*'], networkClient },
      graphFor,
      onRunFinished: (run) => out(`${runLine(run)}\n`),
    });
  let service: Service;
  try {
    service = await listen(options.port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    service = await listen(0);
  }
  const link = await signInUrl(store, service.url, admin.id);
  out(
    `usersync demo — the service, connected to an emulated Microsoft 365 tenant (${tenant.spec.domain}: ${tenant.userCount()} users, ${tenant.groupCount()} groups), offline.

  Console        ${service.url}/
  Sign in        ${link}
                 (a one-time link for admin@demo.usersync, valid 15 minutes),
                 or ${service.url}/api/v1/auth/microsoft as any user of the demo tenant
  API reference  ${service.url}/api/docs
  API token      ${token.token}
                 curl -H "Authorization: Bearer ${token.token}" ${service.url}/api/v1/connections/${connection.id}/users

The connection "${connection.id}" syncs every minute, and the tenant changes every ${Math.round((options.changeEveryMs ?? CHANGE_EVERY_MS) / 1000)} seconds (a promotion, a new hire,
a leaver, a new group member). Each run prints a line below. Ctrl+C stops the demo; its data goes with it.

`,
  );
  await service.runner.enqueue(connection.id, { trigger: 'now', requestedBy: 'demo' });
  const changes = setInterval(() => changeTenant(emulator, out), options.changeEveryMs ?? CHANGE_EVERY_MS);
  return {
    service,
    store,
    dataDir,
    async stop() {
      clearInterval(changes);
      await service.close();
      await store.close();
      await closeClients();
    },
  };
}

function runLine(run: Run): string {
  const time = new Date(run.finished_at ?? Date.now()).toLocaleTimeString('en-GB');
  const s = run.summary as {
    mode: string;
    users: Record<string, number>;
    groups: Record<string, number>;
    graphRequests: number;
    durationMs: number;
  } | null;
  if (!s) return `${time}  run ${run.status}${run.failure ? `: ${run.failure.message}` : ''}`;
  const parts = Object.entries(s.users)
    .filter(([k, n]) => k !== 'unchanged' && n > 0)
    .map(([k, n]) => `${n} ${k}`);
  const groups = Object.entries(s.groups)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return `${time}  ${run.trigger === 'schedule' ? 'scheduled run' : 'Sync Now'} ${run.status}: users ${parts.join(', ') || 'unchanged'}${groups.length ? `; groups ${groups.join(', ')}` : ''} (${s.mode}, ${s.graphRequests} Graph requests, ${(s.durationMs / 1000).toFixed(1)} s)`;
}

const TITLES = ['Senior Engineer', 'Team Lead', 'Product Manager', 'Head of Sales', 'Designer', 'Analyst'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Linus', 'Margaret', 'Tim', 'Barbara'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Torvalds', 'Hamilton', 'Berners', 'Liskov'];
let tick = 0;

/** One scripted change in "Entra", in turn: a promotion, a new hire, a leaver, a new group member. */
function changeTenant(emulator: Emulator, out: (text: string) => void): void {
  const t = emulator.tenant;
  const live = [...t.liveUsers()];
  const pick = () => live[(tick * 7919) % live.length];
  const n = tick++;
  try {
    switch (n % 4) {
      case 0: {
        const i = pick();
        const title = TITLES[n % TITLES.length];
        t.updateUser(t.userIdOf(i), { jobTitle: title });
        out(`          in Entra: ${t.user(i).displayName} is now ${title}\n`);
        break;
      }
      case 1: {
        const name = `${FIRST[n % FIRST.length]} ${LAST[(n >> 2) % LAST.length]} ${n}`;
        const upn = `${name.toLowerCase().replace(/ /g, '.')}@${t.spec.domain}`;
        const hire = t.createUser({
          userPrincipalName: upn,
          displayName: name,
          mail: upn,
          department: 'Research',
          jobTitle: 'Scientist',
        });
        t.setManager(hire.id, t.userIdOf(live[0]));
        out(`          in Entra: ${name} joined\n`);
        break;
      }
      case 2: {
        const i = pick();
        t.updateUser(t.userIdOf(i), { accountEnabled: false });
        out(`          in Entra: ${t.user(i).displayName}'s account was disabled\n`);
        break;
      }
      default: {
        const group = t.group(n % Math.max(1, t.groupCount()));
        const i = pick();
        t.addMember(group.id, t.userIdOf(i));
        out(`          in Entra: ${t.user(i).displayName} joined the group ${group.displayName}\n`);
      }
    }
  } catch {
    // A scripted change that does not apply (already a member, say) is simply skipped.
  }
}
