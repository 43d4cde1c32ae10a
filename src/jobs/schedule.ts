import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { UsersyncError } from '../core/errors.ts';

// A connection's schedule (the seeds' auto sync: on/off, frequency, start, recurrence; cron for experts) and when it
// next runs. Pure: the clock is an argument. Times are wall-clock times in the schedule's time zone, so "every day at
// 02:00 Europe/Paris" stays at 02:00 across daylight-saving changes.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const scheduleSchema = z
  .object({
    enabled: z.boolean().default(false).describe('auto sync on or off'),
    paused: z.boolean().default(false).describe('paused: no scheduled run starts until resumed (Sync Now still works)'),
    every: z
      .object({
        value: z.number().int().min(1, { error: 'every.value must be at least 1' }).max(1000),
        unit: z.enum(['minutes', 'hours', 'days'], { error: 'every.unit must be minutes, hours or days' }),
      })
      .strict()
      .default({ value: 1, unit: 'days' }),
    startAt: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, {
        error: 'startAt must be a local date and time such as 2026-12-01T02:00 (in timeZone)',
      })
      .default('2026-01-01T00:00')
      .describe('the first run, a wall-clock time in timeZone; later runs follow it every `every`'),
    days: z
      .array(z.enum(WEEKDAYS, { error: `days holds weekdays: ${WEEKDAYS.join(', ')}` }))
      .default([])
      .describe('runs only on these weekdays (empty: every day)'),
    cron: z
      .string()
      .nullable()
      .default(null)
      .describe('a cron expression (5 fields, or 6 with seconds); when set it replaces every, startAt and days'),
    timeZone: z
      .string()
      .default('UTC')
      .refine(validTimeZone, { error: 'timeZone must be an IANA time zone such as Europe/Paris or UTC' }),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.cron !== null) {
      try {
        CronExpressionParser.parse(s.cron, { tz: validTimeZone(s.timeZone) ? s.timeZone : 'UTC' });
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: ['cron'],
          message: `cron "${s.cron}" is not a cron expression (${(error as Error).message}); for example "0 2 * * 1-5" runs at 02:00 on weekdays`,
        });
      }
    }
  });

export type Schedule = z.output<typeof scheduleSchema>;

export const DEFAULT_SCHEDULE: Schedule = scheduleSchema.parse({});

/** A schedule from stored or requested JSON; an invalid one is an error naming the field. */
export function parseSchedule(input: unknown): Schedule {
  const result = scheduleSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = ['schedule', ...issue.path.map(String)].join('.');
  throw new UsersyncError('invalid_field', `${field}: ${issue.message}`, { context: { field } });
}

/** When the schedule next starts a run after `now`; null when auto sync is off or paused. */
export function nextRunAt(schedule: Schedule, now: Date): Date | null {
  if (!schedule.enabled || schedule.paused) return null;
  if (schedule.cron !== null)
    return CronExpressionParser.parse(schedule.cron, { currentDate: now, tz: schedule.timeZone }).next().toDate();
  const tz = schedule.timeZone;
  const days = new Set(schedule.days);
  const allowed = (t: Date) => days.size === 0 || days.has(WEEKDAYS[weekdayIn(t, tz)]);
  const [date, time] = schedule.startAt.split('T');
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  const { value, unit } = schedule.every;
  if (unit === 'days') {
    // Whole days on the wall clock: the same local time, every `value` days from the start date.
    const startDay = Date.UTC(y, mo - 1, d) / 86_400_000;
    const [ny, nm, nd] = localParts(now, tz);
    const today = Math.floor(Date.UTC(ny, nm, nd) / 86_400_000);
    let k = Math.max(0, Math.floor((today - startDay) / value) - 1);
    for (let i = 0; i < 400; i++, k++) {
      const day = new Date((startDay + k * value) * 86_400_000);
      const at = zonedTime(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h, mi, tz);
      if (at.getTime() > now.getTime() && allowed(at)) return at;
    }
    return null;
  }
  const step = value * (unit === 'hours' ? 3_600_000 : 60_000);
  const anchor = zonedTime(y, mo - 1, d, h, mi, tz).getTime();
  let t = now.getTime() < anchor ? anchor : anchor + (Math.floor((now.getTime() - anchor) / step) + 1) * step;
  // A week of steps at most: after that every weekday has come round.
  for (let i = 0; i <= Math.ceil((7 * 86_400_000) / step); i++, t += step) if (allowed(new Date(t))) return new Date(t);
  return null;
}

/** [year, month (0-based), day, hour, minute, weekday] of an instant on the wall clock of `tz`. */
function localParts(t: Date, tz: string): [number, number, number, number, number, number] {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const weekday = WEEKDAYS.indexOf(get('weekday').toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number]);
  return [
    Number(get('year')),
    Number(get('month')) - 1,
    Number(get('day')),
    Number(get('hour')),
    Number(get('minute')),
    weekday,
  ];
}

function weekdayIn(t: Date, tz: string): number {
  return localParts(t, tz)[5];
}

/**
 * The instant a wall-clock time in `tz` names: the earlier one when clocks go back and the time happens twice; a time
 * skipped when clocks go forward moves forward by the gap.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, tz: string): Date {
  const wall = Date.UTC(year, month, day, hour, minute);
  const shown = (t: number) => {
    const [ly, lm, ld, lh, lmi] = localParts(new Date(t), tz);
    return Date.UTC(ly, lm, ld, lh, lmi);
  };
  // The offsets a day either side of the time: one of them applies to it (zones change offset at most once a day).
  const candidates = [
    ...new Set([
      wall - (shown(wall - 86_400_000) - (wall - 86_400_000)),
      wall - (shown(wall + 86_400_000) - (wall + 86_400_000)),
    ]),
  ];
  const exact = candidates.filter((t) => shown(t) === wall);
  return new Date(exact.length > 0 ? Math.min(...exact) : Math.max(...candidates));
}
