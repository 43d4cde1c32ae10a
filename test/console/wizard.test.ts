import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeCounts, getIn, parseList, setIn, shown, stepOfField, STEPS } from '../../web/src/wizard.ts';
import { changesOf, describeSeries, runSeries, type RunPoint } from '../../web/src/charts.ts';

// The console's own logic, outside the browser: the setup wizard's steps and draft editing, and the run charts' series.

describe('the setup wizard', () => {
  it('has the steps of the usecure journey, in order, with the test sync before the schedule', () => {
    assert.deepEqual(
      STEPS.map((s) => s.id),
      ['auto-sync', 'who', 'filters', 'fields', 'groups', 'lifecycle', 'emails', 'test-sync', 'schedule', 'done'],
    );
  });

  it('sends each field the API names to the step that edits it', () => {
    const cases: [string, string][] = [
      ['settings.scope.groups[0]', 'who'],
      ['settings.scope.userTypes', 'who'],
      ['settings.scope.excludeEmails[2]', 'filters'],
      ['settings.scope.filters[0][1].operator', 'filters'],
      ['settings.mapping.fields.jobTitle.expression', 'fields'],
      ['settings.mapping.custom.cost-center', 'fields'],
      ['settings.groups.map.abc', 'groups'],
      ['settings.departments.sync', 'groups'],
      ['settings.lifecycle.onLeave', 'lifecycle'],
      ['settings.safety.deletionThreshold.percent', 'lifecycle'],
      ['settings.email.reports.to[0]', 'emails'],
      ['schedule.enabled', 'auto-sync'],
      ['schedule.timeZone', 'schedule'],
      ['settings', 'done'],
      ['settings.scopes', 'done'],
    ];
    for (const [field, step] of cases) assert.equal(stepOfField(field), step, field);
  });

  it('reads lists typed one per line or with commas, without blanks or repeats (ignoring case)', () => {
    assert.deepEqual(parseList(' a@x.com\n\n*@contractors.example.com, A@X.com ;b@y.org\n'), [
      'a@x.com',
      '*@contractors.example.com',
      'b@y.org',
    ]);
    assert.deepEqual(parseList('  \n , '), []);
  });

  it('edits the draft without touching the original, and a setting put back to its default leaves no trace', () => {
    const original = { scope: { groups: ['g1'] }, mapping: { fields: { jobTitle: { constant: 'x' } } } };
    const a = setIn(original, ['scope', 'nestedGroups'], false);
    assert.deepEqual(a.scope, { groups: ['g1'], nestedGroups: false });
    assert.deepEqual(original.scope, { groups: ['g1'] }, 'the original is unchanged');
    const b = setIn(a, ['mapping', 'fields', 'jobTitle'], undefined);
    assert.equal('mapping' in b, false, 'empty parents go too');
    const c = setIn({}, ['email', 'reports'], { to: ['it@example.com'] });
    assert.deepEqual(c, { email: { reports: { to: ['it@example.com'] } } });
    assert.equal(getIn(c, ['email', 'reports', 'to', '0']), undefined, 'lists are not walked into');
    assert.deepEqual(getIn(c, ['email', 'reports', 'to']), ['it@example.com']);
    assert.equal(getIn(c, ['scope', 'groups']), undefined);
  });

  it('counts a test sync by object and action, and shows values as a diff does', () => {
    assert.deepEqual(
      changeCounts([
        { object: 'user', action: 'created' },
        { object: 'user', action: 'created' },
        { object: 'user', action: 'updated' },
        { object: 'group', action: 'created' },
      ]),
      { user: { created: 2, updated: 1 }, group: { created: 1 } },
    );
    assert.equal(shown(null), '—');
    assert.equal(shown(''), '—');
    assert.equal(shown(['a', 'b']), '["a","b"]');
    assert.equal(shown(0), '0');
  });
});

describe('the run history charts', () => {
  const run = (over: Partial<RunPoint>): RunPoint => ({
    dryRun: false,
    status: 'succeeded',
    finishedAt: '2026-11-30T10:00:00.000Z',
    durationMs: 1500,
    graphRequests: 3,
    throttled: 0,
    summary: { users: { created: 1, updated: 2, disabled: 0, removed: 0, unchanged: 7 }, groups: { created: 1 } },
    ...over,
  });

  it('plots finished runs that wrote, oldest first; test syncs and unfinished runs are left out', () => {
    const series = runSeries([
      run({ finishedAt: '2026-11-30T10:05:00.000Z', durationMs: 500, throttled: null }),
      run({ finishedAt: '2026-11-30T10:00:00.000Z' }),
      run({ dryRun: true }),
      run({ status: 'running', finishedAt: null }),
      run({ status: 'failed', finishedAt: '2026-11-30T10:02:00.000Z', summary: null, graphRequests: null }),
    ]);
    assert.deepEqual(series.x, [1796032800, 1796032920, 1796033100]);
    assert.deepEqual(series.durationS, [1.5, 1.5, 0.5]);
    assert.deepEqual(series.changes, [4, 0, 4]);
    assert.deepEqual(series.graphRequests, [3, 0, 3]);
    assert.deepEqual(series.throttled, [0, 0, null]);
  });

  it('counts changed objects, not unchanged ones', () => {
    assert.equal(
      changesOf({
        users: { created: 1, updated: 1, disabled: 1, removed: 1, unchanged: 99 },
        groups: { removed: 2 },
        departments: { created: 3 },
      }),
      9,
    );
    assert.equal(changesOf(null), 0);
  });

  it('says each chart in a sentence for screen readers', () => {
    assert.equal(
      describeSeries('Duration', [1.5, 0.25], ' s'),
      'Duration over the last 2 runs: latest 0.3 s, highest 1.5 s',
    );
    assert.equal(
      describeSeries('Throttled answers', [null, 2, 0]),
      'Throttled answers over the last 2 runs: latest 0, highest 2',
    );
    assert.equal(describeSeries('Graph requests', []), 'Graph requests: no finished run yet');
  });
});
