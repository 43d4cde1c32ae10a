import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import type { Connection, Run, RunPage } from '../api-types.ts';
import { when } from '../format.ts';
import { Held } from './Held.tsx';
import { RunCharts } from './RunCharts.tsx';
import { RunsTable } from './RunsTable.tsx';
import { ScheduleEditor } from './ScheduleEditor.tsx';

// One connection: Sync Now (or a test sync) with live progress, stop, pause and resume, and its latest runs.

export function Dashboard() {
  const { id } = useParams() as { id: string };
  const client = useQueryClient();
  const connection = useQuery({
    queryKey: ['connection', id],
    queryFn: () => api<Connection>('GET', `/connections/${id}`),
    refetchInterval: 2000,
  });
  const runs = useQuery({
    queryKey: ['runs', id],
    queryFn: () => api<RunPage>('GET', `/connections/${id}/runs?limit=20`),
    refetchInterval: (q) =>
      q.state.data?.items.some((r) => r.status === 'queued' || r.status === 'running') ? 1000 : 5000,
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['runs', id] });
    void client.invalidateQueries({ queryKey: ['connection', id] });
  };
  const start = useMutation({
    mutationFn: (body: { dryRun?: boolean; full?: boolean }) => api<Run>('POST', `/connections/${id}/runs`, body),
    onSuccess: refresh,
  });
  const stop = useMutation({
    mutationFn: (runId: string) => api<Run>('POST', `/runs/${runId}/cancel`),
    onSuccess: refresh,
  });
  const pause = useMutation({
    mutationFn: (verb: 'pause' | 'resume') => api('POST', `/connections/${id}/${verb}`),
    onSuccess: refresh,
  });
  const active = runs.data?.items.find((r) => r.status === 'queued' || r.status === 'running');
  const c = connection.data;
  const problem = [start.error, stop.error, pause.error].find((e): e is ApiProblem => e instanceof ApiProblem);

  return (
    <section aria-labelledby="connection-title">
      <p>
        <Link to="/">Connections</Link> ›
      </p>
      <h1 id="connection-title">{c?.name ?? id}</h1>
      {c && (
        <p className="meta">
          Tenant {c.tenantId} · next run{' '}
          {c.schedule.enabled ? (c.schedule.paused ? 'paused' : when(c.nextRunAt)) : 'off (auto sync is off)'} ·{' '}
          <Link to={`/connections/${id}/setup`}>Set up</Link> · <Link to={`/connections/${id}/users`}>Directory</Link> ·{' '}
          <Link to={`/connections/${id}/org-chart`}>Org chart</Link> ·{' '}
          <Link to={`/connections/${id}/mapping`}>Mapping</Link> · <Link to={`/connections/${id}/emails`}>Emails</Link>{' '}
          · <Link to={`/connections/${id}/settings`}>Settings JSON</Link>
        </p>
      )}
      {c && c.heldLeavers > 0 && (
        <p className="warning" role="status">
          {c.heldLeavers} leavers are held by the deletion threshold and wait for a decision.
        </p>
      )}
      <Held connectionId={id} count={c?.heldLeavers ?? 0} />
      <div className="actions">
        <button type="button" disabled={!!active || start.isPending} onClick={() => start.mutate({})}>
          Sync now
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!!active || start.isPending}
          onClick={() => start.mutate({ dryRun: true })}
        >
          Test sync
        </button>
        {active && (
          <button
            type="button"
            className="danger"
            onClick={() => stop.mutate(active.id)}
            disabled={active.cancelRequested}
          >
            {active.cancelRequested ? 'Stopping…' : 'Stop'}
          </button>
        )}
        {c?.schedule.enabled && (
          <button
            type="button"
            className="secondary"
            onClick={() => pause.mutate(c.schedule.paused ? 'resume' : 'pause')}
          >
            {c.schedule.paused ? 'Resume schedule' : 'Pause schedule'}
          </button>
        )}
      </div>
      {problem && (
        <p role="alert" className="error">
          {problem.message}
          {problem.problem.hint && <span className="hint"> {problem.problem.hint}</span>}
        </p>
      )}
      {active && <Progress run={active} />}
      {c && <ScheduleEditor connection={c} />}
      <RunCharts connectionId={id} latest={`${runs.data?.items[0]?.id}:${runs.data?.items[0]?.status}`} />
      <h2>Runs</h2>
      <RunsTable connectionId={id} runs={runs.data?.items ?? []} caption="The latest runs of this connection" />
      <p>
        <Link to={`/connections/${id}/runs`}>All runs, with filters</Link>
      </p>
    </section>
  );
}

function Progress({ run }: { run: Run }) {
  const p = run.progress;
  return (
    <div className="progress" role="status" aria-live="polite">
      <p>
        {run.status === 'queued'
          ? 'Waiting to start…'
          : p
            ? `Reading ${p.phase}: ${p.done.toLocaleString()} done, ${p.graphRequests} Graph requests`
            : 'Starting…'}
      </p>
      <progress aria-label="Run progress" />
    </div>
  );
}
