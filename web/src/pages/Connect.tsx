import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import type { Connection, ConsentLink, Verification } from '../api-types.ts';

// Connecting a tenant: by admin consent (usersync's own app; the admin accepts its permissions at Microsoft), or with
// the tenant's own app credentials (a client secret or a certificate), verified live with each permission named.

export function Connect() {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [tenant, setTenant] = useState('');
  const [form, setForm] = useState({
    tenantId: '',
    clientId: '',
    clientSecret: '',
    certificatePem: '',
    certificatePassword: '',
    authorityHost: '',
    graphUrl: '',
  });
  const [verification, setVerification] = useState<{ id: string; result: Verification } | null>(null);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [key]: e.target.value });

  const consent = useMutation({
    mutationFn: () => api<ConsentLink>('POST', '/connections/consent', { name, ...(tenant ? { tenant } : {}) }),
    onSuccess: (link) => window.location.assign(link.url),
  });
  const create = useMutation({
    mutationFn: async () => {
      const body = Object.fromEntries(Object.entries({ name, ...form }).filter(([, v]) => v !== ''));
      const connection = await api<Connection>('POST', '/connections', body);
      const result = await api<Verification>('POST', `/connections/${connection.id}/verify`);
      return { id: connection.id, result };
    },
    onSuccess: (v) => setVerification(v),
  });
  const problem = create.error instanceof ApiProblem ? create.error : null;
  const fieldError = (field: string) => problem?.field(field);

  async function readCertificate(file: File | undefined) {
    if (file) setForm({ ...form, certificatePem: await file.text() });
  }

  if (verification) {
    const { id, result } = verification;
    return (
      <section aria-labelledby="verify-title">
        <h1 id="verify-title">{result.ok ? 'Connected' : 'Connected, with permissions missing'}</h1>
        <ul>
          {result.permissions.map((p) => (
            <li key={p.permission}>
              {p.permission}:{' '}
              <strong className={p.granted ? 'status succeeded' : 'status failed'}>
                {p.granted ? 'granted' : 'missing'}
              </strong>
            </li>
          ))}
        </ul>
        {result.hint && <p className="warning">{result.hint}</p>}
        <div className="actions">
          <button type="button" onClick={() => navigate(`/connections/${id}/setup`)}>
            Set up the sync
          </button>
          <button type="button" className="secondary" onClick={() => navigate(`/connections/${id}`)}>
            Open the dashboard
          </button>
        </div>
      </section>
    );
  }

  return (
    <section aria-labelledby="connect-title">
      <p>
        <Link to="/">Connections</Link> ›
      </p>
      <h1 id="connect-title">Connect a tenant</h1>
      <label htmlFor="name">Name</label>
      <input
        id="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="Contoso"
        aria-describedby="name-error"
      />
      {fieldError('name') && (
        <p id="name-error" className="error">
          {fieldError('name')}
        </p>
      )}

      <h2>With Microsoft (admin consent)</h2>
      <p>
        A Global Administrator of the tenant signs in at Microsoft and accepts usersync's permissions; nothing to create
        in Entra.
      </p>
      <label htmlFor="consent-tenant">Tenant (optional)</label>
      <input
        id="consent-tenant"
        value={tenant}
        onChange={(e) => setTenant(e.target.value)}
        placeholder="contoso.onmicrosoft.com"
      />
      <div className="actions">
        <button type="button" onClick={() => consent.mutate()} disabled={!name || consent.isPending}>
          Sign in with Microsoft and connect
        </button>
      </div>
      {consent.error instanceof ApiProblem && (
        <p role="alert" className="error">
          {consent.error.message}
          {consent.error.problem.hint && <span className="hint"> {consent.error.problem.hint}</span>}
        </p>
      )}

      <h2>With app credentials</h2>
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        {(
          [
            ['tenantId', 'Tenant id or domain', 'text'],
            ['clientId', 'Application (client) id', 'text'],
            ['clientSecret', 'Client secret', 'password'],
          ] as const
        ).map(([key, label, type]) => (
          <div key={key}>
            <label htmlFor={key}>{label}</label>
            <input
              id={key}
              type={type}
              value={form[key]}
              onChange={set(key)}
              autoComplete="off"
              aria-invalid={!!fieldError(key)}
              aria-describedby={`${key}-error`}
            />
            {fieldError(key) && (
              <p id={`${key}-error`} className="error">
                {fieldError(key)}
              </p>
            )}
          </div>
        ))}
        <label htmlFor="certificate">Or a certificate (PEM with its private key)</label>
        <input
          id="certificate"
          type="file"
          accept=".pem,.crt,.key,text/plain"
          onChange={(e) => readCertificate(e.target.files?.[0])}
        />
        {fieldError('certificatePem') && <p className="error">{fieldError('certificatePem')}</p>}
        <details>
          <summary>National cloud, key password</summary>
          <label htmlFor="certificatePassword">Private key password</label>
          <input
            id="certificatePassword"
            type="password"
            value={form.certificatePassword}
            onChange={set('certificatePassword')}
          />
          <label htmlFor="authorityHost">Authority host</label>
          <input
            id="authorityHost"
            value={form.authorityHost}
            onChange={set('authorityHost')}
            placeholder="https://login.microsoftonline.com"
          />
          {fieldError('authorityHost') && <p className="error">{fieldError('authorityHost')}</p>}
          <label htmlFor="graphUrl">Graph URL</label>
          <input
            id="graphUrl"
            value={form.graphUrl}
            onChange={set('graphUrl')}
            placeholder="https://graph.microsoft.com"
          />
          {fieldError('graphUrl') && <p className="error">{fieldError('graphUrl')}</p>}
        </details>
        {problem && !problem.problem.errors?.length && (
          <p role="alert" className="error">
            {problem.message}
          </p>
        )}
        <button type="submit" disabled={create.isPending}>
          Connect and verify
        </button>
      </form>
    </section>
  );
}
