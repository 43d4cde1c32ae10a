import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidInputError,
  absoluteGraphPath,
  createFaults,
  defaultFaultSettings,
  type FaultDecision,
} from './faults.ts';

function tally(decisions: FaultDecision[]): Record<string, number> {
  const out: Record<string, number> = { none: 0, throttle: 0, unavailable: 0, reset: 0, delay: 0 };
  for (const d of decisions) out[d.kind]++;
  return out;
}

function draw(faults: ReturnType<typeof createFaults>, n: number, path = '/users', inBatch = false): FaultDecision[] {
  return Array.from({ length: n }, () => faults.decide({ path, method: 'GET', inBatch }));
}

describe('faults', () => {
  it('starts with every switch off', () => {
    const faults = createFaults('x');
    assert.deepEqual(faults.settings, defaultFaultSettings);
    assert.deepEqual(tally(draw(faults, 1000)), { none: 1000, throttle: 0, unavailable: 0, reset: 0, delay: 0 });
    assert.equal(faults.hideUsers(), false);
    assert.deepEqual(faults.decideToken(), { kind: 'none' });
    assert.equal(faults.deltaGeneration, 0);
  });

  it('answers each kind at its ratio, within tolerance over many draws', () => {
    const faults = createFaults(42);
    faults.update({
      throttleRatio: 0.2,
      unavailableRatio: 0.1,
      resetRatio: 0.05,
      slowRatio: 0.15,
      slowMs: 7,
      throttleRetryAfterSeconds: 0.05,
      unavailableRetryAfterSeconds: 3,
    });
    const n = 40_000;
    const decisions = draw(faults, n);
    const t = tally(decisions);
    const near = (count: number, ratio: number) =>
      assert.ok(Math.abs(count / n - ratio) < 0.01, `${count / n} ≉ ${ratio}`);
    near(t.throttle, 0.2);
    near(t.unavailable, 0.1);
    near(t.reset, 0.05);
    near(t.delay, 0.15);
    near(t.none, 0.5);
    assert.deepEqual(
      decisions.find((d) => d.kind === 'throttle'),
      { kind: 'throttle', retryAfter: 0.05 },
    );
    assert.deepEqual(
      decisions.find((d) => d.kind === 'unavailable'),
      { kind: 'unavailable', retryAfter: 3 },
    );
    assert.deepEqual(
      decisions.find((d) => d.kind === 'delay'),
      { kind: 'delay', ms: 7 },
    );
    assert.deepEqual(faults.counts, {
      throttle: t.throttle,
      unavailable: t.unavailable,
      reset: t.reset,
      delay: t.delay,
      tokenThrottle: 0,
      hiddenUsers: 0,
    });
  });

  it('throttleRatio 1 throttles everything; 503 without Retry-After when none is set', () => {
    const faults = createFaults(1);
    faults.update({ throttleRatio: 1 });
    assert.ok(draw(faults, 200).every((d) => d.kind === 'throttle'));
    faults.update({ throttleRatio: 0, unavailableRatio: 1 });
    assert.ok(draw(faults, 200).every((d) => d.kind === 'unavailable' && d.retryAfter === null));
  });

  it('is reproducible per seed and differs across seeds', () => {
    const make = (seed: string | number) => {
      const f = createFaults(seed);
      f.update({ throttleRatio: 0.3, resetRatio: 0.1 });
      return draw(f, 500)
        .map((d) => d.kind)
        .join(',');
    };
    assert.equal(make('run-1'), make('run-1'));
    assert.equal(make(7), make(7));
    assert.notEqual(make('run-1'), make('run-2'));
  });

  it('reset() restores defaults and restarts the random sequence', () => {
    const faults = createFaults('again');
    faults.update({ throttleRatio: 0.5 });
    const first = draw(faults, 100).map((d) => d.kind);
    faults.reset();
    assert.deepEqual(faults.settings, defaultFaultSettings);
    assert.equal(faults.counts.throttle, 0);
    faults.update({ throttleRatio: 0.5 });
    assert.deepEqual(
      draw(faults, 100).map((d) => d.kind),
      first,
    );
  });

  it('throttles $batch items individually, but never resets or delays them', () => {
    const faults = createFaults('batch');
    faults.update({ throttleRatio: 0.25, unavailableRatio: 0.05, resetRatio: 0.3, slowRatio: 0.3 });
    const n = 20_000;
    const t = tally(draw(faults, n, '/users/x/manager', true));
    assert.equal(t.reset, 0);
    assert.equal(t.delay, 0);
    assert.ok(Math.abs(t.throttle / n - 0.25) < 0.012, String(t.throttle / n));
    assert.ok(Math.abs(t.unavailable / n - 0.05) < 0.008, String(t.unavailable / n));
  });

  it('only affects paths matching the filter; with or without the version prefix, batch items too', () => {
    const faults = createFaults('paths');
    faults.update({ throttleRatio: 1, paths: '^/users/delta' });
    assert.equal(faults.decide({ path: '/users/delta', method: 'GET' }).kind, 'throttle');
    assert.equal(faults.decide({ path: '/users', method: 'GET' }).kind, 'none');
    assert.equal(faults.decide({ path: '/groups/delta', method: 'GET' }).kind, 'none');
    assert.equal(faults.decide({ path: '/users/delta', method: 'GET', inBatch: true }).kind, 'throttle');
    faults.update({ paths: '^/v1\\.0/users/[^/]+/manager$' });
    assert.equal(faults.decide({ path: '/v1.0/users/abc/manager' }).kind, 'throttle');
    assert.equal(faults.decide({ path: '/users/abc/manager' }).kind, 'throttle');
    assert.equal(faults.decide({ path: 'users/abc/manager', inBatch: true }).kind, 'throttle');
    assert.equal(faults.decide({ path: '/users/abc/photo/$value' }).kind, 'none');
    assert.equal(faults.affects('/users/abc/manager'), true);
    faults.update({ paths: null });
    assert.equal(faults.decide({ path: '/anything' }).kind, 'throttle');
    faults.update({ paths: '' });
    assert.equal(faults.settings.paths, null);
  });

  it('hides users until a time (a source outage)', () => {
    let clock = 1_000_000;
    const faults = createFaults('outage', { now: () => clock });
    faults.update({ noUsersUntil: clock + 5000 });
    assert.equal(faults.hideUsers(), true);
    assert.equal(faults.hideUsers(), true);
    clock += 4999;
    assert.equal(faults.hideUsers(), true);
    clock += 1;
    assert.equal(faults.hideUsers(), false);
    faults.update({ noUsersUntil: new Date(clock + 10).toISOString() });
    assert.equal(faults.settings.noUsersUntil, clock + 10);
    assert.equal(faults.hideUsers(), true);
    faults.update({ noUsersUntil: null });
    assert.equal(faults.hideUsers(), false);
    assert.equal(faults.counts.hiddenUsers, 4);
  });

  it('hides users for the next N users requests', () => {
    const faults = createFaults('count');
    faults.update({ noUsersRequests: 3 });
    assert.deepEqual(
      [faults.hideUsers(), faults.hideUsers(), faults.hideUsers(), faults.hideUsers(), faults.hideUsers()],
      [true, true, true, false, false],
    );
    assert.equal(faults.settings.noUsersRequests, 0);
  });

  it('expiring delta tokens bumps the generation; resetting faults does not un-expire them', () => {
    const faults = createFaults('gen');
    assert.equal(faults.deltaGeneration, 0);
    assert.equal(faults.expireDeltaTokens(), 1);
    assert.equal(faults.expireDeltaTokens(), 2);
    faults.reset();
    assert.equal(faults.deltaGeneration, 2);
    assert.equal(faults.snapshot().deltaGeneration, 2);
  });

  it('throttles the token endpoint separately from Graph', () => {
    const faults = createFaults('token');
    faults.update({ tokenThrottleRatio: 0.5, throttleRetryAfterSeconds: 0.1 });
    const decisions = Array.from({ length: 4000 }, () => faults.decideToken());
    const throttledShare = decisions.filter((d) => d.kind === 'throttle').length / 4000;
    assert.ok(Math.abs(throttledShare - 0.5) < 0.03, String(throttledShare));
    assert.deepEqual(
      decisions.find((d) => d.kind === 'throttle'),
      { kind: 'throttle', retryAfter: 0.1 },
    );
    assert.equal(faults.decide({ path: '/users' }).kind, 'none', 'Graph is not affected by tokenThrottleRatio');
  });

  it('rejects bad settings with a message naming the field, and keeps the previous settings', () => {
    const faults = createFaults('bad');
    faults.update({ throttleRatio: 0.1 });
    const rejects = (patch: Record<string, unknown>, field: string, pattern: RegExp) => {
      assert.throws(
        () => faults.update(patch),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError, String(error));
          assert.equal(error.status, 400);
          assert.equal(error.field, field);
          assert.match(error.message, pattern);
          return true;
        },
      );
    };
    rejects({ throttleRatio: 2 }, 'throttleRatio', /throttleRatio must be a number from 0 to 1/);
    rejects({ throttleRatio: 'lots' }, 'throttleRatio', /throttleRatio must be a number from 0 to 1/);
    rejects({ unavailableRatio: -0.1 }, 'unavailableRatio', /unavailableRatio/);
    rejects({ throttleRetryAfterSeconds: -1 }, 'throttleRetryAfterSeconds', /seconds ≥ 0/);
    rejects({ slowMs: 1.5 }, 'slowMs', /whole number of milliseconds/);
    rejects({ noUsersRequests: -1 }, 'noUsersRequests', /whole number/);
    rejects({ noUsersUntil: 'tomorrow' }, 'noUsersUntil', /noUsersUntil must be/);
    rejects({ throtleRatio: 0.5 }, 'throtleRatio', /'throtleRatio': unknown field; allowed fields are throttleRatio/);
    rejects({ paths: '([' }, 'paths', /paths must be a valid regular expression/);
    rejects({ resetRatio: 0.95 }, 'resetRatio', /at most 1 .*got 1\.05/);
    assert.equal(faults.settings.throttleRatio, 0.1);
    assert.equal(faults.settings.resetRatio, 0);
    assert.equal(faults.settings.paths, null);
  });

  it('absoluteGraphPath adds the version to a relative batch url', () => {
    assert.equal(absoluteGraphPath('/users/x'), '/v1.0/users/x');
    assert.equal(absoluteGraphPath('users/x'), '/v1.0/users/x');
    assert.equal(absoluteGraphPath('/v1.0/users'), '/v1.0/users');
    assert.equal(absoluteGraphPath('/beta/users'), '/beta/users');
  });
});
