import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import type { AuditEntry, Change, Run, RunChangePage } from '../api-types.ts';
import { seconds, when } from '../format.ts';
import { usePagedList } from '../paging.ts';
import { FieldChanges } from './FieldChanges.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 25;

// One run, drilled into: what started it, how it ended, and every object it changed (for a test sync, would change),
// field before → after.

export function RunDetail() {
  const { id, runId } = useParams() as { id: string; runId: string };
  const run = useQuery({ queryKey: ['run', runId], queryFn: () => api<Run>('GET', `/runs/${runId}`) });
  const {
    query: changes,
    items: rows,
    pager,
  } = usePagedList<RunChangePage['items'][number]>(`/runs/${runId}/changes`, {}, PAGE);
  const r = run.data;
  return (
    <section aria-labelledby="run-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="run-title">
        {r?.dryRun ? 'Test sync' : 'Run'} {when(r?.startedAt ?? r?.queuedAt)}
      </h1>
      {r && (
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <span className={`status ${r.status}`}>{r.status}</span>
            {r.failure && (
              <span className="error">
                {' '}
                {r.failure.message}
                {r.failure.hint && <span className="hint"> What to do: {r.failure.hint}</span>}
              </span>
            )}
          </dd>
          <dt>Started by</dt>
          <dd>
            {r.trigger}
            {r.requestedBy ? ` (${r.requestedBy})` : ''}
          </dd>
          <dt>Read</dt>
          <dd>
            {r.summary?.mode ?? r.mode}, {r.graphRequests ?? '—'} Graph requests, {seconds(r.durationMs)}
          </dd>
          {r.summary?.held && (
            <>
              <dt>Held</dt>
              <dd className="warning">
                {r.summary.held.disable + r.summary.held.remove} leavers: {r.summary.held.reason}
              </dd>
            </>
          )}
        </dl>
      )}
      <h2>{r?.dryRun ? 'What it would change' : 'What it changed'}</h2>
      {rows.length === 0 && !changes.isPending && <p className="meta">No change.</p>}
      <table>
        <caption className="visually-hidden">Changes of this run</caption>
        <thead>
          <tr>
            <th scope="col">Object</th>
            <th scope="col">Action</th>
            <th scope="col">Fields (before → after)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c, i) => (
            <tr key={i}>
              <td>
                {objectOf(c)} {labelOf(c)}
              </td>
              <td>{c.action}</td>
              <td>
                <FieldChanges changes={c.changes} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager {...pager} noun="changes" />
    </section>
  );
}

function objectOf(c: Change | AuditEntry): string {
  return c.object;
}

function labelOf(c: Change | AuditEntry): string {
  return 'label' in c && c.label ? c.label : c.id;
}
