import type { Tenant } from '../tenant/tenant.ts';
import { TenantError } from '../tenant/tenant.ts';
import type { ObjectRef } from '../tenant/types.ts';
import { deltaPage, type DeltaOptions } from './delta.ts';
import { parseFilter, parseOrderBy, parseSearch, parseTop } from './filter.ts';
import { fromErrorData, graphError, graphJson, notFound, type GraphErrorData, type GraphResult } from './respond.ts';
import { contextUrl, parseSelect, projectEntity } from './schema.ts';

// Graph v1.0 read endpoints over the emulated tenant. Transport-neutral: the HTTPS layer and $batch
// both call handleGraph with a parsed request and serialise the GraphResult it returns.

export interface GraphRequest {
  method: string;
  /** Path below /v1.0, e.g. `/users/{id}/manager`. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  requestId: string;
  roles: readonly string[];
}

export interface GraphContext {
  tenant: Tenant;
  /** Scheme, host and port of Graph, without /v1.0. */
  graphBase: string;
  delta: DeltaOptions;
  /** Source-outage fault: /users and /users/delta answer with no users. */
  hideUsers: () => boolean;
}

const READ_USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const READ_GROUPS = [
  'GroupMember.Read.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const READ_PHOTOS = ['ProfilePhoto.Read.All', 'ProfilePhoto.ReadWrite.All', ...READ_USERS];
const DEFAULT_PAGE = 100;
const EXPAND_PAGE_CAP = 100;
const PHOTO_SIZES = [48, 64, 96, 120, 240, 360, 432, 504, 648];

const denied: GraphErrorData = {
  status: 403,
  code: 'Authorization_RequestDenied',
  message: 'Insufficient privileges to complete the operation.',
};
const badRequest = (message: string): GraphErrorData => ({ status: 400, code: 'Request_BadRequest', message });
const unsupported = (message: string): GraphErrorData => ({ status: 400, code: 'Request_UnsupportedQuery', message });
const segmentNotFound = (segment: string): GraphErrorData => ({
  status: 400,
  code: 'BadRequest',
  message: `Resource not found for the segment '${segment}'.`,
});

class Failure extends Error {
  readonly data: GraphErrorData;
  constructor(data: GraphErrorData) {
    super(data.message);
    this.data = data;
  }
}
function fail(data: GraphErrorData): never {
  throw new Failure(data);
}
function ok<T>(result: ({ ok: true } & T) | { ok: false; status: number; code: string; message: string }): T {
  if (!result.ok) fail(result);
  return result as T;
}

function requireRole(request: GraphRequest, allowed: readonly string[]): void {
  if (!allowed.some((role) => request.roles.includes(role))) fail(denied);
}

export async function handleGraph(ctx: GraphContext, request: GraphRequest): Promise<GraphResult> {
  try {
    if (request.method !== 'GET')
      return graphError(
        405,
        'Request_BadRequest',
        `The HTTP method '${request.method}' is not allowed for this resource in the emulator (it serves reads only; use the control API to change data).`,
        request.requestId,
      );
    return route(ctx, request);
  } catch (error) {
    if (error instanceof Failure) return fromErrorData(error.data, request.requestId);
    if (error instanceof TenantError) return graphError(error.status, error.code, error.message, request.requestId);
    throw error;
  }
}

function route(ctx: GraphContext, request: GraphRequest): GraphResult {
  // OData key syntax: /users('{id or upn}')/… is the same as /users/{id or upn}/… (needed for UPNs starting with $).
  const path = request.path
    .replaceAll('%27', "'")
    .replace(
      /^\/(users|groups)\('([^']*)'\)/,
      (_m, set: string, key: string) => `/${set}/${encodeURIComponent(decodeSegment(key))}`,
    );
  const segments = path.split('/').filter(Boolean).map(decodeSegment);
  const [root, key, nav, cast, value] = segments;
  if (root === 'users') {
    requireRole(
      request,
      nav === 'photo' || nav === 'photos'
        ? READ_PHOTOS
        : nav === 'memberOf' || nav === 'transitiveMemberOf'
          ? READ_GROUPS
          : READ_USERS,
    );
    if (key === undefined) return listUsers(ctx, request);
    if (key === '$count' && nav === undefined) return countCollection(ctx, request, 'user');
    // Kiota calls delta as a function, delta(); Graph takes both forms.
    if ((key === 'delta' || key === 'delta()') && nav === undefined) return delta(ctx, request, 'users');
    // Graph checks the URL before it looks the user up.
    if (nav !== undefined && !USER_NAVIGATIONS.has(nav)) fail(segmentNotFound(nav));
    const index = ctx.tenant.findUser(key) ?? fail(notFound(key));
    if (nav === undefined) return getUser(ctx, request, index);
    if (nav === 'manager' && cast === undefined) return getManager(ctx, request, index);
    if (nav === 'directReports' && cast === undefined) return directReports(ctx, request, index);
    if (
      (nav === 'memberOf' || nav === 'transitiveMemberOf') &&
      (cast === undefined || cast === 'microsoft.graph.group')
    )
      return memberOf(ctx, request, index, nav === 'transitiveMemberOf', cast);
    if (nav === 'photo') return photo(ctx, request, index, null, cast);
    if (nav === 'photos') return cast === undefined ? photoSizes(ctx, index) : photo(ctx, request, index, cast, value);
    fail(segmentNotFound(nav));
  }
  if (root === 'groups') {
    requireRole(request, READ_GROUPS);
    if (key === undefined) return listGroups(ctx, request);
    if (key === '$count' && nav === undefined) return countCollection(ctx, request, 'group');
    if ((key === 'delta' || key === 'delta()') && nav === undefined) return delta(ctx, request, 'groups');
    if (nav !== undefined && !GROUP_NAVIGATIONS.has(nav)) fail(segmentNotFound(nav));
    const g = ctx.tenant.findGroup(key) ?? fail(notFound(key));
    if (nav === undefined) return getGroup(ctx, request, g);
    if (nav === 'members' || nav === 'transitiveMembers')
      return members(ctx, request, g, nav === 'transitiveMembers', cast);
    if (nav === 'memberOf' || nav === 'transitiveMemberOf')
      return groupMemberOf(ctx, request, g, nav === 'transitiveMemberOf');
    fail(segmentNotFound(nav));
  }
  if (
    root === 'directory' &&
    key === 'deletedItems' &&
    (nav === 'microsoft.graph.user' || nav === 'microsoft.graph.group') &&
    cast === undefined
  ) {
    requireRole(request, nav === 'microsoft.graph.user' ? READ_USERS : READ_GROUPS);
    return deletedItems(ctx, request, nav === 'microsoft.graph.user' ? 'users' : 'groups');
  }
  fail(segmentNotFound(root ?? ''));
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const advancedMode = (request: GraphRequest) => request.headers.get('consistencylevel')?.toLowerCase() === 'eventual';

const USER_NAVIGATIONS = new Set(['manager', 'directReports', 'memberOf', 'transitiveMemberOf', 'photo', 'photos']);
const GROUP_NAVIGATIONS = new Set(['members', 'transitiveMembers', 'memberOf', 'transitiveMemberOf']);

/** `/users/$count`, `/groups/$count`: an advanced query (ConsistencyLevel: eventual) that honours $filter and $search. */
function countCollection(ctx: GraphContext, request: GraphRequest, resource: 'user' | 'group'): GraphResult {
  if (!advancedMode(request)) fail(badRequest('$count is not currently supported.'));
  const count = countMatching(ctx, resource, queryPredicate(ctx, request, resource, true));
  return { status: 200, headers: { 'Content-Type': 'text/plain;charset=utf-8' }, body: String(count) };
}

/** Live users or groups the predicate keeps (all with none): `/$count` and `@odata.count`. */
function countMatching(ctx: GraphContext, resource: 'user' | 'group', predicate: QueryPlan['predicate']): number {
  let count = 0;
  if (resource === 'user') {
    if (!ctx.hideUsers())
      for (const i of ctx.tenant.liveUsers()) if (!predicate || predicate(ctx.tenant.user(i))) count++;
  } else for (const g of ctx.tenant.liveGroups()) if (!predicate || predicate(ctx.tenant.group(g))) count++;
  return count;
}

// Paging ------------------------------------------------------------------------------------------

function encodeSkip(cursor: number): string {
  return Buffer.from(JSON.stringify({ c: cursor, n: Math.floor(Math.random() * 1e6) })).toString('base64url');
}
function decodeSkip(raw: string | null): number {
  if (raw === null) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { c?: unknown };
    if (typeof parsed.c === 'number' && Number.isInteger(parsed.c) && parsed.c >= 0) return parsed.c;
  } catch {
    /* fall through */
  }
  fail(badRequest(`'${raw}' is not a valid skip token.`));
}

