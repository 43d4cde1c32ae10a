import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import type { DirectoryUserPage } from '../api-types.ts';

// The directory as the application sees it: users with search, a page at a time, with their photos.

export function Directory() {
  const { id } = useParams() as { id: string };
  const [search, setSearch] = useState('');
  const users = useInfiniteQuery({
    queryKey: ['users', id, search],
    queryFn: ({ pageParam }) =>
      api<DirectoryUserPage>(
        'GET',
        `/connections/${id}/users?limit=50&search=${encodeURIComponent(search)}${pageParam ? `&cursor=${pageParam}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="directory-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="directory-title">Directory</h1>
      <label htmlFor="search">Search users</label>
      <input
        id="search"
        type="search"
        value={search}
        placeholder="name, login or email"
        onChange={(e) => setSearch(e.target.value)}
      />
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
              <td>{u.name}</td>
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
      <p className="meta">{rows.length} users shown</p>
      {users.hasNextPage && (
        <button
          type="button"
          className="secondary"
          onClick={() => users.fetchNextPage()}
          disabled={users.isFetchingNextPage}
        >
          Show more
        </button>
      )}
    </section>
  );
}
