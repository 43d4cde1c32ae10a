import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/env.ts';
import { GraphError } from '../entra/errors.ts';
import { StoreError } from '../store/errors.ts';
import { describeError, UsersyncError } from './errors.ts';
import { compileExpression } from './expression/index.ts';
import { compileFilters } from './scope/filters.ts';

// Every failure of the product has one shape — code, message, hint, context — whatever layer raised it.

const shapeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsersyncError, `${String(error)} is a UsersyncError`);
    return describeError(error, { connectionId: 'emea' });
  }
  throw new Error('did not throw');
};

describe('the one error shape', () => {
  it('expression errors carry the position, filters the path, config the variable', () => {
    assert.deepEqual(
      shapeOf(() => compileExpression('Joinn([a])')),
      {
        code: 'expression_unknown_function',
        message: 'unknown function "Joinn" at character 1: did you mean "Join"?',
        hint: 'did you mean "Join"?',
        context: { position: 0, connectionId: 'emea' },
      },
    );
    const filters = shapeOf(() => compileFilters([[{ attribute: 'a', operator: 'EQUAL', value: 'x' }]]));
    assert.equal(filters.code, 'filters_invalid');
    assert.equal(filters.context.field, 'filters[0][0].operator');
    assert.deepEqual(describeError(new ConfigError('AZURE_TENANT_ID', 'AZURE_TENANT_ID is missing')).context, {
      field: 'AZURE_TENANT_ID',
    });
  });

  it('Graph and store errors keep their codes, with the object and request in the context', () => {
    const graph = describeError(
      new GraphError({
        code: 'permission_denied',
        status: 403,
        path: '/groups/delta',
        requestId: 'r1',
        hint: 'grant GroupMember.Read.All',
        message: 'Graph denied /groups/delta',
      }),
    );
    assert.deepEqual(graph, {
      code: 'permission_denied',
      message: 'Graph denied /groups/delta',
      hint: 'grant GroupMember.Read.All',
      context: { object: '/groups/delta', status: 403, requestId: 'r1' },
    });
    const store = describeError(new StoreError('STORE_CORRUPT', 'damaged', { location: '/data/usersync.db' }));
    assert.deepEqual(store.context, { object: '/data/usersync.db', location: '/data/usersync.db' });
  });

  it('anything else is internal, with the message', () => {
    assert.deepEqual(describeError(new TypeError('boom')), {
      code: 'internal',
      message: 'boom',
      hint: null,
      context: {},
    });
    assert.equal(
      JSON.stringify(new UsersyncError('x', 'y', { hint: 'z' })),
      '{"code":"x","message":"y","hint":"z","context":{}}',
    );
  });
});
