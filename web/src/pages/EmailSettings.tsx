import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import type { SettingsVersion } from '../api-types.ts';
import { setIn } from '../wizard.ts';
import { EmailsStep, type Draft } from './WizardSteps.tsx';

// A connection's emails — the sender, welcome mails to new users, reports to administrators — edited as a form and
// saved as a new settings version (the same fields as the setup wizard's Emails step).

export function EmailSettings() {
  const { id } = useParams() as { id: string };
  const saved = useQuery({
    queryKey: ['settings', id],
    queryFn: () => api<SettingsVersion>('GET', `/connections/${id}/settings`),
  });
  if (!saved.data) return <p className="loading">Loading…</p>;
  return <EmailForm id={id} saved={saved.data} />;
}

function EmailForm({ id, saved }: { id: string; saved: SettingsVersion }) {
  const client = useQueryClient();
  const [document, setDocument] = useState<Draft>(saved.document as Draft);
  const save = useMutation({
    mutationFn: () => api<SettingsVersion>('PUT', `/connections/${id}/settings`, document),
    onSuccess: (version) => {
      client.setQueryData(['settings', id], version);
      void client.invalidateQueries({ queryKey: ['settings-history', id] });
    },
  });
  const problem = save.error instanceof ApiProblem ? save.error : null;
  // The form's errors are named as in the wizard (settings.email…); the settings route names them without the prefix.
  const named = problem
    ? new ApiProblem({
        ...problem.problem,
        errors: problem.problem.errors?.map((e) => ({ ...e, field: `settings.${e.field}` })),
      })
    : null;
  return (
    <section aria-labelledby="emails-title">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> ›
      </p>
      <h1 id="emails-title">Emails</h1>
      <p className="meta">
        Mails leave through the SMTP server in USERSYNC_SMTP_URL (docs/configuration.md); without it they wait in the
        outbox.
      </p>
      <EmailsStep
        connectionId={id}
        settings={document}
        set={(path, value) => setDocument((d) => setIn(d, path, value))}
        schedule={{}}
        setSchedule={() => {}}
        problem={named}
      />
      {problem && (
        <p role="alert" className="error">
          {problem.message}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={() => save.mutate()} disabled={save.isPending}>
          Save emails
        </button>
        {save.isSuccess && <span role="status">Saved as settings version {save.data.version}.</span>}
      </div>
    </section>
  );
}
