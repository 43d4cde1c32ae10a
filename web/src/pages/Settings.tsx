import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import type { SettingsVersion } from '../api-types.ts';
import { when } from '../format.ts';

// The settings document as JSON, for experts: edited whole, checked by the service before anything is saved (every
// path at fault listed), with the history of versions and who saved them.

export function Settings() {
  const { id } = useParams() as { id: string };
  const client = useQueryClient();
  const current = useQuery({
    queryKey: ['settings', id],
    queryFn: () => api<SettingsVersion>('GET', `/connections/${id}/settings`),
  });
  const history = useQuery({
    queryKey: ['settings-history', id],
    queryFn: () => api<{ items: SettingsVersion[] }>('GET', `/connections/${id}/settings/history`),
  });
  const [text, setText] = useState('');
  const [syntax, setSyntax] = useState<string | null>(null);
  useEffect(() => {
    if (current.data) setText(JSON.stringify(current.data.document, null, 2));
  }, [current.data]);
  const save = useMutation({
    mutationFn: (document: unknown) => api<SettingsVersion>('PUT', `/connections/${id}/settings`, document),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['settings', id] });
      void client.invalidateQueries({ queryKey: ['settings-history', id] });
    },
  });
  const submit = () => {
    setSyntax(null);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      setSyntax(`This is not JSON: ${(error as Error).message}`);
      return;
    }
    save.mutate(document);
  };
  const problem = save.error instanceof ApiProblem ? save.error : null;
  return (
    <section aria-labelledby="settings-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="settings-title">Settings document</h1>
      <p className="meta">
        Version {current.data?.version ?? '…'}
        {current.data?.changedBy ? `, saved by ${current.data.changedBy} ${when(current.data.changedAt)}` : ''}. Every
        key is described in docs/settings.md; an empty document means the defaults.
      </p>
      <label htmlFor="document">Settings (JSON)</label>
      <textarea id="document" rows={18} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      {syntax && (
        <p role="alert" className="error">
          {syntax}
        </p>
      )}
      {problem && (
        <div role="alert" className="error">
          <p>Nothing was saved:</p>
          <ul>
            {(problem.problem.errors ?? [{ field: '(document)', message: problem.message }]).map((e) => (
              <li key={`${e.field}:${e.message}`}>
                <code>{e.field}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions">
        <button type="button" onClick={submit} disabled={save.isPending}>
          Save settings
        </button>
        {save.data && <span role="status">Saved as version {save.data.version}; the next run applies it.</span>}
      </div>
      <h2>History</h2>
      <table>
        <caption className="visually-hidden">Settings versions</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {history.data?.items.map((v) => (
            <tr key={v.version}>
              <td>{v.version}</td>
              <td>{when(v.changedAt)}</td>
              <td>{v.changedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