function nextLink(ctx: GraphContext, request: GraphRequest, cursor: number): string {
  const query = new URLSearchParams(request.query);
  query.delete('$skiptoken');
  query.set('$skiptoken', encodeSkip(cursor));
  return `${ctx.graphBase}/v1.0${request.path}?${query.toString().replaceAll('%24', '$').replaceAll('%2C', ',')}`;
}

function pageSize(request: GraphRequest, cap = 999): number {
  const top = ok(parseTop(request.query.get('$top'))).top ?? DEFAULT_PAGE;
  return Math.min(top, cap);
}

// Users -------------------------------------------------------------------------------------------

function extensionNames(ctx: GraphContext): Set<string> {
  return new Set([ctx.tenant.spec.extensionCostCenter]);
}

interface QueryPlan {
  props: string[] | null;
  /** The client's own $select list, which is what @odata.context echoes (id is added to the body only). */
  requested: string[] | null;
  predicate: ((entity: Record<string, unknown>) => boolean) | null;
  compare: ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | null;
  count: boolean;
  expandManager: boolean;
}

/** The $filter and $search of a request as one predicate (null: every object). */
function queryPredicate(
  ctx: GraphContext,
  request: GraphRequest,
  resource: 'user' | 'group',
  advanced: boolean,
): QueryPlan['predicate'] {
  const q = request.query;
  let predicate: QueryPlan['predicate'] = null;
  const filter = q.get('$filter');
  if (filter !== null)
    predicate = ok(parseFilter(filter, resource, { advanced, extensionNames: extensionNames(ctx) })).predicate;
  const search = q.get('$search');
  if (search !== null) {
    if (!advancedMode(request))
      fail(
        unsupported(
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ),
      );
    const matches = ok(parseSearch(search, resource)).predicate;
    predicate = predicate
      ? (
          (p) => (e) =>
            p(e) && matches(e)
        )(predicate)
      : matches;
  }
  return predicate;
}

