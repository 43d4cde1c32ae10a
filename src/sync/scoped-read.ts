import { UsersyncError } from '../core/errors.ts';
import { GROUP_SELECT } from '../core/normalise.ts';
import { runBatch } from '../entra/batch.ts';
import type { GraphHttp } from '../entra/http.ts';
import { pages, readDelta, type GraphObject } from '../entra/paging.ts';

// Group-scoped reading: when scope.groups names a few groups, read what the scope needs instead of every user of the
// tenant (reference §4, §5, §6):
// - the users delta starts with `$deltatoken=latest` before anything is read, so later runs see every change made
//   since, tenant-wide, and keep those of users in the mirror or in the scope groups;
// - the scope groups' nested groups come from `transitiveMembers/microsoft.graph.group` (one request per scope group);
// - a groups delta filtered by those groups' ids (`$filter=id eq … or …`, at most 50) also starts at `latest`, then
//   the groups and their direct members are read in one `$batch`;
// - the members' properties and managers come from users delta rounds filtered by id (50 ids each), 20 to a `$batch`.
// These functions only read Graph; the run applies what they return.

/** A groups delta `$filter` names at most this many ids (reference §4): beyond, the whole tenant is read. */
export const MAX_SCOPE_READ_GROUPS = 50;
/** Users delta `$filter=id eq …` names at most 50 ids. */
const IDS_PER_FILTER = 50;

/** What the stored links of a group-scoped read cover; kept as JSON in sync_state.read_scope. */
export interface ReadScope {
  /** The settings it was made for: scope groups (lower case, sorted) and nesting. */
  key: string;
  /** `scoped`: the links read the groups below and their members; `tenant`: the scope covers most of the tenant, so every user is read. */
  mode: 'scoped' | 'tenant';
  /** The groups the groups delta link reads: the scope groups and every group nested in them. */
  groups: string[];
}

export function readScopeKey(scopeGroups: readonly string[], nested: boolean): string {
  return JSON.stringify({ groups: [...new Set(scopeGroups.map((g) => g.toLowerCase()))].sort(), nested });
}

export function parseReadScope(text: string | null): ReadScope | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as ReadScope;
    return typeof value.key === 'string' && Array.isArray(value.groups) ? value : null;
  } catch {
    return null;
  }
}

/** A delta link that starts "from now": the first page of `…/delta?$deltatoken=latest` is empty and carries it. */
export async function latestDeltaLink(http: GraphHttp, resource: 'users' | 'groups', query: string): Promise<string> {
  for await (const page of readDelta(http, {
    resource,
    link: `/${resource}/delta?${query}${query ? '&' : ''}$deltatoken=latest`,
    select: [],
  })) {
    if (page.deltaLink) return page.deltaLink;
  }
  throw new UsersyncError(
    'invalid_graph_response',
    `Graph's ${resource} delta with $deltatoken=latest ended without a deltaLink`,
  );
}

