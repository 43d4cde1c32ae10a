import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFromResponse, graphPath, isTransientNetworkError, networkCode, permissionFor } from './errors.ts';

describe('errors', () => {
  it('reduces links to the Graph path', () => {
    assert.equal(graphPath('https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=x'), '/groups/delta');
    assert.equal(graphPath('users/1/photo/$value'), '/users/1/photo/$value');
    assert.equal(graphPath('/v1.0'), '/');
  });

  it('knows the least privileged permission per endpoint', () => {
    const table: [string, string][] = [
      ['/users', 'User.Read.All'],
      ['/users/delta', 'User.Read.All'],
      ['/users/1/manager', 'User.Read.All'],
      ['/users/1/photo', 'ProfilePhoto.Read.All'],
      ['/users/1/photos/48x48/$value', 'ProfilePhoto.Read.All'],
      ['/users/1/memberOf', 'GroupMember.Read.All'],
      ['/groups', 'GroupMember.Read.All'],
      ['/groups/delta', 'GroupMember.Read.All'],
      ['/groups/1/members', 'GroupMember.Read.All'],
      ['/directory/deletedItems/microsoft.graph.user', 'User.Read.All'],
      ['/directory/deletedItems/microsoft.graph.group', 'GroupMember.Read.All'],
      ['/applications', 'Directory.Read.All'],
    ];
    for (const [path, permission] of table) assert.equal(permissionFor(path), permission, path);
  });

  it('finds socket codes along the cause chain and tells transient from fatal', () => {
    const wrapped = (code: string) =>
      Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code }) });
    assert.equal(networkCode(wrapped('ECONNRESET')), 'ECONNRESET');
    assert.equal(networkCode(new Error('socket hang up')), 'ECONNRESET');
    assert.equal(
      networkCode(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })),
      'UND_ERR_SOCKET',
    );
    assert.ok(isTransientNetworkError(wrapped('ECONNRESET')));
    assert.ok(isTransientNetworkError(wrapped('UND_ERR_HEADERS_TIMEOUT')));
    assert.ok(!isTransientNetworkError(wrapped('ENOTFOUND')));
    assert.ok(!isTransientNetworkError(wrapped('ECONNREFUSED')));
    assert.ok(!isTransientNetworkError(wrapped('DEPTH_ZERO_SELF_SIGNED_CERT')));
    assert.ok(!isTransientNetworkError(new Error('boom')));
  });

  it('keeps messages to one line and takes the request-id from the body when the header is missing', () => {
    const error = errorFromResponse({
      status: 400,
      url: '/users?$select=shoeSize',
      body: {
        error: {
          code: 'Request_BadRequest',
          message: "Could not find a property named 'shoeSize'.\r\nMore.",
          innerError: { 'request-id': 'in-body' },
        },
      },
    });
    assert.equal(error.code, 'graph_error');
    assert.equal(
      error.message,
      "Graph refused /users (400 Request_BadRequest: Could not find a property named 'shoeSize'. More): check the properties and filters the sync asks for. request-id: in-body",
    );
  });
});
