import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiProblem } from '../api.ts';
import type { Run, RunChangePage, Schedule, Setup } from '../api-types.ts';
import { seconds } from '../format.ts';
import { changeCounts, setIn, stepIndex, stepOfField, STEPS, type StepId } from '../wizard.ts';
import { FieldChanges } from './FieldChanges.tsx';
import { scheduleDraft, ScheduleFields } from './ScheduleEditor.tsx';
import {
  AutoSyncStep,
  EmailsStep,
  FieldsStep,
  FiltersStep,
  GroupsStep,
  LifecycleStep,
  WhoStep,
  type Draft,
  type StepProps,
} from './WizardSteps.tsx';

// The setup wizard: auto sync → who → filters → fields → groups → lifecycle → emails → test sync → schedule → finish.
// The draft lives in the service (PUT /connections/{id}/setup at each step, which validates it whole), so the wizard
// can be left and resumed from any browser; nothing applies until Finish. The test sync runs the draft, writing nothing.

const PAGES: Partial<Record<StepId, (p: StepProps) => React.ReactNode>> = {
  'auto-sync': AutoSyncStep,
  who: WhoStep,
  filters: FiltersStep,
  fields: FieldsStep,
  groups: GroupsStep,
  lifecycle: LifecycleStep,
  emails: EmailsStep,
};

export function Wizard() {
  const { id } = useParams() as { id: string };
  const setup = useQuery({
    queryKey: ['setup', id],
    queryFn: () => api<Setup>('GET', `/connections/${id}/setup`),
    staleTime: Infinity,
  });
  if (!setup.data) return <p className="loading">Loading the setup…</p>;
  return <WizardForm id={id} setup={setup.data} />;
}

