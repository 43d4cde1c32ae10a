import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectoryUser, SourceUser } from './directory.ts';
import { groupTypeOf, normaliseGroup, normaliseUser, SourceDataError } from './normalise.ts';
import { newDepartments, planGroupLeft, planSourceGroup, planSourceUser, planUserLeft } from './plan.ts';

const graphUser = (over: Record<string, unknown> = {}) => ({
  id: 'u1',
  userPrincipalName: 'ada@contoso.com',
  displayName: 'Ada Lovelace',
  mail: 'ada@contoso.com',
  givenName: 'Ada',
  surname: 'Lovelace',
  userType: 'Member',
  jobTitle: 'Engineer',
  department: 'Research',
  accountEnabled: true,
  employeeId: '100',
  ...over,
});

function source(over: Record<string, unknown> = {}, round: 'full' | 'delta' = 'full'): SourceUser {
  const item = normaliseUser(graphUser(over), round);
  assert.equal(item.kind, 'user');
  return (item as { user: SourceUser }).user;
}

function stored(over: Record<string, unknown> = {}): DirectoryUser {
  const change = planSourceUser(undefined, source(over));
  assert.equal(change.kind, 'write');
  return (change as { user: DirectoryUser }).user;
}

describe('normalise', () => {
  it('maps Graph names onto the directory contract', () => {
    const u = source({ faxNumber: '  ', department: ' Research ' });
    assert.equal(u.loginAccount, 'ada@contoso.com');
    assert.equal(u.employeeNo, '100');
    assert.equal(u.faxNumber, null, 'blank means no value');
    assert.equal(u.department, 'Research');
    assert.equal(u.managerExternalId, null, 'a full round without manager@delta means no manager');
    assert.equal(
      source({}, 'delta').managerExternalId,
      undefined,
      'a change round without manager@delta means unchanged',
    );
  });

  it('reads manager@delta additions and removals', () => {
    assert.equal(
      source({ 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'm2' }] }, 'delta').managerExternalId,
      'm2',
    );
    assert.equal(
      source({ 'manager@delta': [{ id: 'm1', '@removed': { reason: 'deleted' } }] }, 'delta').managerExternalId,
      null,
    );
  });

  it('recognises removed objects and rejects malformed ones with the id and field', () => {
    assert.deepEqual(normaliseUser({ id: 'u9', '@removed': { reason: 'changed' } }, 'delta'), {
      kind: 'removed',
      externalId: 'u9',
      reason: 'changed',
    });
    assert.throws(
      () => normaliseUser({ id: 'u3', userPrincipalName: 42 }, 'full'),
      (e: Error) => e instanceof SourceDataError && /u3/.test(e.message) && /userPrincipalName/.test(e.message),
    );
    assert.throws(() => normaliseUser({ displayName: 'no id' }, 'full'), SourceDataError);
  });

  it('derives the four group types and member slices', () => {
    assert.equal(groupTypeOf(['Unified'], true, false), 'microsoft365');
    assert.equal(groupTypeOf([], false, true), 'security');
    assert.equal(groupTypeOf([], true, true), 'mail-enabled-security');
    assert.equal(groupTypeOf([], true, false), 'distribution');
    const item = normaliseGroup({
      id: 'g1',
      displayName: 'Team',
      groupTypes: [],
      mailEnabled: false,
      securityEnabled: true,
      'members@delta': [
        { '@odata.type': '#microsoft.graph.user', id: 'u1' },
        { '@odata.type': '#microsoft.graph.group', id: 'g2' },
        { '@odata.type': '#microsoft.graph.user', id: 'u2', '@removed': { reason: 'deleted' } },
      ],
    });
    assert.deepEqual(item, {
      kind: 'group',
      group: { externalId: 'g1', name: 'Team', type: 'security' },
      added: [
        { externalId: 'u1', kind: 'user' },
        { externalId: 'g2', kind: 'group' },
      ],
      removedMembers: ['u2'],
    });
  });
});

describe('plan', () => {
  it('creates, skips unchanged, and updates only what changed', () => {
    const existing = stored();
    assert.equal(existing.status, 'active');
    assert.deepEqual(planSourceUser(existing, source()), { kind: 'unchanged', externalId: 'u1' });
    const change = planSourceUser(existing, source({ department: 'Sales', jobTitle: 'Lead' }));
    assert.equal(change.kind, 'write');
    if (change.kind === 'write') {
      assert.equal(change.counted, 'updated');
      assert.deepEqual(change.fields, ['jobTitle', 'department']);
    }
  });

  it('disables on accountEnabled=false, and counts re-enabling as an update', () => {
    const existing = stored();
    const disabled = planSourceUser(existing, source({ accountEnabled: false }));
    assert.equal(disabled.kind === 'write' && disabled.counted, 'disabled');
    const off = (disabled as { user: DirectoryUser }).user;
    assert.equal(off.status, 'disabled');
    const back = planSourceUser(off, source());
    assert.equal(back.kind === 'write' && back.counted, 'updated');
  });

  it('keeps a leaver, disabled, never dropped; restore brings them back', () => {
    const existing = stored();
    const left = planUserLeft(existing, 'deleted');
    assert.ok(left && left.kind === 'write' && left.counted === 'disabled');
    const gone = (left as { user: DirectoryUser }).user;
    assert.equal(gone.sourceState, 'deleted');
    assert.deepEqual(planUserLeft(gone, 'deleted'), { kind: 'unchanged', externalId: 'u1' });
    assert.equal(planUserLeft(undefined, 'deleted'), null);
    const restored = planSourceUser(gone, source());
    assert.ok(
      restored.kind === 'write' && restored.user.status === 'active' && restored.user.sourceState === 'present',
    );
  });

  it('keeps the manager when a change round does not mention it', () => {
    const existing = stored({ 'manager@delta': [{ id: 'boss' }] });
    assert.equal(existing.managerExternalId, 'boss');
    assert.deepEqual(
      planSourceUser(existing, source({ 'manager@delta': [{ id: 'boss' }] }, 'delta')).kind,
      'unchanged',
    );
    const change = planSourceUser(existing, source({ jobTitle: 'x' }, 'delta'));
    assert.equal((change as { user: DirectoryUser }).user.managerExternalId, 'boss');
  });

  it('plans groups and new departments', () => {
    const created = planSourceGroup(undefined, { externalId: 'g1', name: 'A', type: 'security' });
    assert.equal(created.kind === 'write' && created.counted, 'created');
    const group = (created as { group: any }).group;
    assert.equal(planSourceGroup(group, { externalId: 'g1', name: 'A', type: 'security' }).kind, 'unchanged');
    assert.equal((planSourceGroup(group, { externalId: 'g1', name: 'B', type: 'security' }) as any).counted, 'updated');
    assert.equal((planGroupLeft(group, 'deleted') as any).counted, 'removed');
    assert.deepEqual(
      newDepartments(new Set(['Sales']), [
        { department: 'Sales' },
        { department: 'Legal' },
        { department: null },
        { department: 'Legal' },
      ]),
      ['Legal'],
    );
  });
});
