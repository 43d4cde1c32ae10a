import type { GroupType } from '../core/directory.ts';
import { UsersyncError } from '../core/errors.ts';
import { USER_SELECT } from '../core/normalise.ts';
import type { Stages } from '../core/project.ts';
import { GRAPH_USER_PROPERTIES, validateSettings, type Settings } from '../core/settings.ts';
import { getSettings, type Store, type SyncState } from '../store/index.ts';
import type { GroupScope, Projector } from './project.ts';

// What a run takes from the connection's settings: the document (validated again: it was valid when it was set),
// the users `$select` it needs, whether the stored delta links select enough, and which Entra groups are synced.

export async function loadSettings(db: Store['db'], conn: string): Promise<{ version: number; settings: Settings }> {
  const stored = await getSettings(db, conn);
  if (!stored) return { version: 0, settings: {} };
  const result = validateSettings(stored.document);
  if (!result.ok)
    throw new UsersyncError(
      'settings_invalid',
      `The settings of connection ${conn} (version ${stored.version}) are no longer valid: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`,
      { hint: 'fix them with `usersync config set FILE`', context: { connectionId: conn } },
    );
  return { version: stored.version, settings: result.settings };
}

const CANONICAL = new Map(GRAPH_USER_PROPERTIES.map((p) => [p.toLowerCase(), p]));

/** The users delta `$select`: what the default map reads, then what the settings add (in name order). */
export function usersSelect(stages: Stages, more: readonly string[] = []): string[] {
  const base = new Set(USER_SELECT.map((p) => p.toLowerCase()));
  const extra = new Set<string>();
  for (const p of [...stages.mapping.properties, ...stages.scope.properties, ...more]) {
    const name = CANONICAL.get(p.toLowerCase()) ?? p;
    if (name !== 'id' && !base.has(name.toLowerCase())) extra.add(name);
  }
  return [...USER_SELECT, ...[...extra].sort()];
}

/** Why this run must read every user again although it has delta links, or null when the links select enough. */
export function rereadReason(state: SyncState, select: readonly string[], full: boolean): string | null {
  if (full || (state.users_delta_link === null && state.users_next_link === null)) return null;
  if (state.users_select === null)
    return 'the source mirror is new (this store was synced by an earlier usersync), so every user is read once to fill it';
  const stored = new Set(state.users_select.split(',').map((p) => p.toLowerCase()));
  const missing = select.filter((p) => !stored.has(p.toLowerCase()));
  if (missing.length === 0) return null;
  return `the settings now read ${missing.join(', ')}, which earlier runs did not select, so every user is read again with the wider $select`;
}

/**
 * Whether an Entra group becomes a directory group: a group named in `groups.map` always does; the others by
 * `groups.sync` (all, scope, none) and `groups.types`.
 */
export function groupSyncRule(
  groups: Settings['groups'],
  groupScope: () => GroupScope | null,
): (id: string, type: GroupType) => boolean {
  const sync = groups?.sync ?? 'all';
  const types = groups?.types ? new Set<string>(groups.types) : null;
  const mapped = new Set(Object.keys(groups?.map ?? {}).map((id) => id.toLowerCase()));
  return (id, type) => {
    if (mapped.has(id.toLowerCase())) return true;
    if (sync === 'none') return false;
    if (types && !types.has(type)) return false;
    if (sync === 'scope') return groupScope()?.groups.has(id.toLowerCase()) ?? false;
    return true;
  };
}

/** Failing users are skipped and retried; when most of those a run mapped failed (and at least 3), the settings are wrong. */
export function mostlyFailed(projector: Projector): UsersyncError | null {
  const { errors, users } = projector.summary;
  if (users.errors < 3 || users.errors * 2 <= projector.attempts) return null;
  const first = errors[0];
  return new UsersyncError(
    'mapping_failed',
    `The mapping failed for ${users.errors} of ${projector.attempts} users (the first, ${first.loginAccount ?? first.externalId}, at ${first.field}: ${first.message}); when most users fail the settings are wrong. The others were synced; the failed ones are retried on the next run.`,
    {
      hint: 'check the mapping on one user with `usersync preview USER`, then fix it with `usersync config set FILE`',
      context: { field: `mapping.fields.${first.field}`, object: first.externalId },
    },
  );
}
