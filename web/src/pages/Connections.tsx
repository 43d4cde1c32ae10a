import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api.ts';
import type { ConnectionList } from '../api-types.ts';
import { when } from '../format.ts';

// Every connection at a glance: its tenant, its last run, when it runs next, and leavers waiting for a decision.

export function Connections() {
  // Back from Microsoft's admin-consent page: the connection made, or why not.
  const params = new URLSearchParams(window.location.search);
  const connected = params.get('connected');
  const consentError = params.get('consentError');
  const hint = params.get('hint');
  const list = useQuery({
    queryKey: ['connections'],
    queryFn: () => api<ConnectionList>('GET', '/connections'),
    refetchInterval: 5000,
  });
  return (
    <section aria-labelledby="connections-title">
      <h1 id="connections-title">Connections</h1>
      {connected && (
        <p role="status" className="notice">
          Connected: <Link to={`/connections/${connected}`}>{connected}</Link>.{' '}
          <Link to={`/connections/${connected}/setup`}>Set up the sync</Link> (who, fields, groups, safety, schedule).
        </p>
      )}
      {consentError && (
        <p role="alert" className="error">
          {consentError} {hint && <span className="hint">{hint}</span>}
        </p>
      )}
      <p>
        <Link className="button" to="/connect">
          Connect a tenant
        </Link>
      </p>
      {list.error && (
        <p role="alert" className="error">
          {list.error.message}
        </p>
      )}
      {list.data?.items.length === 0 && <p className="notice">No tenant is connected yet.</p>}
      <ul className="cards">
        {list.data?.items.map((c) => (
          <li key={c.id} className="card">
            <h2>
              <Link to={`/connections/${c.id}`}>{c.name}</Link>
            </h2>
            <dl>
              <dt>Tenant</dt>
              <dd>{c.tenantId}</dd>
              <dt>Last run</dt>
              <dd>
                {c.lastRun ? (
                  <>
                    <span className={`status ${c.lastRun.status}`}>{c.lastRun.status}</span>{' '}
                    {when(c.lastRun.finishedAt ?? c.lastRun.startedAt)}
                  </>
                ) : (
                  'never'
                )}
              </dd>
              <dt>Next run</dt>
              <dd>{c.schedule.enabled ? (c.schedule.paused ? 'paused' : when(c.nextRunAt)) : 'auto sync off'}</dd>
              {c.heldLeavers > 0 && (
                <>
                  <dt>Held leavers</dt>
                  <dd className="warning">{c.heldLeavers} waiting for a decision</dd>
                </>
              )}
            </dl>
          </li>
        ))}
      </ul>
    </section>
  );
}
