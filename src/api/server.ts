import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/env.ts';
import type { GraphHttp } from '../entra/http.ts';
import { runnerFor, type Runner } from '../jobs/runner.ts';
import { createScheduler, type Scheduler } from '../jobs/scheduler.ts';
import type { SecretBox } from '../secrets/box.ts';
import { purgeExpiredSessions, type Run, type Store } from '../store/index.ts';
import { connectGraph } from '../sync/connect.ts';
import { serviceApp, type ServiceApp } from '../connections/consent.ts';
import { microsoftSignIn, type MicrosoftSignIn } from '../admins/microsoft.ts';
import { createApp } from './app.ts';
import { createMetrics } from './metrics.ts';

// `usersync serve`: the API, the scheduler and a runner in one process, over one store. close() stops taking work,
// lets running runs finish their current page (they are recorded as stopped and the next run carries on), and closes.

export interface ServiceOptions {
  store: Store;
  box: SecretBox;
  logger: Logger;
  port?: number;
  host?: string;
  graphFor?: (config: ConnectionConfig, logger: Logger) => GraphHttp;
  /** usersync's own app for admin consent; default from USERSYNC_APP_CLIENT_ID and its credential. */
  app?: ServiceApp | null;
  /** Admin sign-in with Microsoft; default from USERSYNC_ADMIN_TENANTS / USERSYNC_ADMIN_ROLES with `app`. */
  microsoft?: MicrosoftSignIn | null;
  /** Run the embedded scheduler (default true). */
  schedule?: boolean;
  schedulerTickMs?: number;
  /** Called when a run this process ran ends (the demo prints a line). */
  onRunFinished?: (run: Run) => void;
  now?: () => Date;
}

export interface Service {
  url: string;
  runner: Runner;
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { store, box, logger } = options;
  const graphFor = options.graphFor ?? ((config, log) => connectGraph(config, { logger: log }));
  const metrics = createMetrics();
  const consentApp = options.app === undefined ? serviceApp() : options.app;
  const runner = await runnerFor({
    store,
    box,
    app: consentApp,
    graphFor,
    logger,
    onFinished: (run, throttled) => {
      metrics.runFinished(run, throttled);
      options.onRunFinished?.(run);
    },
  });
  const scheduler = createScheduler({ store, runner, logger, now: options.now, tickMs: options.schedulerTickMs });
  let ready = false;
  const microsoft = options.microsoft === undefined ? microsoftSignIn(consentApp) : options.microsoft;
  const app = createApp({
    store,
    box,
    app: consentApp,
    microsoft,
    runner,
    graphFor,
    logger,
    metrics,
    ready: () => ready,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: options.host ?? '127.0.0.1' }, () =>
      resolve(s),
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  await purgeExpiredSessions(store.db);
  // Runs left queued by a process that stopped are taken up now.
  runner.kick();
  if (options.schedule ?? true) scheduler.start();
  ready = true;
  logger.info({ url }, 'usersync service listening');
  return {
    url,
    runner,
    scheduler,
    async close() {
      ready = false;
      await scheduler.stop();
      await runner.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() open.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
    },
  };
}