function planQuery(ctx: GraphContext, request: GraphRequest, resource: 'user' | 'group'): QueryPlan {
  const q = request.query;
  const advanced = advancedMode(request) && q.get('$count') === 'true';
  const { props, requested } = ok(
    parseSelect(resource, q.get('$select'), { extensionNames: extensionNames(ctx), context: 'collection' }),
  );
  const filter = q.get('$filter');
  const search = q.get('$search');
  const predicate = queryPredicate(ctx, request, resource, advanced);
  const orderBy = q.get('$orderby');
  const compare =
    orderBy === null
      ? null
      : ok(parseOrderBy(orderBy, resource, advanced, { hasFilter: filter !== null || search !== null })).compare;
  const expand = q.get('$expand');
  let expandManager = false;
  if (expand !== null) {
    if (resource === 'user' && /^manager(\(.*\))?$/i.test(expand.trim())) expandManager = true;
    else
      fail({
        status: 400,
        code: 'Request_BadRequest',
        message: `Expansion of navigation property '${expand.split('(')[0]}' is not supported.`,
      });
  }
  return { props, requested, predicate, compare, count: advanced, expandManager };
}

function managerRef(ctx: GraphContext, index: number): Record<string, unknown> | undefined {
  const m = ctx.tenant.managerIndex(index);
  if (m === undefined) return undefined;
  const manager = ctx.tenant.user(m);
  return {
    '@odata.type': '#microsoft.graph.user',
    id: manager.id,
    displayName: manager.displayName,
    userPrincipalName: manager.userPrincipalName,
  };
}

