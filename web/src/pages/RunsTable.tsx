import { Link } from 'react-router';
import type { Run } from '../api-types.ts';
import { seconds, when } from '../format.ts';

// Runs as a table: when, what asked for it, how it ended, what it changed, its Graph cost; each opens on its changes.

export function RunsTable({ connectionId, runs, caption }: { connectionId: string; runs: Run[]; caption: string }) {
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Trigger</th>
          <th scope="col">Status</th>
          <th scope="col">Users</th>
          <th scope="col">Groups</th>
          <th scope="col">Graph requests</th>
          <th scope="col">Throttled</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>
              <Link to={`/connections/${connectionId}/runs/${r.id}`}>{when(r.startedAt ?? r.queuedAt)}</Link>
            </td>
            <td>
              {r.trigger}
              {r.dryRun ? ' (test)' : ''}
            </td>
            <td>
              <span className={`status ${r.status}`}>{r.status}</span>
              {r.failure && <span className="hint"> {r.failure.message}</span>}
            </td>
            <td>{r.summary ? counts(r.summary.users) : '—'}</td>
            <td>{r.summary ? counts(r.summary.groups) : '—'}</td>
            <td>{r.graphRequests ?? '—'}</td>
            <td>{r.throttled ?? '—'}</td>
            <td>{seconds(r.durationMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function counts(c: Record<string, number>): string {
  const parts = Object.entries(c)
    .filter(([k, n]) => k !== 'unchanged' && n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return parts.join(', ') || 'no change';
}
