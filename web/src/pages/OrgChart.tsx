import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import type { OrgNode, OrgNodePage } from '../api-types.ts';

// The org chart from the managers Entra has: the people at the top, and each manager's reports one level at a time
// (expand, collapse), so a large company opens quickly.

export function OrgChart() {
  const { id } = useParams() as { id: string };
  return (
    <section aria-labelledby="org-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="org-title">Org chart</h1>
      <Level connectionId={id} manager={null} />
    </section>
  );
}

function Level({ connectionId, manager }: { connectionId: string; manager: string | null }) {
  const level = useQuery({
    queryKey: ['org', connectionId, manager],
    queryFn: () =>
      api<OrgNodePage>(
        'GET',
        `/connections/${connectionId}/org-chart?limit=200${manager ? `&manager=${manager}` : ''}`,
      ),
  });
  if (level.isPending) return <p className="meta">Loading…</p>;
  return (
    <ul className="org" role={manager ? 'group' : 'tree'} aria-label={manager ? undefined : 'Org chart'}>
      {level.data?.items.map((n) => (
        <Node key={n.user.externalId} connectionId={connectionId} node={n} />
      ))}
    </ul>
  );
}

function Node({ connectionId, node }: { connectionId: string; node: OrgNode }) {
  const [open, setOpen] = useState(false);
  const u = node.user;
  return (
    <li role="treeitem" aria-expanded={node.reports > 0 ? open : undefined} aria-selected={false}>
      <div className="person">
        {u.photo ? (
          <img
            className="avatar"
            src={`/api/v1/connections/${connectionId}/users/${u.externalId}/photo`}
            alt=""
            width={32}
            height={32}
          />
        ) : (
          <span className="avatar none" aria-hidden="true" />
        )}
        <span>
          <strong>{u.name}</strong> <span className="meta">{u.jobTitle ?? ''}</span>
        </span>
        {node.reports > 0 && (
          <button
            type="button"
            className="link"
            onClick={() => setOpen(!open)}
            aria-label={`${open ? 'Collapse' : 'Expand'} ${u.name}: ${node.reports} reports`}
          >
            {open ? '−' : '+'} {node.reports} reports
          </button>
        )}
      </div>
      {open && <Level connectionId={connectionId} manager={u.externalId} />}
    </li>
  );
}
