import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLeavers } from './policy.ts';

describe('decideLeavers', () => {
  it('applies ordinary leavers, and small waves in small directories', () => {
    assert.deepEqual(decideLeavers({ leavers: 0, active: 0, holdExists: false }), { apply: true });
    assert.deepEqual(decideLeavers({ leavers: 3, active: 100, holdExists: false }), { apply: true });
    assert.deepEqual(decideLeavers({ leavers: 20, active: 50, holdExists: false }), { apply: true });
    assert.deepEqual(decideLeavers({ leavers: 500, active: 100_000, holdExists: false }), { apply: true });
  });

  it('holds more than 500, more than 10 % of the active users above 20 leavers, and everyone leaving', () => {
    assert.deepEqual(decideLeavers({ leavers: 501, active: 100_000, holdExists: false }), {
      apply: false,
      reason: '501 leavers is more than 500',
    });
    assert.deepEqual(decideLeavers({ leavers: 21, active: 200, holdExists: false }), {
      apply: false,
      reason: '21 leavers is more than 10% of the 200 active users',
    });
    assert.deepEqual(decideLeavers({ leavers: 5, active: 5, holdExists: false }), {
      apply: false,
      reason: 'every one of the 5 active users would leave: the source looks empty',
    });
  });

  it('uses the configured threshold, and new leavers join an undecided hold', () => {
    assert.deepEqual(decideLeavers({ leavers: 21, active: 200, holdExists: false, threshold: { percent: 50 } }), {
      apply: true,
    });
    assert.equal(decideLeavers({ leavers: 3, active: 1000, holdExists: false, threshold: { count: 2 } }).apply, false);
    assert.equal(decideLeavers({ leavers: 1, active: 1000, holdExists: true }).apply, false);
  });
});
