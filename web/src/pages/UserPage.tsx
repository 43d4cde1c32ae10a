import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import type { AuditPage, DirectoryUser } from '../api-types.ts';
import { when } from '../format.ts';
import { shown } from '../wizard.ts';
import { FieldChanges } from './FieldChanges.tsx';

// One directory user: the record the application sees, and their whole audit trail — every change, which run or
// admin made it, field before → after.

export function UserPage() {
  const { id, userId } = useParams() as { id: string; userId: string };
  const user = useQuery({
    queryKey: ['user', id, userId],
    queryFn: () => api<DirectoryUser>('GET', `/connections/${id}/users/${userId}`),
  });
  const audit = useInfiniteQuery({
    queryKey: ['user-audit', id, userId],
    queryFn: ({ pageParam }) =>
      api<AuditPage>(
        'GET',
        `/connections/${id}/users/${userId}/audit?limit=100${pageParam ? `&cursor=${pageParam}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const u = user.data;
  const entries = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="user-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> › <Link to={`/connections/${id}/users`}>Directory</Link> ›
      </p>
      <h1 id="user-title" className="person">
        {u?.photo && (
          <img
            className="avatar large"
            src={`/api/v1/connections/${id}/users/${userId}/photo`}
            alt=""
            width={64}
            height={64}
          />
        )}
        {u?.name ?? u?.loginAccount ?? userId}
      </h1>
      {user.isError && (
        <p role="alert" className="error">
          {(user.error as Error).message}
        </p>
      )}
      {u && (
        <dl className="facts">
          {Object.entries(u)
            .filter(([k]) => k !== 'custom' && k !== 'photo')
            .map(([k, v]) => (
              <div key={k} className="fact">
                <dt>{k}</dt>
                <dd>{k === 'status' ? <span className={`status ${String(v)}`}>{String(v)}</span> : shown(v)}</dd>
              </div>
            ))}
          {Object.entries(u.custom).map(([k, v]) => (
            <div key={k} className="fact">
              <dt>{k} (custom)</dt>
              <dd>{shown(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      <h2>Audit trail</h2>
      <table>
        <caption className="visually-hidden">Every change to this user, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Change</th>
            <th scope="col">By</th>
            <th scope="col">Fields (before → after)</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td>{when(e.at)}</td>
              <td>{e.action}</td>
              <td>{e.runId ? <Link to={`/connections/${id}/runs/${e.runId}`}>a run</Link> : e.actor}</td>
              <td>
                <FieldChanges changes={e.changes} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && audit.isSuccess && <p className="meta">No change recorded (within the retention).</p>}
      {audit.hasNextPage && (
        <button type="button" className="secondary" onClick={() => audit.fetchNextPage()}>
          Show more
        </button>
      )}
    </section>
  );
}
