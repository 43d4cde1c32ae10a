import type { MemberRef } from '../directory.ts';

// Group scope: who is in scope through the scope groups. With nested groups, members of groups inside a scope group
// count too, at any depth; Entra allows cycles (A in B, B in A), so every group is expanded once. Pure: the caller
// passes a way to read a group's direct members (from the store, or from Graph).

export interface GroupClosure {
  /** Users who are members of a scope group (directly, or through nested groups when nested). */
  users: Set<string>;
  /** The scope groups and, when nested, every group nested in them (what `groups.sync: "scope"` syncs). */
  groups: Set<string>;
}

export function groupClosure(
  scopeGroups: Iterable<string>,
  directMembers: (groupId: string) => Iterable<MemberRef>,
  nested = true,
): GroupClosure {
  const users = new Set<string>();
  const groups = new Set<string>();
  const queue = [...scopeGroups];
  while (queue.length > 0) {
    const group = queue.shift()!;
    if (groups.has(group)) continue; // a cycle, or a group reached twice
    groups.add(group);
    for (const member of directMembers(group)) {
      if (member.kind === 'user') users.add(member.externalId);
      else if (nested) queue.push(member.externalId);
    }
  }
  return { users, groups };
}
