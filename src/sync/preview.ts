import { PROFILE_FIELDS, type DirectoryUser } from '../core/directory.ts';
import { projectUser } from '../core/project.ts';
import { compileMapping } from '../core/mapping.ts';
import { compileScope } from '../core/scope/scope.ts';
import type { Settings } from '../core/settings.ts';
import type { GraphHttp } from '../entra/http.ts';
import { pages } from '../entra/paging.ts';
import {
  getDirectoryUserListing,
  getSettings,
  getUsersByIds,
  type DirectoryUserListing,
  type Store,
} from '../store/index.ts';
import { userFromRow } from './mapping.ts';

// Provision on demand without writing (`usersync preview`, the API's preview, the console's live mapping editor): reads
// one user from Graph (one request, plus the user's groups when scope.groups is set), applies the connection's scope
// and mapping — or draft settings not saved yet — and shows the record they produce and how it differs from the stored one.

export interface Preview {
  externalId: string;
  inScope: boolean;
  /** Why the user is out of scope; null when in scope. */
  reason: string | null;
  /** The directory record the settings produce (the `users list` shape plus `custom`); null when the mapping failed. */
  record: (DirectoryUserListing & { custom: Record<string, unknown> }) | null;
  /** The mapping failed for this user: the field and why (a sync would skip them and retry next run). */
  error: { field: string; message: string } | null;
  /** The stored record, or null when the directory does not have the user. */
  stored: (DirectoryUserListing & { custom: Record<string, unknown> }) | null;
  changes: { field: string; from: unknown; to: unknown }[];
  graphRequests: number;
}

export async function previewUser(
  http: GraphHttp,
  store: Store | null,
  connectionId: string,
  user: string,
  /** Draft settings to try instead of the connection's saved ones. */
  draft?: Settings,
): Promise<Preview> {
  const before = http.requestCount;
  const settings = draft ?? (((store && (await getSettings(store.db, connectionId))?.document) ?? {}) as Settings);
  const scope = compileScope(settings.scope);
  const mapping = compileMapping(settings.mapping);
  const select = [...new Set(['id', 'userPrincipalName', ...scope.properties, ...mapping.properties])];
  const response = await http.get(
    `/users/${encodeURIComponent(user).replace(/%40/g, '@')}?$select=${select.join(',')}&$expand=manager($select=id,userPrincipalName)`,
  );
  const graphUser = response.json() as Record<string, unknown>;
  const id = String(graphUser.id);

  let groups: Set<string> | undefined;
  if (scope.byGroups) {
    groups = new Set();
    const path = scope.nestedGroups ? 'transitiveMemberOf' : 'memberOf';
    for await (const page of pages(http, `/users/${encodeURIComponent(id)}/${path}/microsoft.graph.group?$select=id`))
      for (const g of page.value) groups.add(String(g.id));
  }
  const decision = scope.decide(graphUser, groups);

  const storedListing = store ? await getDirectoryUserListing(store.db, connectionId, id) : undefined;
  const storedRow = store ? (await getUsersByIds(store.db, connectionId, [id]))[0] : undefined;
  const stored = storedListing ? { ...storedListing, custom: storedRow?.custom_fields ?? {} } : null;

  // The same stage a sync runs for each user: scope → mapping → plan against the stored record.
  const manager = graphUser.manager as { id?: string } | undefined;
  const projection = projectUser(
    { externalId: id, data: graphUser, managerExternalId: manager?.id ?? null, state: 'present' },
    storedRow ? userFromRow(storedRow) : undefined,
    { scope, mapping },
    groups,
  );
  let record: Preview['record'] = null;
  let error: Preview['error'] = null;
  if (projection.kind === 'error') error = projection.error;
  else {
    const change = projection.change;
    let user = change?.kind === 'write' ? change.user : null;
    if (user === null && change?.kind !== 'unchanged') {
      // Out of scope and never synced: a sync creates nothing; show what the settings would make of the user.
      const mapped = mapping.map(graphUser, null);
      if ('error' in mapped) error = mapped.error;
      else
        user = {
          ...mapped.ok.profile,
          loginAccount: mapped.ok.profile.loginAccount!,
          externalId: id,
          accountEnabled: graphUser.accountEnabled !== false,
          managerExternalId: manager?.id ?? null,
          sourceState: 'out_of_scope',
          status: 'disabled',
          custom: mapped.ok.custom,
          fingerprint: '',
        };
    }
    if (change?.kind === 'unchanged') record = stored;
    else if (user) record = await listing(store, connectionId, user, stored);
  }
  const changes = record ? diff(stored, record) : [];
  return {
    externalId: id,
    inScope: decision.in,
    reason: decision.in ? null : decision.reason,
    record,
    error,
    stored,
    changes,
    graphRequests: http.requestCount - before,
  };
}

/** A directory user as `users list` shows it (lineManager while the manager is present in the directory; the stored photo). */
async function listing(
  store: Store | null,
  connectionId: string,
  user: DirectoryUser,
  stored: Preview['stored'],
): Promise<NonNullable<Preview['record']>> {
  const managerRow =
    store && user.managerExternalId
      ? (await getUsersByIds(store.db, connectionId, [user.managerExternalId]))[0]
      : undefined;
  const profile = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, user[f]]));
  return reorder({
    externalId: user.externalId,
    ...profile,
    lineManager: managerRow?.source_state === 'present' ? managerRow.login_account : null,
    photo: stored?.photo ?? null,
    status: user.status,
    custom: user.custom,
  } as NonNullable<Preview['record']>);
}

/** The `users list` contract's key order (lineManager after department), then custom fields. */
const ORDER = [
  'externalId',
  ...PROFILE_FIELDS.flatMap((f) => (f === 'department' ? [f, 'lineManager'] : [f])),
  'photo',
  'status',
  'custom',
];

function reorder<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(ORDER.filter((k) => k in record).map((k) => [k, record[k]])) as T;
}

function diff(stored: Preview['stored'], record: NonNullable<Preview['record']>): Preview['changes'] {
  const out: Preview['changes'] = [];
  const before = (stored ?? {}) as Record<string, unknown>;
  for (const key of ORDER) {
    if (key === 'externalId' || key === 'custom') continue;
    const from = stored ? (before[key] ?? null) : null;
    const to = (record as Record<string, unknown>)[key] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ field: key, from, to });
  }
  const storedCustom = (stored?.custom ?? {}) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(storedCustom), ...Object.keys(record.custom)])) {
    const from = storedCustom[key] ?? null;
    const to = record.custom[key] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ field: `custom.${key}`, from, to });
  }
  return out;
}