function WizardForm({ id, setup }: { id: string; setup: Setup }) {
  const client = useQueryClient();
  const [step, setStep] = useState<StepId>(setup.step === 'done' && setup.completedAt ? 'auto-sync' : setup.step);
  const [settings, setSettings] = useState<Draft>(setup.settings as Draft);
  const [schedule, setSchedule] = useState<Schedule>(() => scheduleDraft(setup.schedule));
  const [testRunId, setTestRunId] = useState<string | null>(setup.testRunId);
  // The step last saved with "Save and continue later" (its confirmation shows until the step changes).
  const [savedLater, setSavedLater] = useState<StepId | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [step]);

  const body = (at: StepId, run = testRunId) => ({
    step: at,
    settings,
    schedule: { ...schedule, every: { ...schedule.every!, value: Number(schedule.every!.value) } },
    testRunId: run,
  });
  const save = useMutation({
    mutationFn: (at: StepId) => api<Setup>('PUT', `/connections/${id}/setup`, body(at)),
    onSuccess: (saved) => {
      client.setQueryData(['setup', id], saved);
      setStep(saved.step);
    },
  });
  const finish = useMutation({
    mutationFn: async () => {
      await api<Setup>('PUT', `/connections/${id}/setup`, body('done'));
      return api<Setup>('POST', `/connections/${id}/setup/complete`);
    },
    onSuccess: (done) => {
      client.setQueryData(['setup', id], done);
      void client.invalidateQueries({ queryKey: ['connection', id] });
      void client.invalidateQueries({ queryKey: ['settings', id] });
    },
  });
  const problem = [save.error, finish.error].find((e): e is ApiProblem => e instanceof ApiProblem) ?? null;
  const elsewhere = (problem?.problem.errors ?? []).filter((e) => stepOfField(e.field) !== step);
  const at = stepIndex(step);
  const set = (path: string[], value: unknown) => setSettings((s) => setIn(s, path, value));
  const Page = PAGES[step];
  const props: StepProps = { connectionId: id, settings, set, schedule, setSchedule, problem };

  return (
    <section aria-labelledby="wizard-title" className="wizard">
      <p>
        <Link to={`/connections/${id}`}>Dashboard</Link> › Set up
      </p>
      <nav aria-label="Setup steps">
        <ol className="steps">
          {STEPS.map((s, i) => (
            <li key={s.id} className={i < at ? 'past' : undefined}>
              <button
                type="button"
                className="link"
                aria-current={s.id === step ? 'step' : undefined}
                onClick={() => setStep(s.id)}
              >
                <span className="step-number">{i + 1}</span> {s.title}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      <h1 id="wizard-title" tabIndex={-1} ref={heading}>
        {at + 1}. {STEPS[at].title}
      </h1>
      {Page && <Page {...props} />}
      {step === 'test-sync' && (
        <TestSync
          id={id}
          settings={settings}
          runId={testRunId}
          onRun={(runId) => {
            setTestRunId(runId);
            void api('PUT', `/connections/${id}/setup`, body('test-sync', runId));
          }}
        />
      )}
      {step === 'schedule' && (
        <>
          <p>
            {schedule.enabled
              ? 'When auto sync runs:'
              : 'Auto sync is off (step 1); you can still set when it would run.'}
          </p>
          <ScheduleFields value={schedule} onChange={setSchedule} problem={problem} prefix="schedule." showEnabled />
        </>
      )}
      {step === 'done' && (
        <Finish
          setup={client.getQueryData<Setup>(['setup', id]) ?? setup}
          id={id}
          finished={finish.isSuccess}
          settings={settings}
          schedule={schedule}
        />
      )}

      {problem && (
        <div role="alert" className="error">
          <p>
            {elsewhere.length > 0 || !problem.problem.errors?.length
              ? problem.message
              : 'Some fields on this page need fixing (shown next to them); nothing was saved.'}
            {problem.problem.hint && (elsewhere.length > 0 || !problem.problem.errors?.length) && (
              <span className="hint"> {problem.problem.hint}</span>
            )}
          </p>
          {elsewhere.length > 0 && (
            <ul>
              {elsewhere.map((e) => (
                <li key={e.field}>
                  {e.field}: {e.message}{' '}
                  <button type="button" className="link" onClick={() => setStep(stepOfField(e.field))}>
                    Go to {STEPS[stepIndex(stepOfField(e.field))].title}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="actions wizard-actions">
        {at > 0 && (
          <button type="button" className="secondary" onClick={() => setStep(STEPS[at - 1].id)}>
            Back
          </button>
        )}
        {step !== 'done' ? (
          <button type="button" onClick={() => save.mutate(STEPS[at + 1].id)} disabled={save.isPending}>
            {save.isPending ? 'Checking…' : 'Next'}
          </button>
        ) : (
          <button type="button" onClick={() => finish.mutate()} disabled={finish.isPending || finish.isSuccess}>
            Finish and apply
          </button>
        )}
        {step !== 'done' && (
          <button
            type="button"
            className="secondary"
            onClick={() => save.mutate(step, { onSuccess: () => setSavedLater(step) })}
            disabled={save.isPending}
          >
            Save and continue later
          </button>
        )}
        {savedLater === step && <span role="status">Saved. You can leave and come back.</span>}
      </div>
    </section>
  );
}

function TestSync({
  id,
  settings,
  runId,
  onRun,
}: {
  id: string;
  settings: Draft;
  runId: string | null;
  onRun: (runId: string) => void;
}) {
  const start = useMutation({
    mutationFn: () => api<Run>('POST', `/connections/${id}/runs`, { dryRun: true, settings }),
    onSuccess: (run) => onRun(run.id),
  });
  const run = useQuery({
    queryKey: ['run', runId],
    queryFn: () => api<Run>('GET', `/runs/${runId}`),
    enabled: !!runId,
    refetchInterval: (q) => (q.state.data && !['queued', 'running'].includes(q.state.data.status) ? false : 1000),
  });
  const ended = run.data && !['queued', 'running'].includes(run.data.status);
  const changes = useQuery({
    queryKey: ['run-changes', runId],
    queryFn: () => api<RunChangePage>('GET', `/runs/${runId}/changes?limit=500`),
    enabled: !!ended && run.data?.status === 'succeeded',
  });
  const [filter, setFilter] = useState('all');
  const [limit, setLimit] = useState(50);
  const items = (changes.data?.items ?? []) as {
    object: string;
    id: string;
    label: string | null;
    action: string;
    changes: { field: string; from: unknown; to: unknown }[];
  }[];
  const counts = changeCounts(items);
  const shownItems = items.filter((c) => filter === 'all' || `${c.object}:${c.action}` === filter);
  const problem = start.error instanceof ApiProblem ? start.error : null;
  const summary = run.data?.summary;
  return (
    <>
      <p>
        The test sync reads the tenant with these settings and lists what a real sync would change. It writes nothing.
      </p>
      <button type="button" onClick={() => start.mutate()} disabled={start.isPending || (!!run.data && !ended)}>
        {runId ? 'Run the test sync again' : 'Run the test sync'}
      </button>
      {problem && (
        <div role="alert" className="error">
          <p>{problem.message}</p>
          {problem.problem.errors?.map((e) => (
            <p key={e.field}>
              {e.field}: {e.message} ({STEPS[stepIndex(stepOfField(e.field))].title})
            </p>
          ))}
        </div>
      )}
      {run.data && !ended && (
        <div className="progress" role="status" aria-live="polite">
          <p>
            {run.data.progress
              ? `Reading ${run.data.progress.phase}: ${run.data.progress.done.toLocaleString()} done`
              : 'Starting…'}
          </p>
          <progress aria-label="Test sync progress" />
        </div>
      )}
      {run.data?.status === 'failed' && (
        <p role="alert" className="error">
          The test sync failed: {run.data.failure?.message}
          {run.data.failure?.hint && <span className="hint"> {run.data.failure.hint}</span>}
        </p>
      )}
      {summary && (
        <div role="status" className="test-summary">
          <h2>What a sync would do</h2>
          <ul className="counts">
            {(['created', 'updated', 'disabled', 'removed', 'unchanged', 'errors'] as const).map((k) => (
              <li key={k}>
                <strong>{summary.users[k].toLocaleString()}</strong> users {k}
              </li>
            ))}
            <li>
              <strong>{summary.groups.created}</strong> groups created, <strong>{summary.groups.updated}</strong>{' '}
              updated
            </li>
            <li>
              <strong>{summary.departments.created}</strong> departments created
            </li>
          </ul>
          <p className="meta">
            {summary.graphRequests} Graph requests in {seconds(summary.durationMs)}.
            {items.length === 500 && ' The list below shows the first 500 changes.'}
          </p>
        </div>
      )}
      {items.length > 0 && (
        <>
          <label htmlFor="change-filter">Show</label>
          <select id="change-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
            <option value="all">every change ({items.length})</option>
            {Object.entries(counts).flatMap(([object, byAction]) =>
              Object.entries(byAction).map(([action, n]) => (
                <option key={`${object}:${action}`} value={`${object}:${action}`}>
                  {object}s {action} ({n})
                </option>
              )),
            )}
          </select>
          <table className="diff">
            <caption className="visually-hidden">The changes a sync would make</caption>
            <thead>
              <tr>
                <th scope="col">Object</th>
                <th scope="col">Change</th>
                <th scope="col">Fields (before → after)</th>
              </tr>
            </thead>
            <tbody>
              {shownItems.slice(0, limit).map((c) => (
                <tr key={`${c.object}:${c.id}:${c.action}`}>
                  <th scope="row">
                    {c.label ?? c.id} <span className="meta">({c.object})</span>
                  </th>
                  <td>{c.action}</td>
                  <td>
                    {c.action === 'created' ? (
                      <details>
                        <summary>{c.changes.length} fields set</summary>
                        <FieldChanges changes={c.changes} />
                      </details>
                    ) : (
                      <FieldChanges changes={c.changes} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shownItems.length > limit && (
            <button type="button" className="secondary" onClick={() => setLimit(limit + 50)}>
              Show 50 more of {shownItems.length - limit}
            </button>
          )}
        </>
      )}
    </>
  );
}

function Finish({
  id,
  setup,
  finished,
  settings,
  schedule,
}: {
  id: string;
  setup: Setup;
  finished: boolean;
  settings: Draft;
  schedule: Schedule;
}) {
  const scope = (settings.scope ?? {}) as { groups?: string[]; excludeEmails?: string[]; filters?: unknown[] };
  const fields = Object.keys(((settings.mapping as { fields?: object } | undefined)?.fields ?? {}) as object);
  const lifecycle = (settings.lifecycle ?? {}) as { onLeave?: string };
  return (
    <>
      <p>Finishing saves these settings as a new version and sets the schedule. The next run applies them.</p>
      <dl className="facts">
        <dt>Auto sync</dt>
        <dd>
          {schedule.enabled
            ? schedule.cron
              ? `on, cron ${schedule.cron} (${schedule.timeZone})`
              : `on, every ${schedule.every?.value} ${schedule.every?.unit} from ${schedule.startAt} (${schedule.timeZone})`
            : 'off'}
        </dd>
        <dt>Who</dt>
        <dd>{scope.groups?.length ? `members of ${scope.groups.length} groups` : 'every user of the tenant'}</dd>
        <dt>Exclusions</dt>
        <dd>
          {scope.excludeEmails?.length ?? 0} address patterns, {scope.filters?.length ?? 0} attribute filters
        </dd>
        <dt>Fields mapped differently from the default</dt>
        <dd>{fields.length ? fields.join(', ') : 'none'}</dd>
        <dt>Leavers</dt>
        <dd>{lifecycle.onLeave ?? 'disable'}</dd>
        <dt>Test sync</dt>
        <dd>
          {setup.testRunId ? (
            <Link to={`/connections/${id}/runs/${setup.testRunId}`}>the last test sync</Link>
          ) : (
            'not run'
          )}
        </dd>
      </dl>
      {finished && (
        <p role="status" className="notice">
          Setup finished: the settings are saved and the schedule is set.{' '}
          <Link to={`/connections/${id}`}>Open the dashboard</Link> to sync now.
        </p>
      )}
    </>
  );
}
