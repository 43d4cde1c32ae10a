import {
  listDepartments,
  listDirectoryGroups,
  type DepartmentListing,
  type DirectoryGroupListing,
  type Store,
} from '../store/index.ts';
import type { Settings } from '../core/settings.ts';
import { groupSyncRule, loadSettings } from './applied-settings.ts';
import { GroupScope } from './project.ts';

// The directory's groups and departments as the connection's current settings define them: every Entra group is kept
// in the store (the source mirror), and `groups.sync`, `groups.types`, `groups.map` and `departments.sync` decide what
// the directory shows, so changing them needs no read from Entra.

/** `settings`: the connection's, when the caller has them already (a run); read from the store otherwise. */
export async function listSyncedGroups(
  store: Store,
  conn: string,
  settings?: Settings,
): Promise<DirectoryGroupListing[]> {
  settings ??= (await loadSettings(store.db, conn)).settings;
  const scopeGroups = settings.scope?.groups ?? [];
  const scope =
    settings.groups?.sync === 'scope' && scopeGroups.length > 0
      ? await GroupScope.load(store.db, conn, scopeGroups, settings.scope?.nestedGroups ?? true)
      : null;
  return listDirectoryGroups(store.db, conn, {
    include: groupSyncRule(settings.groups, () => scope),
    map: settings.groups?.map,
  });
}

export async function listSyncedDepartments(store: Store, conn: string): Promise<DepartmentListing[]> {
  const { settings } = await loadSettings(store.db, conn);
  return settings.departments?.sync === false ? [] : listDepartments(store.db, conn);
}
