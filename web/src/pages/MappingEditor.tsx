import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import { useDebounced } from '../debounce.ts';
import type { DirectoryUserPage, ExpressionFunctionList, Preview, SettingsVersion } from '../api-types.ts';
import { PROFILE_FIELDS } from '../../../src/core/directory.ts';
import { PRESET_NAMES } from '../../../src/core/presets.ts';

// The mapping editor with live preview: pick a real user, type an expression for a field, and see the record the
// settings would produce for them — read from Entra, nothing written — as you type, with an error's position inline.
// Saving stores a new settings version; the next run applies it from the store.

// The field and preset names are the service's own (src/core, bundled into the console); the functions come from the API.
const FIELDS = PROFILE_FIELDS;
const PRESETS = PRESET_NAMES;

type Settings = Record<string, unknown> & {
  mapping?: { fields?: Record<string, unknown>; custom?: Record<string, unknown> };
};

export function MappingEditor() {
  const { id } = useParams() as { id: string };
  const client = useQueryClient();
  const functions = useQuery({
    queryKey: ['functions'],
    queryFn: () => api<ExpressionFunctionList>('GET', '/expression/functions'),
  });
  const saved = useQuery({
    queryKey: ['settings', id],
    queryFn: () => api<SettingsVersion>('GET', `/connections/${id}/settings`),
  });
  const [search, setSearch] = useState('');
  const [user, setUser] = useState<string | null>(null);
  const [field, setField] = useState<(typeof FIELDS)[number] | string>('jobTitle');
  const [customName, setCustomName] = useState('');
  const [mode, setMode] = useState<'expression' | 'preset'>('expression');
  const [expression, setExpression] = useState('');
  const [preset, setPreset] = useState<(typeof PRESETS)[number]>('claimsAccount');
  const debounced = useDebounced(expression, 300);

  const candidates = useQuery({
    queryKey: ['pick', id, search],
    queryFn: () =>
      api<DirectoryUserPage>('GET', `/connections/${id}/users?limit=8&search=${encodeURIComponent(search)}`),
    enabled: search.trim().length > 0,
  });

  const target = field === 'custom' ? customName.trim() : field;
  const draft = (): Settings => {
    const document = (saved.data?.document ?? {}) as Settings;
    const rule = mode === 'preset' ? { preset } : { expression: debounced };
    const mapping = document.mapping ?? {};
    return field === 'custom'
      ? { ...document, mapping: { ...mapping, custom: { ...(mapping.custom ?? {}), [target]: rule } } }
      : { ...document, mapping: { ...mapping, fields: { ...(mapping.fields ?? {}), [target]: rule } } };
  };
  const ready = !!user && !!saved.data && !!target && (mode === 'preset' || debounced.trim() !== '');
  const preview = useQuery({
    queryKey: ['preview', id, user, target, mode, debounced, preset],
    queryFn: () => api<Preview>('POST', `/connections/${id}/preview`, { user, settings: draft() }),
    enabled: ready,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () => api<SettingsVersion>('PUT', `/connections/${id}/settings`, draft()),
    onSuccess: () => client.invalidateQueries({ queryKey: ['settings', id] }),
  });
  const problem = preview.error instanceof ApiProblem ? preview.error : null;
  const record = preview.data?.record ?? null;
  const shown =
    field === 'custom' ? (record?.custom as Record<string, unknown> | undefined)?.[target] : record?.[target];

  return (
    <section aria-labelledby="mapping-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="mapping-title">Mapping</h1>
      <p className="meta">Settings version {saved.data?.version ?? '…'}. Nothing is written until you save.</p>

      <label htmlFor="pick">Preview with user</label>
      <input
        id="pick"
        type="search"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        placeholder="search a name or login"
      />
      {candidates.data && (
        <ul className="picks">
          {candidates.data.items.map((u) => (
            <li key={u.externalId}>
              <button
                type="button"
                className={user === u.loginAccount ? '' : 'secondary'}
                onClick={() => setUser(u.loginAccount)}
              >
                {u.name} <span className="meta">{u.loginAccount}</span>
              </button>
            </li>
          ))}
        </ul>
      )}

      <div className="row">
        <div>
          <label htmlFor="field">Field</label>
          <select id="field" value={field} onChange={(e) => setField(e.target.value)}>
            {FIELDS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
            <option value="custom">a custom field…</option>
          </select>
        </div>
        {field === 'custom' && (
          <div>
            <label htmlFor="custom-name">Custom field name</label>
            <input id="custom-name" value={customName} onChange={(e) => setCustomName(e.target.value)} />
          </div>
        )}
        <div>
          <label htmlFor="mode">Mapped by</label>
          <select id="mode" value={mode} onChange={(e) => setMode(e.target.value as 'expression' | 'preset')}>
            <option value="expression">an expression</option>
            <option value="preset">a preset</option>
          </select>
        </div>
        {mode === 'preset' && (
          <div>
            <label htmlFor="preset">Preset</label>
            <select id="preset" value={preset} onChange={(e) => setPreset(e.target.value as (typeof PRESETS)[number])}>
              {PRESETS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </div>
        )}
      </div>
      {mode === 'expression' && (
        <>
          <label htmlFor="expression">Expression</label>
          <textarea
            id="expression"
            rows={3}
            value={expression}
            onChange={(e) => setExpression(e.target.value)}
            placeholder='Join(" ", [givenName], [surname])'
            aria-invalid={!!problem}
            aria-describedby="expression-result"
          />
          <details>
            <summary>Functions</summary>
            <p className="meta">
              {functions.data?.items.map((f) => f.name).join(', ')}. Attributes are Graph user properties in brackets:
              [userPrincipalName], [mail], [department]…
            </p>
          </details>
        </>
      )}

      <div id="expression-result" role="status" aria-live="polite" className="preview">
        {!user && <p className="meta">Pick a user to see the result.</p>}
        {problem && <p className="error">{problem.problem.errors?.[0]?.message ?? problem.message}</p>}
        {preview.data && !problem && (
          <>
            <p>
              <strong>{target}</strong> for {user}:{' '}
              <code className="value">{shown === null || shown === undefined ? '∅' : String(shown)}</code>
            </p>
            {!preview.data.inScope && <p className="warning">Out of scope: {preview.data.reason}</p>}
            {preview.data.error && (
              <p className="error">
                {preview.data.error.field}: {preview.data.error.message}
              </p>
            )}
            <p className="meta">
              {preview.data.changes.length === 0
                ? 'A sync would change nothing for this user.'
                : `A sync would change: ${preview.data.changes.map((c) => c.field).join(', ')}.`}
            </p>
          </>
        )}
      </div>
      <button type="button" onClick={() => save.mutate()} disabled={!ready || !!problem || save.isPending}>
        Save mapping
      </button>
      {save.data && <span role="status"> Saved as version {save.data.version}; the next run applies it.</span>}
      {save.error instanceof ApiProblem && <p className="error">{save.error.message}</p>}
    </section>
  );
}
