import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { Run } from '../api-types.ts';
import { usePagedList } from '../paging.ts';
import { Pager } from './Pager.tsx';
import { RunsTable } from './RunsTable.tsx';

// Every run of a connection, newest first, a page at a time, by status and by what asked for it.

const SIZE = 50;

export function History() {
  const { id } = useParams() as { id: string };
  const [status, setStatus] = useState('');
  const [trigger, setTrigger] = useState('');
  const { items, pager } = usePagedList<Run>(`/connections/${id}/runs`, { status, trigger }, SIZE);
  return (
    <section aria-labelledby="history-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="history-title">Runs</h1>
      <div className="row filters">
        <div>
          <label htmlFor="run-status">Status</label>
          <select
            id="run-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
            }}
          >
            <option value="">any</option>
            {['succeeded', 'failed', 'held', 'cancelled', 'running', 'queued'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="run-trigger">Started by</label>
          <select
            id="run-trigger"
            value={trigger}
            onChange={(e) => {
              setTrigger(e.target.value);
            }}
          >
            <option value="">anything</option>
            <option value="schedule">the schedule</option>
            <option value="now">an admin (Sync now)</option>
            <option value="api">the API</option>
            <option value="cli">the command line</option>
          </select>
        </div>
      </div>
      <RunsTable connectionId={id} runs={items} caption="Runs, newest first" />
      <Pager {...pager} noun="runs" />
    </section>
  );
}
