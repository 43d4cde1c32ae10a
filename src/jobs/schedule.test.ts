import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRunAt, parseSchedule, zonedTime } from './schedule.ts';

const at = (iso: string) => new Date(iso);
const next = (input: unknown, now: string) => nextRunAt(parseSchedule(input), at(now))?.toISOString() ?? null;

test('auto sync off, or paused, never runs by itself', () => {
  assert.equal(next({}, '2026-12-01T10:00:00Z'), null);
  assert.equal(next({ enabled: true, paused: true }, '2026-12-01T10:00:00Z'), null);
});

test('every N minutes or hours follows the start time, not the moment the schedule was saved', () => {
  const s = { enabled: true, every: { value: 15, unit: 'minutes' }, startAt: '2026-12-01T09:05' };
  assert.equal(next(s, '2026-12-01T10:00:00Z'), '2026-12-01T10:05:00.000Z');
  assert.equal(next(s, '2026-12-01T10:05:00Z'), '2026-12-01T10:20:00.000Z');
  // Before the start: the start itself.
  assert.equal(next(s, '2026-11-30T00:00:00Z'), '2026-12-01T09:05:00.000Z');
  assert.equal(
    next({ enabled: true, every: { value: 4, unit: 'hours' }, startAt: '2026-12-01T02:00' }, '2026-12-03T07:00:00Z'),
    '2026-12-03T10:00:00.000Z',
  );
});

test('every day at a wall-clock time in the time zone, across a daylight-saving change', () => {
  const s = { enabled: true, every: { value: 1, unit: 'days' }, startAt: '2026-03-01T02:30', timeZone: 'Europe/Paris' };
  // Winter: UTC+1.
  assert.equal(next(s, '2026-03-27T12:00:00Z'), '2026-03-28T01:30:00.000Z');
  // 29 March 2026, 02:30 does not exist in Paris (clocks go 02:00 → 03:00): it runs at 03:30 local, 01:30 UTC.
  assert.equal(next(s, '2026-03-28T12:00:00Z'), '2026-03-29T01:30:00.000Z');
  // Summer: UTC+2.
  assert.equal(next(s, '2026-03-30T12:00:00Z'), '2026-03-31T00:30:00.000Z');
  // Every 3 days from the start date.
  assert.equal(
    next({ ...s, every: { value: 3, unit: 'days' }, timeZone: 'UTC' }, '2026-03-02T00:00:00Z'),
    '2026-03-04T02:30:00.000Z',
  );
});

test('recurrence on weekdays skips the other days', () => {
  const s = { enabled: true, every: { value: 1, unit: 'days' }, startAt: '2026-01-01T06:00', days: ['mon', 'wed'] };
  // Friday 4 December 2026 → Monday 7 December.
  assert.equal(next(s, '2026-12-04T12:00:00Z'), '2026-12-07T06:00:00.000Z');
  assert.equal(next({ ...s, every: { value: 6, unit: 'hours' } }, '2026-12-04T12:00:00Z'), '2026-12-07T00:00:00.000Z');
});

test('a cron expression, in the time zone', () => {
  assert.equal(
    next({ enabled: true, cron: '0 2 * * 1-5', timeZone: 'America/New_York' }, '2026-12-04T12:00:00Z'),
    '2026-12-07T07:00:00.000Z',
  );
});

test('bad schedules name the field and the fix', () => {
  assert.throws(
    () => parseSchedule({ cron: 'every day' }),
    /schedule\.cron: cron "every day" is not a cron expression/,
  );
  assert.throws(
    () => parseSchedule({ timeZone: 'Mars/Olympus' }),
    /schedule\.timeZone: timeZone must be an IANA time zone/,
  );
  assert.throws(
    () => parseSchedule({ every: { value: 0, unit: 'minutes' } }),
    /schedule\.every\.value: every\.value must be at least 1/,
  );
  assert.throws(() => parseSchedule({ startAt: '2am' }), /schedule\.startAt: startAt must be a local date and time/);
  assert.throws(() => parseSchedule({ days: ['monday'] }), /schedule\.days\.0: days holds weekdays/);
  assert.throws(() => parseSchedule({ frequency: 'daily' }), /schedule: .*frequency/);
});

test('zonedTime turns a wall-clock time into the instant', () => {
  assert.equal(zonedTime(2026, 6, 1, 12, 0, 'Europe/Paris').toISOString(), '2026-07-01T10:00:00.000Z');
  assert.equal(zonedTime(2026, 0, 1, 12, 0, 'Asia/Kolkata').toISOString(), '2026-01-01T06:30:00.000Z');
});