/** The scope groups and every group nested in them (lower-case ids), one request per scope group when nested. */
export async function scopeClosure(
  http: GraphHttp,
  scopeGroups: readonly string[],
  nested: boolean,
): Promise<string[]> {
  const out = new Set(scopeGroups.map((g) => g.toLowerCase()));
  if (!nested) return [...out];
  for (const group of scopeGroups) {
    const path = `/groups/${encodeURIComponent(group)}/transitiveMembers/microsoft.graph.group?$select=id&$top=999`;
    try {
      for await (const page of pages(http, path)) for (const g of page.value) out.add(String(g.id).toLowerCase());
    } catch (error) {
      // A scope group that no longer exists has no members: nobody is in scope through it.
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return [...out].sort();
}

export interface ScopeGroupsRead {
  /** The filtered groups delta link, taken before the members were read. */
  deltaLink: string;
  /** The groups as groups-delta items (properties and every direct member in `members@delta`), for the run to apply as a full round. */
  items: GraphObject[];
  /** Direct user members of those groups: everyone in scope through them. */
  userIds: Set<string>;
}

/** The groups' filtered delta link, then their properties and direct members (one `$batch` per 10 groups, plus further member pages). */
export async function readScopeGroups(http: GraphHttp, groups: readonly string[]): Promise<ScopeGroupsRead> {
  const filter = groups.map((id) => `id eq '${id}'`).join(' or ');
  const deltaLink = await latestDeltaLink(http, 'groups', `$filter=${filter}&$select=${GROUP_SELECT.join(',')}`);
  const answers = await runBatch(
    http,
    groups.flatMap((id) => [
      { id: `g-${id}`, url: `/groups/${id}?$select=id,displayName,groupTypes,mailEnabled,securityEnabled` },
      { id: `m-${id}`, url: `/groups/${id}/members?$select=id&$top=999` },
    ]),
  );
  const items: GraphObject[] = [];
  const userIds = new Set<string>();
  for (const id of groups) {
    const group = answers.get(`g-${id}`)!;
    const members = answers.get(`m-${id}`)!;
    if (group.status === 404 || members.status === 404) continue; // deleted since: the delta link reports it
    for (const answer of [group, members])
      if (answer.status >= 400)
        throw new UsersyncError('graph_error', `Graph answered ${answer.status} reading the scope group ${id}`, {
          context: { object: id },
        });
    const body = members.body as { value?: GraphObject[]; '@odata.nextLink'?: string };
    const refs: GraphObject[] = [...(body.value ?? [])];
    if (body['@odata.nextLink'])
      for await (const page of pages(http, body['@odata.nextLink'])) refs.push(...page.value);
    const membersDelta = refs.map((m) => ({ '@odata.type': m['@odata.type'], id: m.id }));
    for (const m of membersDelta)
      if (String(m['@odata.type'] ?? '').toLowerCase() !== '#microsoft.graph.group') userIds.add(String(m.id));
    items.push({ ...(group.body as GraphObject), 'members@delta': membersDelta });
  }
  return { deltaLink, items, userIds };
}

/** Users of the tenant (`/users/$count`, an advanced query): the size the scope is compared with. */
export async function tenantUserCount(http: GraphHttp): Promise<number> {
  const response = await http.get('/users/$count', { headers: { ConsistencyLevel: 'eventual' } });
  const count = Number(response.bytes.toString('utf8').trim());
  if (!Number.isInteger(count) || count < 0)
    throw new UsersyncError(
      'invalid_graph_response',
      'Graph answered /users/$count with something that is not a count',
    );
  return count;
}

/**
 * Users by id with the run's `$select` and their managers: users delta rounds filtered by 50 ids, 20 rounds to a `$batch`
 * (1,000 users per request). Yields the users a batch returned, as users-delta items of a full round.
 */
export async function* usersById(
  http: GraphHttp,
  ids: readonly string[],
  select: readonly string[],
): AsyncGenerator<GraphObject[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_FILTER) chunks.push(ids.slice(i, i + IDS_PER_FILTER));
  for (let i = 0; i < chunks.length; i += 20) {
    const part = chunks.slice(i, i + 20);
    const answers = await runBatch(
      http,
      part.map((chunk, n) => ({
        id: String(n),
        url: `/users/delta?$filter=${chunk.map((id) => `id eq '${id}'`).join(' or ')}&$select=${select.join(',')}`,
      })),
    );
    const users: GraphObject[] = [];
    for (let n = 0; n < part.length; n++) {
      const answer = answers.get(String(n))!;
      if (answer.status >= 400)
        throw new UsersyncError('graph_error', `Graph answered ${answer.status} reading users by id`, {
          context: { object: part[n][0] },
        });
      const body = answer.body as { value?: GraphObject[]; '@odata.nextLink'?: string };
      users.push(...(body.value ?? []));
      if (body['@odata.nextLink'])
        for await (const page of readDelta(http, { resource: 'users', link: body['@odata.nextLink'], select }))
          users.push(...page.value);
    }
    yield users;
  }
}