function userView(
  ctx: GraphContext,
  index: number,
  plan: Pick<QueryPlan, 'props' | 'expandManager'>,
): Record<string, unknown> {
  const out = projectEntity('user', ctx.tenant.user(index), plan.props);
  if (plan.expandManager) {
    const manager = managerRef(ctx, index);
    if (manager) out.manager = manager;
  }
  return out;
}

function listUsers(ctx: GraphContext, request: GraphRequest): GraphResult {
  const plan = planQuery(ctx, request, 'user');
  const size = pageSize(request, plan.expandManager ? EXPAND_PAGE_CAP : 999);
  const context = contextUrl(ctx.graphBase, 'users', plan.requested, 'collection');
  if (ctx.hideUsers())
    return graphJson({ '@odata.context': context, ...(plan.count ? { '@odata.count': 0 } : {}), value: [] });
  const start = decodeSkip(request.query.get('$skiptoken'));
  const matches = (i: number) => !plan.predicate || plan.predicate(ctx.tenant.user(i));
  const body: Record<string, unknown> = { '@odata.context': context };
  if (plan.count && start === 0) body['@odata.count'] = countMatching(ctx, 'user', plan.predicate);
  const value: Record<string, unknown>[] = [];
  let next: number | undefined;
  if (plan.compare) {
    // Sorted queries (advanced or $orderby alone) page over a sorted snapshot; the cursor is an offset into it.
    const sorted = [...ctx.tenant.liveUsers()]
      .filter(matches)
      .sort((a, b) => plan.compare!(ctx.tenant.user(a), ctx.tenant.user(b)));
    for (const i of sorted.slice(start, start + size)) value.push(userView(ctx, i, plan));
    if (start + size < sorted.length) next = start + size;
  } else {
    for (const i of ctx.tenant.liveUsers(start)) {
      if (!matches(i)) continue;
      if (value.length === size) {
        next = i;
        break;
      }
      value.push(userView(ctx, i, plan));
    }
  }
  if (next !== undefined) body['@odata.nextLink'] = nextLink(ctx, request, next);
  body.value = value;
  return graphJson(body);
}

function singleSelect(
  ctx: GraphContext,
  request: GraphRequest,
  resource: 'user' | 'group',
): { props: string[] | null; requested: string[] | null } {
  return ok(
    parseSelect(resource, request.query.get('$select'), { extensionNames: extensionNames(ctx), context: 'single' }),
  );
}

function getUser(ctx: GraphContext, request: GraphRequest, index: number): GraphResult {
  const { props, requested } = singleSelect(ctx, request, 'user');
  const expand = request.query.get('$expand');
  const expandManager = expand !== null && /^manager(\(.*\))?$/i.test(expand.trim());
  if (expand !== null && !expandManager)
    fail(badRequest(`Expansion of navigation property '${expand.split('(')[0]}' is not supported.`));
  return graphJson({
    '@odata.context': contextUrl(ctx.graphBase, 'users', requested, 'entity'),
    ...userView(ctx, index, { props, expandManager }),
  });
}

