import { PROFILE_FIELDS, type DirectoryUser } from './directory.ts';
import type { CompiledMapping, MappingError } from './mapping.ts';
import { planSourceUser, planUserLeft, type UserChange } from './plan.ts';
import type { CompiledScope } from './scope/scope.ts';

// One user from the source mirror to the directory: scope → mapping → plan. Pure: the caller passes what Graph said
// (the mirror), the stored record and, for group scope, whether the user reaches a scope group.

export interface UserSource {
  externalId: string;
  /** The Graph user object (selected properties). */
  data: Record<string, unknown>;
  /** The manager's object id; null = none; undefined = this read did not say (keep the stored one). */
  managerExternalId: string | null | undefined;
  state: 'present' | 'deleted' | 'missing';
}

export type Projection =
  { kind: 'change'; change: UserChange | null; outOfScope: string | null } | { kind: 'error'; error: MappingError };

export interface Stages {
  scope: CompiledScope;
  mapping: CompiledMapping;
}

/**
 * The directory change one source user makes. `memberOf` is the set of scope groups the user reaches (directly, or
 * through nesting when nestedGroups), needed only when scope.byGroups.
 */
export function projectUser(
  source: UserSource,
  existing: DirectoryUser | undefined,
  stages: Stages,
  memberOf?: ReadonlySet<string>,
): Projection {
  if (source.state !== 'present')
    return { kind: 'change', change: planUserLeft(existing, source.state), outOfScope: null };
  const decision = stages.scope.decide(source.data, memberOf);
  if (!decision.in)
    return { kind: 'change', change: planUserLeft(existing, 'out_of_scope'), outOfScope: decision.reason };
  const mapped = stages.mapping.map(
    source.data,
    existing
      ? { profile: Object.fromEntries(PROFILE_FIELDS.map((f) => [f, existing[f]])) as never, custom: existing.custom }
      : null,
  );
  if ('error' in mapped) return { kind: 'error', error: mapped.error };
  const change = planSourceUser(existing, {
    ...mapped.ok.profile,
    loginAccount: mapped.ok.profile.loginAccount!,
    externalId: source.externalId,
    accountEnabled: source.data.accountEnabled !== false,
    managerExternalId: source.managerExternalId,
    custom: mapped.ok.custom,
  });
  return { kind: 'change', change, outOfScope: null };
}
