import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api.ts';
import type { DepartmentPage, DirectoryGroupPage, DirectoryUser } from '../api-types.ts';
import { useDebounced } from '../debounce.ts';
import { usePagedList } from '../paging.ts';
import { Pager } from './Pager.tsx';

const PAGE = 50;

// The directory as the application sees it: users (search, status and department filters, photos, one page at a time
// so that a 100k-user directory is as light as a small one),
// groups and departments. A user opens on their page with their whole audit trail.

export function Directory() {
  const { id } = useParams() as { id: string };
  const [params] = useSearchParams();
  const tab = params.get('tab') ?? 'users';
  const tabs = [
    ['users', 'Users'],
    ['groups', 'Groups'],
    ['departments', 'Departments'],
  ] as const;
  return (
    <section aria-labelledby="directory-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="directory-title">Directory</h1>
      <nav aria-label="Directory" className="tabs">
        {tabs.map(([key, label]) => (
          <Link key={key} to={`?tab=${key}`} aria-current={tab === key ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === 'groups' ? (
        <Groups id={id} />
      ) : tab === 'departments' ? (
        <Departments id={id} />
      ) : (
        <Users key={params.get('department') ?? ''} id={id} initialDepartment={params.get('department') ?? ''} />
      )}
    </section>
  );
}

function Users({ id, initialDepartment }: { id: string; initialDepartment: string }) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [department, setDepartment] = useState(initialDepartment);
  const needle = useDebounced(search);
  const departments = useQuery({
    queryKey: ['departments', id, 'all'],
    queryFn: () => api<DepartmentPage>('GET', `/connections/${id}/departments?limit=1000`),
  });
  const { items: rows, pager } = usePagedList<DirectoryUser>(
    `/connections/${id}/users`,
    { search: needle, status, department },
    PAGE,
  );
  return (
    <>
      <div className="row filters">
        <div>
          <label htmlFor="search">Search users</label>
          <input
            id="search"
            type="search"
            value={search}
            placeholder="name, login or email"
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="status">Status</label>
          <select id="status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="disabled">disabled</option>
          </select>
        </div>
        <div>
          <label htmlFor="department">Department</label>
          <select id="department" value={department} onChange={(e) => setDepartment(e.target.value)}>
            <option value="">any</option>
            {departments.data?.items.map((d) => (
              <option key={d.name}>{d.name}</option>
            ))}
          </select>
        </div>
      </div>
      <table>
        <caption className="visually-hidden">Directory users</caption>
        <thead>
          <tr>
            <th scope="col">Photo</th>
            <th scope="col">Name</th>
            <th scope="col">Login</th>
            <th scope="col">Department</th>
            <th scope="col">Job title</th>
            <th scope="col">Manager</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((u) => (
            <tr key={u.externalId}>
              <td>
                {u.photo ? (
                  <img
                    className="avatar"
                    src={`/api/v1/connections/${id}/users/${u.externalId}/photo`}
                    alt=""
                    width={32}
                    height={32}
                    loading="lazy"
                  />
                ) : (
                  <span className="avatar none" aria-hidden="true" />
                )}
              </td>
              <td>
                <Link to={`/connections/${id}/users/${u.externalId}`}>{u.name ?? u.loginAccount}</Link>
              </td>
              <td>{u.loginAccount}</td>
              <td>{u.department ?? '—'}</td>
              <td>{u.jobTitle ?? '—'}</td>
              <td>{u.lineManager ?? '—'}</td>
              <td>
                <span className={`status ${u.status}`}>{u.status}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager {...pager} noun="users" />
    </>
  );
}

function Groups({ id }: { id: string }) {
  const [search, setSearch] = useState('');
  const needle = useDebounced(search);
  const groups = useInfiniteQuery({
    queryKey: ['groups', id, needle],
    queryFn: ({ pageParam }) =>
      api<DirectoryGroupPage>(
        'GET',
        `/connections/${id}/groups?limit=50&search=${encodeURIComponent(needle)}${pageParam ? `&cursor=${pageParam}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = groups.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <label htmlFor="group-search">Search groups</label>
      <input id="group-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      <table>
        <caption className="visually-hidden">Directory groups</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Type</th>
            <th scope="col">App group</th>
            <th scope="col">Members</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.externalId}>
              <th scope="row">{g.name ?? g.externalId}</th>
              <td>{g.type}</td>
              <td>{g.appGroup ?? '—'}</td>
              <td>
                <details>
                  <summary>{g.members.length} members</summary>
                  <ul className="fields">
                    {g.members.map((m) => (
                      <li key={m}>{m}</li>
                    ))}
                  </ul>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {groups.hasNextPage && (
        <button type="button" className="secondary" onClick={() => groups.fetchNextPage()}>
          Show more
        </button>
      )}
    </>
  );
}

function Departments({ id }: { id: string }) {
  const departments = useInfiniteQuery({
    queryKey: ['departments', id],
    queryFn: ({ pageParam }) =>
      api<DepartmentPage>('GET', `/connections/${id}/departments?limit=100${pageParam ? `&cursor=${pageParam}` : ''}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = departments.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <table>
        <caption className="visually-hidden">Departments</caption>
        <thead>
          <tr>
            <th scope="col">Department</th>
            <th scope="col">Members</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.name}>
              <th scope="row">
                <Link to={`?tab=users&department=${encodeURIComponent(d.name)}`}>{d.name}</Link>
              </th>
              <td>{d.members.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {departments.hasNextPage && (
        <button type="button" className="secondary" onClick={() => departments.fetchNextPage()}>
          Show more
        </button>
      )}
    </>
  );
}
