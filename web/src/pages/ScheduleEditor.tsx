import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { Connection, Schedule } from '../api-types.ts';
import { when } from '../format.ts';

// Auto sync: on or off, every N minutes/hours/days from a start time, on chosen weekdays, in a time zone — or a cron
// expression for experts. Errors are shown on the field they concern. The fields are shared with the setup wizard.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A schedule as the form edits it: the time zone defaults to the admin's own. */
export function scheduleDraft(s: Schedule): Schedule {
  return {
    enabled: s.enabled ?? false,
    paused: s.paused ?? false,
    every: s.every ?? { value: 1, unit: 'days' },
    startAt: s.startAt ?? '2026-01-01T00:00',
    days: s.days ?? [],
    timeZone: s.timeZone && s.timeZone !== 'UTC' ? s.timeZone : Intl.DateTimeFormat().resolvedOptions().timeZone,
    cron: s.cron ?? null,
  };
}

/**
 * The schedule's fields. `problem` is the API's answer; its errors are looked up under `prefix` (`schedule.` in the
 * wizard, where the schedule sits in the body).
 */
export function ScheduleFields({
  value,
  onChange,
  problem,
  prefix = '',
  showEnabled = true,
}: {
  value: Schedule;
  onChange: (s: Schedule) => void;
  problem: ApiProblem | null;
  prefix?: string;
  showEnabled?: boolean;
}) {
  const error = (...fields: string[]) =>
    fields
      .flatMap((f) => [`${prefix}${f}`, `schedule.${f}`, f])
      .map((f) => problem?.field(f))
      .find(Boolean);
  const every = value.every ?? { value: 1, unit: 'days' as const };
  const days = value.days ?? [];
  const toggleDay = (d: (typeof DAYS)[number]) =>
    onChange({ ...value, days: days.includes(d) ? days.filter((x) => x !== d) : [...days, d] });
  return (
    <>
      {showEnabled && (
        <label className="inline">
          <input
            type="checkbox"
            checked={value.enabled ?? false}
            onChange={(e) => onChange({ ...value, enabled: e.target.checked })}
          />{' '}
          Auto sync
        </label>
      )}
      <div className="row">
        <div>
          <label htmlFor="every">Every</label>
          <input
            id="every"
            type="number"
            min={1}
            value={every.value}
            onChange={(e) => onChange({ ...value, every: { ...every, value: Number(e.target.value) } })}
            aria-invalid={!!error('every.value', 'every')}
          />
        </div>
        <div>
          <label htmlFor="unit">Unit</label>
          <select
            id="unit"
            value={every.unit}
            onChange={(e) => onChange({ ...value, every: { ...every, unit: e.target.value as typeof every.unit } })}
          >
            <option value="minutes">minutes</option>
            <option value="hours">hours</option>
            <option value="days">days</option>
          </select>
        </div>
        <div>
          <label htmlFor="startAt">Starting</label>
          <input
            id="startAt"
            type="datetime-local"
            value={value.startAt ?? ''}
            onChange={(e) => onChange({ ...value, startAt: e.target.value })}
            aria-invalid={!!error('startAt')}
          />
        </div>
        <div>
          <label htmlFor="timeZone">Time zone</label>
          <input
            id="timeZone"
            value={value.timeZone ?? ''}
            onChange={(e) => onChange({ ...value, timeZone: e.target.value })}
            aria-invalid={!!error('timeZone')}
          />
        </div>
      </div>
      {error('every.value', 'every') && <p className="error">{error('every.value', 'every')}</p>}
      {error('startAt') && <p className="error">{error('startAt')}</p>}
      {error('timeZone') && <p className="error">{error('timeZone')}</p>}
      <fieldset>
        <legend>On these days (none: every day)</legend>
        {DAYS.map((d) => (
          <label key={d} className="inline">
            <input type="checkbox" checked={days.includes(d)} onChange={() => toggleDay(d)} /> {d}
          </label>
        ))}
      </fieldset>
      <details open={!!value.cron}>
        <summary>Cron expression (replaces the above)</summary>
        <label htmlFor="cron">Cron</label>
        <input
          id="cron"
          value={value.cron ?? ''}
          onChange={(e) => onChange({ ...value, cron: e.target.value.trim() ? e.target.value : null })}
          placeholder="0 2 * * 1-5"
          aria-invalid={!!error('cron')}
        />
      </details>
      {error('cron') && <p className="error">{error('cron')}</p>}
    </>
  );
}

export function ScheduleEditor({ connection }: { connection: Connection }) {
  const client = useQueryClient();
  const s = connection.schedule;
  const [draft, setDraft] = useState(() => scheduleDraft(s));
  // The schedule changed on the server (saved here, by the wizard or by another admin): the form shows it.
  const serverKey = JSON.stringify(s);
  const [baseline, setBaseline] = useState(serverKey);
  if (baseline !== serverKey) {
    setBaseline(serverKey);
    setDraft(scheduleDraft(s));
  }
  const save = useMutation({
    mutationFn: () =>
      api('PUT', `/connections/${connection.id}/schedule`, {
        ...draft,
        paused: s.paused ?? false,
        every: { ...draft.every!, value: Number(draft.every!.value) },
        cron: draft.cron?.trim() || null,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['connection', connection.id] }),
  });
  const problem = save.error instanceof ApiProblem ? save.error : null;

  return (
    <section aria-labelledby="schedule-title" className="schedule">
      <h2 id="schedule-title">Schedule</h2>
      <p className="meta">
        Next run: {s.enabled ? (s.paused ? 'paused' : when(connection.nextRunAt)) : 'auto sync is off'}
      </p>
      <ScheduleFields value={draft} onChange={setDraft} problem={problem} />
      {problem && !problem.problem.errors?.length && <p className="error">{problem.message}</p>}
      <button type="button" onClick={() => save.mutate()} disabled={save.isPending}>
        Save schedule
      </button>
      {save.isSuccess && <span role="status"> Saved.</span>}
    </section>
  );
}
