import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from './log.ts';

it('is silent unless asked, and names the variable when the level is wrong', () => {
  assert.equal(createLogger({}).level, 'silent');
  assert.equal(createLogger({ USERSYNC_LOG_LEVEL: 'DEBUG' }).level, 'debug');
  assert.throws(() => createLogger({ USERSYNC_LOG_LEVEL: 'loud' }), /USERSYNC_LOG_LEVEL must be one of/);
});
