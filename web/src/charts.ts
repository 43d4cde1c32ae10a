// The dashboard's run history as chart series (unit-tested in test/console/charts.test.ts): finished runs that wrote
// (test syncs are left out), oldest first, with the time each ended in seconds since 1970 (uPlot's x axis).

export interface RunPoint {
  dryRun: boolean;
  status: string;
  finishedAt: string | null;
  durationMs: number | null;
  graphRequests: number | null;
  throttled: number | null;
  summary: {
    users: Record<string, number>;
    groups: Record<string, number>;
    departments?: Record<string, number>;
  } | null;
}

export interface RunSeries {
  x: number[];
  durationS: number[];
  changes: number[];
  graphRequests: number[];
  throttled: (number | null)[];
}

/** Objects a run changed: users created, updated, disabled and removed; groups and departments created, updated, removed. */
export function changesOf(summary: RunPoint['summary']): number {
  if (!summary) return 0;
  const sum = (counts: Record<string, number> | undefined, keys: string[]) =>
    keys.reduce((n, k) => n + (counts?.[k] ?? 0), 0);
  return (
    sum(summary.users, ['created', 'updated', 'disabled', 'removed']) +
    sum(summary.groups, ['created', 'updated', 'removed']) +
    sum(summary.departments, ['created'])
  );
}

export function runSeries(runs: readonly RunPoint[]): RunSeries {
  const ended = runs
    .filter((r) => !r.dryRun && r.finishedAt && r.status !== 'queued' && r.status !== 'running')
    .sort((a, b) => Date.parse(a.finishedAt!) - Date.parse(b.finishedAt!));
  return {
    x: ended.map((r) => Math.round(Date.parse(r.finishedAt!) / 1000)),
    durationS: ended.map((r) => (r.durationMs ?? 0) / 1000),
    changes: ended.map((r) => changesOf(r.summary)),
    graphRequests: ended.map((r) => r.graphRequests ?? 0),
    throttled: ended.map((r) => r.throttled),
  };
}

/** A sentence a screen reader says for a chart: how many runs, the latest value and the highest. */
export function describeSeries(label: string, values: readonly (number | null)[], unit = ''): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return `${label}: no finished run yet`;
  const fmt = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
  return `${label} over the last ${known.length} runs: latest ${fmt(known[known.length - 1])}, highest ${fmt(Math.max(...known))}`;
}
