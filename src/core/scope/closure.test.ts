import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberRef } from '../directory.ts';
import { groupClosure } from './closure.ts';

// Group scope with nesting: depth, cycles, shared subgroups, and direct-only scope.

const graph: Record<string, MemberRef[]> = {
  sales: [
    { externalId: 'ann', kind: 'user' },
    { externalId: 'emea', kind: 'group' },
  ],
  emea: [
    { externalId: 'bob', kind: 'user' },
    { externalId: 'nordics', kind: 'group' },
    { externalId: 'sales', kind: 'group' },
  ],
  nordics: [
    { externalId: 'cai', kind: 'user' },
    { externalId: 'emea', kind: 'group' },
  ],
  it: [
    { externalId: 'dan', kind: 'user' },
    { externalId: 'nordics', kind: 'group' },
  ],
  empty: [],
};
const members = (id: string) => graph[id] ?? [];

describe('groupClosure', () => {
  it('follows nested groups at any depth and through cycles, expanding each group once', () => {
    const seen: string[] = [];
    const closure = groupClosure(['sales'], (id) => {
      seen.push(id);
      return members(id);
    });
    assert.deepEqual([...closure.users].sort(), ['ann', 'bob', 'cai']);
    assert.deepEqual([...closure.groups].sort(), ['emea', 'nordics', 'sales']);
    assert.deepEqual(
      seen.sort(),
      ['emea', 'nordics', 'sales'],
      'sales → emea → nordics → emea → sales: each read once',
    );
  });

  it('several scope groups share what they contain; direct-only scope ignores nested groups', () => {
    assert.deepEqual([...groupClosure(['sales', 'it'], members).users].sort(), ['ann', 'bob', 'cai', 'dan']);
    const direct = groupClosure(['sales', 'it'], members, false);
    assert.deepEqual([...direct.users].sort(), ['ann', 'dan']);
    assert.deepEqual([...direct.groups].sort(), ['it', 'sales']);
  });

  it('an empty or unknown group puts nobody in scope', () => {
    assert.deepEqual(groupClosure(['empty', 'missing'], members).users.size, 0);
  });
});
