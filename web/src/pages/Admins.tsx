import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { Admin, AdminActionPage, AdminList, Session } from '../api-types.ts';
import { when } from '../format.ts';

// Admins of the console: listed with how they sign in, added (with a password, or without one for Sign in with
// Microsoft or sign-in links), deleted after a confirmation; and the trail of what admins and tokens did. The tables
// take the focus: on a phone they scroll sideways, and a keyboard must be able to scroll them.

export function Admins() {
  const client = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: () => api<Session>('GET', '/auth/session') });
  const admins = useQuery({ queryKey: ['admins'], queryFn: () => api<AdminList>('GET', '/admins') });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [deleting, setDeleting] = useState<Admin | null>(null);
  const create = useMutation({
    mutationFn: () => api<Admin>('POST', '/admins', { email, ...(password ? { password } : {}) }),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      void client.invalidateQueries({ queryKey: ['admins'] });
      void client.invalidateQueries({ queryKey: ['admin-actions'] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api('DELETE', `/admins/${id}`),
    onSuccess: () => {
      setDeleting(null);
      void client.invalidateQueries({ queryKey: ['admins'] });
      void client.invalidateQueries({ queryKey: ['admin-actions'] });
    },
  });
  const problem = create.error instanceof ApiProblem ? create.error : null;
  const removeProblem = remove.error instanceof ApiProblem ? remove.error : null;

  return (
    <section aria-labelledby="admins-title">
      <h1 id="admins-title">Admins</h1>
      <table tabIndex={0}>
        <caption className="visually-hidden">Admin accounts</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Signs in with</th>
            <th scope="col">Created</th>
            <th scope="col">Last sign-in</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {admins.data?.items.map((a) => (
            <tr key={a.id}>
              <th scope="row">{a.email}</th>
              <td>{a.password ? 'password' : 'Microsoft or a sign-in link'}</td>
              <td>{when(a.createdAt)}</td>
              <td>{when(a.lastSignInAt)}</td>
              <td>
                {a.email === session.data?.email ? (
                  <span className="meta">you</span>
                ) : (
                  <button type="button" className="secondary" onClick={() => setDeleting(a)}>
                    Delete {a.email}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting && (
        <div className="confirm" role="alertdialog" aria-labelledby="delete-admin-title">
          <p id="delete-admin-title">
            Delete the admin <strong>{deleting.email}</strong>? They are signed out and can no longer sign in. Nothing
            else changes.
          </p>
          <div className="actions">
            <button type="button" className="danger" onClick={() => remove.mutate(deleting.id)}>
              Delete {deleting.email}
            </button>
            <button type="button" className="secondary" onClick={() => setDeleting(null)}>
              Cancel
            </button>
          </div>
          {removeProblem && <p className="error">{removeProblem.message}</p>}
        </div>
      )}
      <h2>Add an admin</h2>
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label htmlFor="admin-email">Email</label>
        <input
          id="admin-email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          aria-invalid={!!problem?.field('email')}
        />
        {problem?.field('email') && <p className="error">{problem.field('email')}</p>}
        <label htmlFor="admin-password">Password (leave empty to sign in with Microsoft or a sign-in link only)</label>
        <input
          id="admin-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={!!problem?.field('password')}
        />
        {problem?.field('password') && <p className="error">{problem.field('password')}</p>}
        {problem && !problem.field('email') && !problem.field('password') && <p className="error">{problem.message}</p>}
        <button type="submit">Add admin</button>
        {create.isSuccess && <span role="status"> Added {create.data.email}.</span>}
      </form>
      <AdminActions />
    </section>
  );
}

function AdminActions() {
  const actions = useInfiniteQuery({
    queryKey: ['admin-actions'],
    queryFn: ({ pageParam }) =>
      api<AdminActionPage>(
        'GET',
        `/admin-actions?limit=25${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = actions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <h2>What admins did</h2>
      <table tabIndex={0}>
        <caption className="visually-hidden">Admin actions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Connection</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.seq}>
              <td>{when(a.at)}</td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>{a.connectionId ?? '—'}</td>
              <td className="detail">
                {a.target ?? ''} {a.detail ? JSON.stringify(a.detail) : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {actions.hasNextPage && (
        <button type="button" className="secondary" onClick={() => actions.fetchNextPage()}>
          Show older
        </button>
      )}
    </>
  );
}