function directoryObject(
  ctx: GraphContext,
  ref: ObjectRef,
  props: string[] | null,
  rolesAllowUsers: boolean,
): Record<string, unknown> {
  if (ref.kind === 'user') {
    const base = rolesAllowUsers ? projectEntity('user', ctx.tenant.user(ref.index), props) : { id: ref.id };
    return { '@odata.type': '#microsoft.graph.user', ...base };
  }
  return { '@odata.type': '#microsoft.graph.group', ...projectEntity('group', ctx.tenant.group(ref.index), props) };
}

function getManager(ctx: GraphContext, request: GraphRequest, index: number): GraphResult {
  const m = ctx.tenant.managerIndex(index);
  if (m === undefined) fail(notFound('manager'));
  const { props } = singleSelect(ctx, request, 'user');
  return graphJson({
    '@odata.context': `${ctx.graphBase}/v1.0/$metadata#directoryObjects/$entity`,
    ...directoryObject(ctx, ctx.tenant.userRef(m), props, true),
  });
}

function directReports(ctx: GraphContext, request: GraphRequest, index: number): GraphResult {
  const props = ok(
    parseSelect('user', request.query.get('$select'), { extensionNames: extensionNames(ctx), context: 'collection' }),
  ).props;
  return pagedRefs(ctx, request, ctx.tenant.directReports(index).map(ctx.tenant.userRef), props, true);
}

function pagedRefs(
  ctx: GraphContext,
  request: GraphRequest,
  refs: ObjectRef[],
  props: string[] | null,
  usersReadable: boolean,
  context = 'directoryObjects',
): GraphResult {
  const size = pageSize(request);
  const start = decodeSkip(request.query.get('$skiptoken'));
  const body: Record<string, unknown> = { '@odata.context': `${ctx.graphBase}/v1.0/$metadata#${context}` };
  if (advancedMode(request) && request.query.get('$count') === 'true' && start === 0)
    body['@odata.count'] = refs.length;
  if (start + size < refs.length) body['@odata.nextLink'] = nextLink(ctx, request, start + size);
  body.value = refs.slice(start, start + size).map((ref) => directoryObject(ctx, ref, props, usersReadable));
  return graphJson(body);
}

