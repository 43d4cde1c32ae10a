import assert from 'node:assert/strict';
import { it } from 'node:test';
import { massDisableStop } from './policy.ts';

it('lets ordinary leavers through and stops a full read that lost most of the directory', () => {
  assert.equal(massDisableStop(5, 10), null, 'a handful is never held back, whatever the share');
  assert.equal(massDisableStop(20, 40), null);
  assert.equal(massDisableStop(100, 1000), null, 'exactly at the limit');
  const stop = massDisableStop(101, 1000);
  assert.ok(stop);
  assert.match(stop.message, /^Stopped before disabling 101 of 1000 users \(10\.1%, above the 10% limit\)/);
  assert.match(stop.message, /USERSYNC_MAX_DISABLE_PERCENT=100/);
  assert.equal(massDisableStop(1000, 1000, 100), null, '100 turns the stop off');
  assert.ok(massDisableStop(300, 1000, 25));
});
