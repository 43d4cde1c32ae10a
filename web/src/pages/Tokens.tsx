import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { NewToken, TokenList } from '../api-types.ts';
import { when } from '../format.ts';

// API tokens for automation and the application: made here (the value shown once), listed without values, revoked
// after a confirmation.

export function Tokens() {
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => api<TokenList>('GET', '/tokens') });
  const [name, setName] = useState('');
  const [revoking, setRevoking] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => api<NewToken>('POST', '/tokens', { name }),
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `/tokens/${id}`),
    onSuccess: () => {
      setRevoking(null);
      void client.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const problem = create.error instanceof ApiProblem ? create.error : null;
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label htmlFor="token-name">Name (what uses it)</label>
        <input id="token-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="hr-app" />
        {problem && <p className="error">{problem.field('name') ?? problem.message}</p>}
        <button type="submit">Create token</button>
      </form>
      {create.data && (
        <div role="status" className="notice">
          <p>
            Token <strong>{create.data.name}</strong>: <code className="value">{create.data.token}</code>
          </p>
          <p>Store it now: it is not shown again. Send it as Authorization: Bearer …</p>
        </div>
      )}
      <table>
        <caption className="visually-hidden">API tokens</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Created</th>
            <th scope="col">By</th>
            <th scope="col">Last used</th>
            <th scope="col">Revoke</th>
          </tr>
        </thead>
        <tbody>
          {tokens.data?.items.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{when(t.createdAt)}</td>
              <td>{t.createdBy}</td>
              <td>{when(t.lastUsedAt)}</td>
              <td>
                {revoking === t.id ? (
                  <span role="alertdialog" aria-label={`Revoke ${t.name}`}>
                    Anything using it stops working.{' '}
                    <button type="button" className="danger" onClick={() => revoke.mutate(t.id)}>
                      Yes, revoke {t.name}
                    </button>{' '}
                    <button type="button" className="secondary" onClick={() => setRevoking(null)}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <button type="button" className="secondary" onClick={() => setRevoking(t.id)}>
                    Revoke {t.name}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
