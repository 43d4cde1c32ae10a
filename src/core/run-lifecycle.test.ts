import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canMove, statusesBefore } from './run-lifecycle.ts';

test('a run moves queued → running → an end, or is cancelled; an ended run never moves again', () => {
  assert.ok(canMove('queued', 'running'));
  assert.ok(canMove('queued', 'cancelled'));
  assert.ok(!canMove('queued', 'succeeded'), 'a queued run has not run');
  for (const end of ['succeeded', 'failed', 'held', 'cancelled'] as const) {
    assert.ok(canMove('running', end));
    for (const next of ['queued', 'running', 'succeeded', 'failed', 'held', 'cancelled'] as const)
      assert.ok(!canMove(end, next), `${end} → ${next}`);
  }
  assert.deepEqual(statusesBefore('cancelled'), ['queued', 'running']);
  assert.deepEqual(statusesBefore('failed'), ['running']);
});
