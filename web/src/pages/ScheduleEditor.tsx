import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { Connection } from '../api-types.ts';
import { when } from '../format.ts';

// Auto sync: on or off, every N minutes/hours/days from a start time, on chosen weekdays, in a time zone — or a cron
// expression for experts. Errors are shown on the field they concern.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export function ScheduleEditor({ connection }: { connection: Connection }) {
  const client = useQueryClient();
  const s = connection.schedule;
  const [draft, setDraft] = useState({
    enabled: s.enabled ?? false,
    value: s.every?.value ?? 1,
    unit: s.every?.unit ?? 'days',
    startAt: s.startAt ?? '2026-01-01T00:00',
    days: s.days ?? [],
    timeZone: s.timeZone && s.timeZone !== 'UTC' ? s.timeZone : Intl.DateTimeFormat().resolvedOptions().timeZone,
    cron: s.cron ?? '',
  });
  const save = useMutation({
    mutationFn: () =>
      api('PUT', `/connections/${connection.id}/schedule`, {
        enabled: draft.enabled,
        paused: s.paused ?? false,
        every: { value: Number(draft.value), unit: draft.unit },
        startAt: draft.startAt,
        days: draft.days,
        timeZone: draft.timeZone,
        cron: draft.cron.trim() || null,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['connection', connection.id] }),
  });
  const problem = save.error instanceof ApiProblem ? save.error : null;
  const error = (...fields: string[]) => fields.map((f) => problem?.field(f)).find(Boolean);
  const toggleDay = (d: string) =>
    setDraft({
      ...draft,
      days: draft.days.includes(d as never) ? draft.days.filter((x) => x !== d) : [...draft.days, d as never],
    });

  return (
    <section aria-labelledby="schedule-title" className="schedule">
      <h2 id="schedule-title">Schedule</h2>
      <p className="meta">
        Next run: {s.enabled ? (s.paused ? 'paused' : when(connection.nextRunAt)) : 'auto sync is off'}
      </p>
      <label className="inline">
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
        />{' '}
        Auto sync
      </label>
      <div className="row">
        <div>
          <label htmlFor="every">Every</label>
          <input
            id="every"
            type="number"
            min={1}
            value={draft.value}
            onChange={(e) => setDraft({ ...draft, value: Number(e.target.value) })}
          />
        </div>
        <div>
          <label htmlFor="unit">Unit</label>
          <select
            id="unit"
            value={draft.unit}
            onChange={(e) => setDraft({ ...draft, unit: e.target.value as typeof draft.unit })}
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
            value={draft.startAt}
            onChange={(e) => setDraft({ ...draft, startAt: e.target.value })}
          />
        </div>
        <div>
          <label htmlFor="timeZone">Time zone</label>
          <input
            id="timeZone"
            value={draft.timeZone}
            onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })}
            aria-invalid={!!error('timeZone')}
          />
        </div>
      </div>
      {error('every.value', 'every') && <p className="error">{error('every.value', 'every')}</p>}
      {error('timeZone', 'schedule.timeZone') && <p className="error">{error('timeZone', 'schedule.timeZone')}</p>}
      <fieldset>
        <legend>On these days (none: every day)</legend>
        {DAYS.map((d) => (
          <label key={d} className="inline">
            <input type="checkbox" checked={draft.days.includes(d as never)} onChange={() => toggleDay(d)} /> {d}
          </label>
        ))}
      </fieldset>
      <details>
        <summary>Cron expression (replaces the above)</summary>
        <label htmlFor="cron">Cron</label>
        <input
          id="cron"
          value={draft.cron}
          onChange={(e) => setDraft({ ...draft, cron: e.target.value })}
          placeholder="0 2 * * 1-5"
        />
      </details>
      {error('schedule.cron', 'cron') && <p className="error">{error('schedule.cron', 'cron')}</p>}
      {problem && !problem.problem.errors?.length && <p className="error">{problem.message}</p>}
      <button type="button" onClick={() => save.mutate()} disabled={save.isPending}>
        Save schedule
      </button>
      {save.isSuccess && <span role="status"> Saved.</span>}
    </section>
  );
}
