import { PROFILE_FIELDS, type DirectoryUser } from './directory.ts';

// What the audit trail says about a directory user a run wrote: the action, and every field before → after.

export interface UserAudit {
  action: 'created' | 'updated' | 'disabled' | 'enabled' | 'left' | 'removed';
  changes: { field: string; from: unknown; to: unknown }[];
}

export function userAudit(before: DirectoryUser | undefined, after: DirectoryUser, removed = false): UserAudit {
  const fresh = !before || before.removed;
  const changes: UserAudit['changes'] = [];
  const from = (value: unknown) => (fresh ? null : (value ?? null));
  for (const field of PROFILE_FIELDS)
    if (from(before?.[field]) !== (after[field] ?? null))
      changes.push({ field, from: from(before?.[field]), to: after[field] ?? null });
  if (from(before?.managerExternalId) !== after.managerExternalId)
    changes.push({ field: 'manager', from: from(before?.managerExternalId), to: after.managerExternalId });
  const custom = new Set([...Object.keys(fresh ? {} : (before?.custom ?? {})), ...Object.keys(after.custom)]);
  for (const name of custom) {
    const a = fresh ? null : (before?.custom[name] ?? null);
    const b = after.custom[name] ?? null;
    if (a !== b) changes.push({ field: `custom.${name}`, from: a, to: b });
  }
  if (!fresh && before!.status !== after.status)
    changes.push({ field: 'status', from: before!.status, to: after.status });
  if (!fresh && before!.sourceState !== after.sourceState)
    changes.push({ field: 'source', from: before!.sourceState, to: after.sourceState });
  const action: UserAudit['action'] = removed
    ? 'removed'
    : fresh
      ? 'created'
      : before!.status === 'active' && after.status === 'disabled'
        ? after.sourceState === 'present'
          ? 'disabled'
          : 'left'
        : before!.status === 'disabled' && after.status === 'active'
          ? 'enabled'
          : 'updated';
  return { action, changes };
}
