import {
  listDepartments,
  listDirectoryGroups,
  type DepartmentListing,
  type DirectoryGroupListing,
  type Store,
} from '../store/index.ts';
import { groupSyncRule, loadSettings } from './applied-settings.ts';
import { GroupScope } from './project.ts';

// The directory's groups and departments as the connection's current settings define them: every Entra group is kept
// in the store (the source mirror), and `groups.sync`, `groups.types`, `groups.map` and `departments.sync` decide what
// the directory shows, so changing them needs no read from Entra.

export async function listSyncedGroups(store: Store, conn: string): Promise<DirectoryGroupListing[]> {
  const { settings } = await loadSettings(store.db, conn);
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
