import type { Command } from 'commander';
import { loadConnectionConfig } from '../config/env.ts';
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
  StoreError,
  type DirectoryUserListing,
  type Store,
} from '../store/index.ts';
import { connectGraph } from '../sync/connect.ts';
import { userFromRow } from '../sync/mapping.ts';
import { connectionOption } from './options.ts';
import { openConfiguredStore } from './store.ts';
import { formatTable, showValue } from './table.ts';

// `usersync preview UPN|ID`: provision on demand without writing. Reads one user from Graph (one request, plus the
// user's groups when scope.groups is set), applies the connection's scope and mapping, and shows the record they
// produce and how it differs from the stored one.

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

export function previewCommand(program: Command): void {
  connectionOption(program.command('preview'))
    .description(
      'Provision on demand without writing: read one user from Graph, say whether they are in scope and why, and show the record the settings produce and its difference from the stored one.',
    )
    .argument('<user>', "the user's userPrincipalName or object id")
    .option('--json', 'print the preview as one JSON object')
    .action(async (user: string, flags: { json?: boolean; connection: string }) => {
      const config = loadConnectionConfig();
      const http = connectGraph(config);
      const store = await openExisting();
      try {
        const preview = await previewUser(http, store, flags.connection, user);
        process.stdout.write(flags.json ? `${JSON.stringify(preview)}\n` : describe(preview));
      } finally {
        await store?.close();
      }
    });
}

/** The store if there is one: a preview before the first sync compares with nothing. */
async function openExisting(): Promise<Store | null> {
  try {
    return await openConfiguredStore({ create: false });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'STORE_MISSING') return null;
    throw error;
  }
}

export async function previewUser(
  http: GraphHttp,
  store: Store | null,
  connectionId: string,
  user: string,
): Promise<Preview> {
  const before = http.requestCount;
  const settings = ((store && (await getSettings(store.db, connectionId))?.document) ?? {}) as Settings;
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

function describe(p: Preview): string {
  const lines: string[] = [];
  const who = p.record?.loginAccount ?? p.stored?.loginAccount ?? p.externalId;
  lines.push(p.inScope ? `${who} is in scope.` : `${who} is out of scope: ${p.reason}.`);
  if (p.error)
    lines.push(
      `The mapping fails for this user at ${p.error.field}: ${p.error.message}. A sync skips them and retries next run.`,
    );
  if (p.record) {
    const action = !p.stored
      ? p.inScope
        ? 'A sync would create this user.'
        : 'A sync would not create this user.'
      : p.changes.length === 0
        ? 'A sync would change nothing.'
        : `A sync would change ${p.changes.length} field${p.changes.length === 1 ? '' : 's'}:`;
    lines.push(action);
  }
  let out = `${lines.join('\n')}\n`;
  if (p.record && p.stored && p.changes.length > 0) {
    out +=
      formatTable(
        p.changes.map((c) => ({ field: c.field, stored: showValue(c.from), 'would be': showValue(c.to) })),
        '',
        100,
      ).trimEnd() + '\n';
  }
  if (p.record) {
    out += '\nThe record the settings produce:\n';
    out +=
      formatTable(
        Object.entries(p.record)
          .filter(([k]) => k !== 'custom')
          .map(([field, value]) => ({ field, value: showValue(value) }))
          .concat(
            Object.entries(p.record.custom).map(([field, value]) => ({
              field: `custom.${field}`,
              value: showValue(value),
            })),
          ),
        '',
        100,
      ).trimEnd() + '\n';
  }
  return `${out}\n${p.graphRequests} Graph request${p.graphRequests === 1 ? '' : 's'}; nothing was written.\n`;
}
