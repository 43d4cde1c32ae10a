import { graphUserAttributes } from '../expression/index.ts';
import type { Settings } from '../settings.ts';
import { compileFilters, type ScopeDecision } from './filters.ts';

// The scope stage: is this Graph user synced, and if not, why. Compiled once from the settings' `scope`; decided per
// user from the user object and the ids of the groups the user belongs to (transitively when nestedGroups, which is
// the caller's to compute). Pure.

export interface CompiledScope {
  /** Group membership decides scope (scope.groups is set): the caller must pass each user's groups. */
  readonly byGroups: boolean;
  readonly nestedGroups: boolean;
  /** Graph user properties the scope reads (for `$select`). */
  readonly properties: readonly string[];
  decide(user: Record<string, unknown>, groups?: ReadonlySet<string>): ScopeDecision;
}

export function compileScope(scope: Settings['scope'] = {}): CompiledScope {
  const groups = new Set((scope.groups ?? []).map((g) => g.toLowerCase()));
  const userTypes = scope.userTypes ?? ['Member', 'Guest'];
  const filters = compileFilters(scope.filters ?? []);
  const excluded = (scope.excludeEmails ?? []).map((pattern) => ({ pattern, re: wildcard(pattern) }));
  const properties = new Set(['userPrincipalName', 'mail', 'userType', 'accountEnabled', ...filters.attributes]);
  return {
    byGroups: groups.size > 0,
    nestedGroups: scope.nestedGroups ?? true,
    properties: [...properties],
    decide(user, memberOf) {
      if (groups.size > 0) {
        const inGroup = [...(memberOf ?? [])].some((id) => groups.has(id.toLowerCase()));
        if (!inGroup)
          return {
            in: false,
            reason: `not a member of any scope group${scope.nestedGroups === false ? ' (direct members only)' : ''}`,
          };
      }
      const type = typeof user.userType === 'string' ? user.userType : 'Member';
      if (!userTypes.some((t) => t.toLowerCase() === type.toLowerCase()))
        return { in: false, reason: `user type ${type} is not in scope (scope.userTypes: ${userTypes.join(', ')})` };
      if (scope.disabledAccounts === 'skip' && user.accountEnabled === false)
        return { in: false, reason: 'the account is disabled and scope.disabledAccounts is "skip"' };
      for (const address of [user.mail, user.userPrincipalName]) {
        if (typeof address !== 'string') continue;
        const hit = excluded.find((e) => e.re.test(address));
        if (hit)
          return { in: false, reason: `${address} matches the excluded address ${hit.pattern} (scope.excludeEmails)` };
      }
      return filters.decide(graphUserAttributes(user));
    },
  };
}

/** `*@contractors.example.com` → a case-insensitive whole-value pattern; `*` is the only wildcard. */
export function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .trim()
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
}