function groupAncestors(ctx: GraphContext, direct: number[]): number[] {
  const seen = new Set(direct);
  const queue = [...direct];
  while (queue.length > 0) {
    for (const parent of ctx.tenant.parentGroups(queue.shift()!)) {
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return [...seen];
}

function memberOf(
  ctx: GraphContext,
  request: GraphRequest,
  index: number,
  transitive: boolean,
  cast: string | undefined,
): GraphResult {
  const props = ok(
    parseSelect('group', request.query.get('$select'), { extensionNames: new Set(), context: 'collection' }),
  ).props;
  const direct = ctx.tenant.userGroups(index);
  const groups = transitive ? groupAncestors(ctx, direct) : direct;
  return pagedRefs(
    ctx,
    request,
    groups.sort((a, b) => a - b).map((g) => ctx.tenant.groupRef(g)),
    props,
    true,
    cast ? 'groups' : 'directoryObjects',
  );
}

function groupMemberOf(ctx: GraphContext, request: GraphRequest, g: number, transitive: boolean): GraphResult {
  const props = ok(
    parseSelect('group', request.query.get('$select'), { extensionNames: new Set(), context: 'collection' }),
  ).props;
  const direct = ctx.tenant.parentGroups(g);
  const groups = transitive ? groupAncestors(ctx, direct) : direct;
  return pagedRefs(
    ctx,
    request,
    groups.map((p) => ctx.tenant.groupRef(p)),
    props,
    true,
  );
}

// Photos ------------------------------------------------------------------------------------------

const imageNotFound: GraphErrorData = {
  status: 404,
  code: 'ImageNotFound',
  message: "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
};

function photo(
  ctx: GraphContext,
  request: GraphRequest,
  index: number,
  size: string | null,
  value: string | undefined,
): GraphResult {
  const data = ctx.tenant.photo(index) ?? fail(imageNotFound);
  const id = size ?? `${data.width}x${data.height}`;
  if (size !== null && !availableSizes(data.width).includes(size)) fail(imageNotFound);
  if (value === '$value') {
    return { status: 200, headers: { 'Content-Type': data.contentType, ETag: data.etag }, body: data.bytes };
  }
  if (value !== undefined) fail(segmentNotFound(value));
  const user = ctx.tenant.user(index);
  const [width, height] = id.split('x').map(Number);
  return graphJson({
    '@odata.context': `${ctx.graphBase}/v1.0/$metadata#users('${user.id}')/photo/$entity`,
    '@odata.id': `${ctx.graphBase}/v1.0/users('${user.id}')/photo`,
    '@odata.mediaContentType': data.contentType,
    '@odata.mediaEtag': data.etag,
    id,
    width,
    height,
  });
}

function availableSizes(original: number): string[] {
  const sizes = PHOTO_SIZES.filter((s) => s <= original).map((s) => `${s}x${s}`);
  return sizes.includes(`${original}x${original}`) ? sizes : [...sizes, `${original}x${original}`];
}

function photoSizes(ctx: GraphContext, index: number): GraphResult {
  const data = ctx.tenant.photo(index);
  const user = ctx.tenant.user(index);
  const value =
    data === null
      ? []
      : availableSizes(data.width).map((id) => {
          const [width, height] = id.split('x').map(Number);
          return { '@odata.mediaContentType': data.contentType, '@odata.mediaEtag': data.etag, id, width, height };
        });
  return graphJson({ '@odata.context': `${ctx.graphBase}/v1.0/$metadata#users('${user.id}')/photos`, value });
}

// Groups ------------------------------------------------------------------------------------------

function listGroups(ctx: GraphContext, request: GraphRequest): GraphResult {
  const plan = planQuery(ctx, request, 'group');
  if (plan.expandManager) fail(badRequest("Expansion of navigation property 'manager' is not supported."));
  const size = pageSize(request);
  const start = decodeSkip(request.query.get('$skiptoken'));
  const matches = (g: number) => !plan.predicate || plan.predicate(ctx.tenant.group(g));
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(ctx.graphBase, 'groups', plan.requested, 'collection'),
  };
  if (plan.count && start === 0) body['@odata.count'] = countMatching(ctx, 'group', plan.predicate);
  const value: Record<string, unknown>[] = [];
  let next: number | undefined;
  const ordered = plan.compare
    ? [...ctx.tenant.liveGroups()]
        .filter(matches)
        .sort((a, b) => plan.compare!(ctx.tenant.group(a), ctx.tenant.group(b)))
        .slice(start)
    : null;
  if (ordered) {
    for (const g of ordered.slice(0, size)) value.push(projectEntity('group', ctx.tenant.group(g), plan.props));
    if (ordered.length > size) next = start + size;
  } else {
    for (const g of ctx.tenant.liveGroups(start)) {
      if (!matches(g)) continue;
      if (value.length === size) {
        next = g;
        break;
      }
      value.push(projectEntity('group', ctx.tenant.group(g), plan.props));
    }
  }
  if (next !== undefined) body['@odata.nextLink'] = nextLink(ctx, request, next);
  body.value = value;
  return graphJson(body);
}

function getGroup(ctx: GraphContext, request: GraphRequest, g: number): GraphResult {
  const { props, requested } = singleSelect(ctx, request, 'group');
  return graphJson({
    '@odata.context': contextUrl(ctx.graphBase, 'groups', requested, 'entity'),
    ...projectEntity('group', ctx.tenant.group(g), props),
  });
}

const CASTS: Record<string, ObjectRef['kind']> = { 'microsoft.graph.user': 'user', 'microsoft.graph.group': 'group' };
const UNSUPPORTED_CASTS = new Set([
  'microsoft.graph.device',
  'microsoft.graph.orgContact',
  'microsoft.graph.servicePrincipal',
  'microsoft.graph.application',
]);

function members(
  ctx: GraphContext,
  request: GraphRequest,
  g: number,
  transitive: boolean,
  cast: string | undefined,
): GraphResult {
  let kind: ObjectRef['kind'] | undefined;
  if (cast !== undefined) {
    kind = CASTS[cast];
    // Casts to types this tenant never has are valid and empty; anything else is not a type.
    if (kind === undefined && !UNSUPPORTED_CASTS.has(cast)) fail(segmentNotFound(cast));
  }
  const resource = kind === 'group' ? 'group' : 'user';
  const props = ok(
    parseSelect(resource, request.query.get('$select'), { extensionNames: extensionNames(ctx), context: 'collection' }),
  ).props;
  const usersReadable = READ_USERS.some((role) => request.roles.includes(role));
  const context = kind === 'user' ? 'users' : kind === 'group' ? 'groups' : 'directoryObjects';
  if (cast !== undefined && kind === undefined)
    return graphJson({ '@odata.context': `${ctx.graphBase}/v1.0/$metadata#${cast.split('.').pop()}s`, value: [] });
  if (transitive) {
    const refs = ctx.tenant.transitiveMembers(g).filter((ref) => kind === undefined || ref.kind === kind);
    return pagedRefs(ctx, request, refs, props, usersReadable, context);
  }
  // Direct members stream from the tenant's membership index: the cursor is a stable position in the group.
  const size = pageSize(request);
  const start = decodeSkip(request.query.get('$skiptoken'));
  const value: Record<string, unknown>[] = [];
  let next: number | undefined;
  for (const { ref, position } of ctx.tenant.groupMembers(g, start)) {
    if (kind !== undefined && ref.kind !== kind) continue;
    if (value.length === size) {
      next = position;
      break;
    }
    value.push(directoryObject(ctx, ref, props, usersReadable));
  }
  const body: Record<string, unknown> = { '@odata.context': `${ctx.graphBase}/v1.0/$metadata#${context}` };
  if (next !== undefined) body['@odata.nextLink'] = nextLink(ctx, request, next);
  body.value = value;
  return graphJson(body);
}

function deletedItems(ctx: GraphContext, request: GraphRequest, resource: 'users' | 'groups'): GraphResult {
  if (resource === 'groups') {
    const value = ctx.tenant.softDeletedGroups().map(({ index, deletedDateTime }) => ({
      ...projectEntity('group', ctx.tenant.group(index), null),
      deletedDateTime,
    }));
    return graphJson({
      '@odata.context': `${ctx.graphBase}/v1.0/$metadata#directoryObjects/microsoft.graph.group`,
      value,
    });
  }
  const props = ok(
    parseSelect('user', request.query.get('$select'), { extensionNames: extensionNames(ctx), context: 'collection' }),
  ).props;
  const value = ctx.tenant.softDeletedUsers().map(({ index, deletedDateTime }) => ({
    ...projectEntity('user', ctx.tenant.user(index), props),
    deletedDateTime,
  }));
  return graphJson({
    '@odata.context': `${ctx.graphBase}/v1.0/$metadata#directoryObjects/microsoft.graph.user`,
    value,
  });
}

// Delta -------------------------------------------------------------------------------------------

function delta(ctx: GraphContext, request: GraphRequest, resource: 'users' | 'groups'): GraphResult {
  const singular = resource === 'users' ? 'user' : 'group';
  const result = deltaPage(
    ctx.tenant,
    {
      resource,
      graphBase: ctx.graphBase,
      query: request.query,
      preferMinimal: /return=minimal/i.test(request.headers.get('prefer') ?? ''),
      select: (raw) => parseSelect(singular, raw, { extensionNames: extensionNames(ctx), context: 'delta' }),
      project: (_resource, entity, props) => projectEntity(singular, entity, props),
    },
    ctx.delta,
  );
  if (resource === 'users' && ctx.hideUsers() && result.status === 200) {
    const body = result.body as Record<string, unknown>;
    return { ...result, body: { ...body, value: [] } };
  }
  return result;
}
