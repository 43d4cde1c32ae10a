import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Runner } from '../jobs/runner.ts';
import type { Run, Store } from '../store/index.ts';

// Prometheus metrics at /metrics: runs by status and their duration, Graph requests and throttling by connection,
// directory objects changed, the queue, held leavers, and the HTTP API itself. Counters grow as runs end in this
// process; gauges are read from the store at each scrape (so every process reports the cluster's queue and holds).

export interface Metrics {
  registry: Registry;
  runFinished(run: Run, throttled: number): void;
  httpRequest(method: string, route: string, status: number, ms: number): void;
  refresh(store: Store, runner: Runner): Promise<void>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'usersync_process_' });
  const runs = new Counter({
    name: 'usersync_runs_total',
    help: 'Runs ended in this process, by connection, status and trigger.',
    labelNames: ['connection', 'status', 'trigger'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'usersync_run_duration_seconds',
    help: 'How long runs took, by connection and mode.',
    labelNames: ['connection', 'mode'],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800],
    registers: [registry],
  });
  const graph = new Counter({
    name: 'usersync_graph_requests_total',
    help: 'HTTP requests sent to Microsoft Graph, retries included, by connection.',
    labelNames: ['connection'],
    registers: [registry],
  });
  const throttles = new Counter({
    name: 'usersync_graph_throttled_total',
    help: 'Answers of Graph that throttled (429, 503), by connection.',
    labelNames: ['connection'],
    registers: [registry],
  });
  const changed = new Counter({
    name: 'usersync_objects_changed_total',
    help: 'Directory objects a run changed, by connection, kind (users, groups, departments) and change.',
    labelNames: ['connection', 'kind', 'change'],
    registers: [registry],
  });
  const queued = new Gauge({ name: 'usersync_runs_queued', help: 'Runs waiting for a worker.', registers: [registry] });
  const running = new Gauge({
    name: 'usersync_runs_running',
    help: 'Runs this process is running now.',
    registers: [registry],
  });
  const held = new Gauge({
    name: 'usersync_held_leavers',
    help: 'Leavers held by the deletion threshold, waiting for an administrator, by connection.',
    labelNames: ['connection'],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'usersync_http_request_duration_seconds',
    help: 'API requests, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  return {
    registry,
    runFinished(run, throttled) {
      const connection = run.connection_id;
      runs.inc({ connection, status: run.status, trigger: run.trigger });
      if (run.duration_ms !== null) duration.observe({ connection, mode: run.mode }, run.duration_ms / 1000);
      if (run.graph_requests) graph.inc({ connection }, run.graph_requests);
      if (throttled > 0) throttles.inc({ connection }, throttled);
      const summary = run.summary as {
        dryRun?: boolean;
        users?: Record<string, number>;
        groups?: Record<string, number>;
        departments?: Record<string, number>;
      } | null;
      if (!summary || summary.dryRun) return;
      for (const kind of ['users', 'groups', 'departments'] as const)
        for (const [change, n] of Object.entries(summary[kind] ?? {}))
          if (change !== 'unchanged' && change !== 'errors' && n > 0) changed.inc({ connection, kind, change }, n);
    },
    httpRequest(method, route, status, ms) {
      http.observe({ method, route, status: String(status) }, ms / 1000);
    },
    async refresh(store, runner) {
      const q = await store.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '=', 'queued')
        .executeTakeFirstOrThrow();
      queued.set(Number(q.n));
      running.set(runner.running);
      const rows = await store.db
        .selectFrom('leavers')
        .select(['connection_id', (eb) => eb.fn.countAll().as('n')])
        .where('status', '=', 'held')
        .groupBy('connection_id')
        .execute();
      held.reset();
      for (const r of rows) held.set({ connection: r.connection_id }, Number(r.n));
    },
  };
}
