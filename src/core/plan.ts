import {
  PROFILE_FIELDS,
  statusOf,
  type DirectoryGroup,
  type DirectoryUser,
  type SourceGroup,
  type SourceState,
  type SourceUser,
} from './directory.ts';
import { fingerprint } from './normalise.ts';

// Plan: compare what the source says with what the directory holds and decide the smallest change.
// Unchanged objects produce no write. Nothing is ever dropped: leaving the source means disabled.

export type Counted = 'created' | 'updated' | 'disabled' | 'unchanged';

export type UserChange =
  | { kind: 'write'; user: DirectoryUser; counted: Exclude<Counted, 'unchanged'>; fields: string[] }
  | { kind: 'unchanged'; externalId: string };

// Custom fields join the fingerprint only when there are any, so directories without them keep their fingerprints.
const userFingerprint = (u: Omit<DirectoryUser, 'fingerprint' | 'status'>) =>
  fingerprint([
    ...PROFILE_FIELDS.map((f) => u[f]),
    u.accountEnabled,
    u.managerExternalId,
    u.sourceState,
    ...(Object.keys(u.custom).length > 0 ? [sortedEntries(u.custom)] : []),
  ]);

const sortedEntries = (o: Record<string, unknown>) =>
  Object.keys(o)
    .sort()
    .map((k) => [k, o[k]]);

function changedFields(before: DirectoryUser, after: DirectoryUser): string[] {
  const fields: string[] = PROFILE_FIELDS.filter((f) => before[f] !== after[f]);
  if (before.managerExternalId !== after.managerExternalId) fields.push('lineManager');
  for (const name of new Set([...Object.keys(before.custom), ...Object.keys(after.custom)]))
    if ((before.custom[name] ?? null) !== (after.custom[name] ?? null)) fields.push(`custom.${name}`);
  if (before.status !== after.status) fields.push('status');
  if (before.sourceState !== after.sourceState && fields.length === 0) fields.push('sourceState');
  return fields;
}

function decide(existing: DirectoryUser | undefined, next: DirectoryUser): UserChange {
  if (!existing) return { kind: 'write', user: next, counted: 'created', fields: [...PROFILE_FIELDS] };
  if (existing.fingerprint === next.fingerprint) return { kind: 'unchanged', externalId: existing.externalId };
  const counted = existing.status === 'active' && next.status === 'disabled' ? 'disabled' : 'updated';
  return { kind: 'write', user: next, counted, fields: changedFields(existing, next) };
}

/** A user the source has (created, changed, re-read in a full round, or restored). */
export function planSourceUser(existing: DirectoryUser | undefined, source: SourceUser): UserChange {
  const { managerExternalId, custom, ...profile } = source;
  const base = {
    ...profile,
    custom: custom ?? {},
    managerExternalId: managerExternalId === undefined ? (existing?.managerExternalId ?? null) : managerExternalId,
    sourceState: 'present' as const,
  };
  const next: DirectoryUser = {
    ...base,
    status: statusOf(source.accountEnabled, 'present'),
    fingerprint: userFingerprint(base),
  };
  return decide(existing, next);
}

/**
 * lifecycle.existingUsers "skip": an existing user's fields stay as they are; only their state follows the source
 * (enabled or disabled, present or not).
 */
export function keepFields(existing: DirectoryUser, change: UserChange): UserChange {
  if (change.kind === 'unchanged') return change;
  const next = change.user;
  const base = { ...existing, accountEnabled: next.accountEnabled, sourceState: next.sourceState };
  return decide(existing, {
    ...base,
    status: statusOf(base.accountEnabled, base.sourceState),
    fingerprint: userFingerprint(base),
  });
}

/** The user leaves the directory's present users (deleted in Entra, gone from a full read, out of scope). */
export function isLeaving(existing: DirectoryUser | undefined, next: DirectoryUser): boolean {
  return existing?.sourceState === 'present' && next.sourceState !== 'present';
}

/** A user deleted in Entra ('deleted'), absent from a full read ('missing') or out of scope: kept, disabled. */
export function planUserLeft(
  existing: DirectoryUser | undefined,
  state: Exclude<SourceState, 'present'>,
): UserChange | null {
  if (!existing) return null; // never synced: nothing to keep
  if (existing.sourceState !== 'present') return { kind: 'unchanged', externalId: existing.externalId };
  const base = { ...existing, sourceState: state };
  const next: DirectoryUser = {
    ...base,
    status: statusOf(existing.accountEnabled, state),
    fingerprint: userFingerprint(base),
  };
  return decide(existing, next);
}

export type GroupChange =
  | { kind: 'write'; group: DirectoryGroup; counted: 'created' | 'updated' | 'removed' }
  | { kind: 'unchanged'; externalId: string };

const groupFingerprint = (g: SourceGroup & { sourceState: SourceState }) =>
  fingerprint([g.name, g.type, g.sourceState]);

export function planSourceGroup(existing: DirectoryGroup | undefined, source: SourceGroup): GroupChange {
  const next: DirectoryGroup = {
    ...source,
    sourceState: 'present',
    fingerprint: groupFingerprint({ ...source, sourceState: 'present' }),
  };
  if (!existing) return { kind: 'write', group: next, counted: 'created' };
  if (existing.fingerprint === next.fingerprint) return { kind: 'unchanged', externalId: existing.externalId };
  return { kind: 'write', group: next, counted: 'updated' };
}

/** A group deleted in Entra or absent from a full read: hidden from the directory's groups, memberships kept for audit. */
export function planGroupLeft(
  existing: DirectoryGroup | undefined,
  state: Exclude<SourceState, 'present'>,
): GroupChange | null {
  if (!existing) return null;
  if (existing.sourceState !== 'present') return { kind: 'unchanged', externalId: existing.externalId };
  const next: DirectoryGroup = {
    ...existing,
    sourceState: state,
    fingerprint: groupFingerprint({ ...existing, sourceState: state }),
  };
  return { kind: 'write', group: next, counted: 'removed' };
}

/** Departments: one per distinct non-empty value, created the first time it appears. */
export function newDepartments(known: ReadonlySet<string>, users: readonly { department: string | null }[]): string[] {
  const out = new Set<string>();
  for (const u of users) if (u.department !== null && !known.has(u.department)) out.add(u.department);
  return [...out].sort();
}
