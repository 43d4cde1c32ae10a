import { createHash, randomBytes } from 'node:crypto';
import { indexOfId } from '../tenant/ids.ts';
import type { Tenant } from '../tenant/tenant.ts';
import type { Change, ObjectRef } from '../tenant/types.ts';
import { graphError, graphJson, type GraphResult } from './respond.ts';

// `GET /users/delta` and `GET /groups/delta` (reference §4, §5.2) computed from the tenant's change log.
//
// A round is a chain of pages linked by `@odata.nextLink` (`$skiptoken`) that ends with an
// `@odata.deltaLink` (`$deltatoken`). Tokens are opaque base64url strings carrying the whole sync state:
// resource, $select, $filter ids, the round's log window, a cursor, the fault generation and the issue
// time. Nothing is kept server-side, so tokens survive anything except a generation bump or old age.
//
// - Initial round (no token): every live object in its latest state, enumerated by index. The deltaLink
//   carries the log position at the first request, so changes made while the round was being paged
//   are replayed in the next round ("may be replayed", §4).
// - Change round (deltaLink minted at seq S, log now at T): the objects touched by log entries in
//   (S, T], merged per object (last state wins), in index order. Every page recomputes the same list
//   from the log (immutable once written), so pages stay consistent while the tenant keeps changing.
// - Large groups: `members@delta` is split across pages; the same group object reappears with the
//   next slice. A page holds at most `pageSize` objects and at most `membersPerPage` member entries.

export type DeltaResource = 'users' | 'groups';

export interface DeltaOptions {
  /**
   * Objects per page. Graph's page size is service-chosen; ~200 users per page was observed on initial
   * rounds (§4), which is the emulator's default for both resources (the groups figure is not documented).
   */
  pageSize: number;
  /** `members@delta` entries per page before a large group is split across pages (undocumented; tests use 1). */
  membersPerPage: number;
  /** Directory delta tokens live 7 days (§4). Applies to skip tokens as well, counted from their issue. */
  tokenLifetimeMs: number;
  now: () => number;
  /** Bumping it expires every outstanding token (the "expire all delta tokens" fault). */
  generation: () => number;
}

export type SelectOutcome =
  | { ok: true; props: string[] | null; requested?: string[] | null }
  | { ok: false; status: number; code: string; message: string };

export interface DeltaRequest {
  resource: DeltaResource;
  /** Scheme, host and port of Graph without `/v1.0`; links are absolute. */
  graphBase: string;
  query: URLSearchParams;
  /** `Prefer: return=minimal`. */
  preferMinimal: boolean;
  /**
   * Validates `$select`; `props: null` = default properties. Relationship names (`manager`, `members`,
   * `owners`) must be accepted; `requested` (optional) is the list as the client wrote it, for `@odata.context`.
   */
  select: (raw: string | null) => SelectOutcome;
  /** Exactly the selected properties (unset → null), `id` always; navigation properties are left out. */
  project: (
    resource: DeltaResource,
    entity: Record<string, unknown>,
    props: string[] | null,
  ) => Record<string, unknown>;
}

export const SYNC_STATE_NOT_FOUND = 'syncStateNotFound';
export const SYNC_STATE_MESSAGE =
  'The sync state generation is not found. The delta token is expired and data must be synchronized again.';
export const MAX_FILTER_IDS = 50;

const USER_TYPE = '#microsoft.graph.user';
const GROUP_TYPE = '#microsoft.graph.group';

/** Navigation properties: never projected as values; only `manager` (users) and `members` (groups) are tracked. */
const NAVIGATION = new Set([
  'manager',
  'directreports',
  'memberof',
  'transitivememberof',
  'photo',
  'photos',
  'members',
  'owners',
  'transitivemembers',
]);
const TRACKED_RELATIONSHIP: Record<DeltaResource, string> = { users: 'manager', groups: 'members' };

// ---------------------------------------------------------------------------------------------
// Tokens

/** Everything a round needs, carried by the opaque `$skiptoken` / `$deltatoken`. */
interface SyncState {
  v: 1;
  r: DeltaResource;
  /** 'i' = page of an initial round, 'c' = page of a change round, 'd' = deltaLink. */
  k: 'i' | 'c' | 'd';
  /** Value properties to project (null = defaults). */
  s: string[] | null;
  /** Names for `@odata.context` (null = no $select). */
  x: string[] | null;
  /** Whether the relationship (`manager` / `members`) is tracked. */
  n: boolean;
  /** `$filter=id eq …` ids, lowercase (null = no filter). */
  f: string[] | null;
  /** Window start (exclusive) of a change round. */
  a: number;
  /** Initial round: snapshot seq; change round: window end (inclusive); deltaLink: seq it resumes from. */
  b: number;
  /** Cursor: index of the object to resume at, member offset (list) or position (live members) in it, last member id sent. */
  o: number;
  m: number;
  l: string | null;
  /** Tenant seq when this token was issued (bounds how far live member positions may have shifted). */
  q: number;
  g: number;
  t: number;
}

const TOKEN_SALT = 'usersync-emulator/delta/v1';

/** `u` is a nonce: every link is a new token, even for an unchanged position (§4 "a new deltaLink"). */
function encodeToken(state: SyncState): string {
  const json = Buffer.from(JSON.stringify({ ...state, u: randomBytes(6).toString('base64url') }), 'utf8');
  const sum = createHash('sha256').update(TOKEN_SALT).update(json).digest().subarray(0, 6);
  return Buffer.concat([sum, json]).toString('base64url');
}

function decodeToken(raw: string): SyncState | null {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length < 8) return null;
  const json = bytes.subarray(6);
  const sum = createHash('sha256').update(TOKEN_SALT).update(json).digest().subarray(0, 6);
  if (!sum.equals(bytes.subarray(0, 6))) return null;
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    return null;
  }
  if (!isSyncState(value)) return null;
  const { u: _nonce, ...state } = value as SyncState & { u?: unknown };
  return state;
}

function isSyncState(v: unknown): v is SyncState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const strings = (x: unknown) => x === null || (Array.isArray(x) && x.every((e) => typeof e === 'string'));
  const int = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  return (
    s.v === 1 &&
    (s.r === 'users' || s.r === 'groups') &&
    (s.k === 'i' || s.k === 'c' || s.k === 'd') &&
    strings(s.s) &&
    strings(s.x) &&
    typeof s.n === 'boolean' &&
    strings(s.f) &&
    int(s.a) &&
    int(s.b) &&
    int(s.o) &&
    int(s.m) &&
    (s.l === null || typeof s.l === 'string') &&
    int(s.q) &&
    typeof s.g === 'number' &&
    typeof s.t === 'number' &&
    typeof s.u === 'string'
  );
}

// ---------------------------------------------------------------------------------------------
// Request options

interface Selection {
  props: string[] | null;
  context: string[] | null;
  relationship: boolean;
}

/** Query parameter by name, case-insensitively (`$select` and `$Select` alike). */
function param(query: URLSearchParams, name: string): string | null {
  const direct = query.get(name);
  if (direct !== null) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of query) if (k.toLowerCase() === lower) return v;
  return null;
}

function parseSelection(
  request: DeltaRequest,
): { ok: true; selection: Selection } | { ok: false; result: GraphResult } {
  const outcome = request.select(param(request.query, '$select'));
  if (!outcome.ok) return { ok: false, result: graphError(outcome.status, outcome.code, outcome.message) };
  if (outcome.props === null) {
    // Without $select: the default properties; groups also carry members@delta by default (§5.2).
    return { ok: true, selection: { props: null, context: null, relationship: request.resource === 'groups' } };
  }
  const tracked = TRACKED_RELATIONSHIP[request.resource];
  const relationship = outcome.props.some((p) => p.toLowerCase() === tracked);
  const props = outcome.props.filter((p) => !NAVIGATION.has(p.toLowerCase()));
  if (!props.some((p) => p.toLowerCase() === 'id')) props.push('id');
  // @odata.context lists the selected structural properties, not the relationships (§4 example).
  const context = (outcome.requested ?? outcome.props).filter((p) => !NAVIGATION.has(p.toLowerCase()));
  return { ok: true, selection: { props, context: context.length > 0 ? context : ['id'], relationship } };
}

/** `$filter`: only `id eq '…' or id eq '…'` with at most 50 ids (§4). */
function parseIdFilter(
  raw: string | null,
  resource: DeltaResource,
): { ok: true; ids: string[] | null } | { ok: false; result: GraphResult } {
  if (raw === null || raw.trim() === '') return { ok: true, ids: null };
  const typeName = resource === 'users' ? 'User' : 'Group';
  const ids: string[] = [];
  for (const clause of raw.trim().split(/\s+or\s+/i)) {
    const match = /^id\s+eq\s+'([^']*)'$/i.exec(clause.trim());
    if (!match) {
      const property = /^\(?\s*([A-Za-z_][\w/]*)/.exec(clause.trim())?.[1] ?? clause.trim();
      return {
        ok: false,
        result: graphError(
          400,
          'Request_UnsupportedQuery',
          `Unsupported or invalid query filter clause specified for property '${property}' of resource '${typeName}'.`,
        ),
      };
    }
    const id = match[1].toLowerCase();
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length > MAX_FILTER_IDS) {
    // [unconfirmed] text: the limit is documented, the error body is not.
    return {
      ok: false,
      result: graphError(
        400,
        'Request_UnsupportedQuery',
        `Delta query with a $filter on id supports at most ${MAX_FILTER_IDS} ids.`,
      ),
    };
  }
  return { ok: true, ids };
}

// ---------------------------------------------------------------------------------------------
// Change windows: the log entries in (a, b] folded per object

interface ObjectChanges {
  index: number;
  /** Set when the object's last state in the window is deleted. */
  removed: 'changed' | 'deleted' | null;
  /** Created or restored in the window: reported with all selected properties (and all current members). */
  full: boolean;
  /** Changed property names, lowercase. */
  props: Set<string>;
  /** Users: the manager before its first change in the window (undefined when it didn't change). */
  managerBefore: string | null | undefined;
  /** Users: the last manager that was replaced or removed in the window. */
  managerLastRemoved: string | null;
  /** Groups: per member id, whether it was a member before the window and is one after it. */
  members: Map<string, { ref: ObjectRef; before: boolean; after: boolean }>;
}

interface ChangeWindow {
  /** Touched object indices, ascending. */
  order: number[];
  byIndex: Map<number, ObjectChanges>;
}

const windowCache = new WeakMap<object, Map<string, ChangeWindow>>();
const WINDOW_CACHE_SIZE = 16;

/** The log is append-only, so a window (a, b] never changes: cache the fold for the pages of a round. */
function changeWindow(tenant: Tenant, resource: DeltaResource, after: number, upTo: number): ChangeWindow {
  let cache = windowCache.get(tenant);
  if (!cache) windowCache.set(tenant, (cache = new Map()));
  const key = `${resource}:${after}:${upTo}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const window = foldChanges(tenant.changesBetween(after, upTo), resource === 'users' ? 'user' : 'group');
  if (cache.size >= WINDOW_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, window);
  return window;
}

function foldChanges(changes: readonly Change[], kind: 'user' | 'group'): ChangeWindow {
  const byIndex = new Map<number, ObjectChanges>();
  for (const change of changes) {
    if (change.kind !== kind) continue;
    let entry = byIndex.get(change.index);
    if (!entry) {
      entry = {
        index: change.index,
        removed: null,
        full: false,
        props: new Set(),
        managerBefore: undefined,
        managerLastRemoved: null,
        members: new Map(),
      };
      byIndex.set(change.index, entry);
    }
    switch (change.op) {
      case 'create':
      case 'restore':
        entry.full = true;
        entry.removed = null;
        for (const p of change.props) entry.props.add(p.toLowerCase());
        break;
      case 'update':
        for (const p of change.props) entry.props.add(p.toLowerCase());
        if ('managerFrom' in change && change.props.includes('manager')) {
          const from = change.managerFrom ?? null;
          if (entry.managerBefore === undefined) entry.managerBefore = from;
          if (from !== null) entry.managerLastRemoved = from;
        }
        break;
      case 'delete':
        entry.removed = change.reason;
        break;
      case 'members': {
        const m = entry.members.get(change.member.id);
        if (m) m.after = !change.removed;
        else
          entry.members.set(change.member.id, { ref: change.member, before: change.removed, after: !change.removed });
        break;
      }
    }
  }
  return { order: [...byIndex.keys()].sort((x, y) => x - y), byIndex };
}

// ---------------------------------------------------------------------------------------------
// Pages

type MemberSource =
  | { kind: 'list'; entries: Record<string, unknown>[] }
  /** The group's current direct members, resumed by position (`groupMembers` positions). */
  | { kind: 'live'; group: number };

interface Candidate {
  index: number;
  body: () => Record<string, unknown>;
  members: MemberSource | null;
}

interface Cursor {
  o: number;
  m: number;
  l: string | null;
}

const typeOf = (ref: ObjectRef) => (ref.kind === 'user' ? USER_TYPE : GROUP_TYPE);
const refEntry = (ref: ObjectRef): Record<string, unknown> => ({ '@odata.type': typeOf(ref), id: ref.id });
const removedEntry = (type: string, id: string): Record<string, unknown> => ({
  '@odata.type': type,
  id,
  '@removed': { reason: 'deleted' },
});

interface Slice {
  entries: Record<string, unknown>[];
  next: number;
  lastId: string | null;
  more: boolean;
}

/**
 * Up to `limit` member entries from `from`. Live members are resumed by position; positions of members
 * added after the base membership shift left when one before them is removed, so when the tenant changed
 * since the previous page the scan starts up to `shift` positions earlier and continues after the last
 * member sent (re-sending a few when that one is gone: duplicates are allowed, §4 "merge by id").
 */
function takeMembers(
  tenant: Tenant,
  source: MemberSource,
  from: number,
  lastId: string | null,
  shift: number,
  limit: number,
): Slice {
  if (source.kind === 'list') {
    const entries = source.entries.slice(from, from + limit);
    return { entries, next: from + entries.length, lastId: null, more: from + entries.length < source.entries.length };
  }
  const start = lastId !== null && shift > 0 ? Math.max(0, from - shift) : from;
  const iterator = tenant.groupMembers(source.group, start);
  const before: { ref: ObjectRef; position: number }[] = [];
  let step = iterator.next();
  while (!step.done && step.value.position < from) {
    before.push(step.value);
    step = iterator.next();
  }
  const seen = lastId === null ? -1 : before.findIndex((m) => m.ref.id === lastId);
  const queue = seen >= 0 ? before.slice(seen + 1) : before;
  const pull = (): { ref: ObjectRef; position: number } | undefined => {
    if (queue.length > 0) return queue.shift();
    if (step.done) return undefined;
    const value = step.value;
    step = iterator.next();
    return value;
  };
  const entries: Record<string, unknown>[] = [];
  let next = from;
  let last = lastId;
  while (entries.length < limit) {
    const m = pull();
    if (!m) return { entries, next, lastId: last, more: false };
    entries.push(refEntry(m.ref));
    next = m.position + 1;
    last = m.ref.id;
  }
  return { entries, next, lastId: last, more: queue.length > 0 || !step.done };
}

function fillPage(
  tenant: Tenant,
  candidates: Iterable<Candidate>,
  cursor: Cursor,
  shift: number,
  options: DeltaOptions,
) {
  const value: Record<string, unknown>[] = [];
  let objects = 0;
  let membersUsed = 0;
  for (const candidate of candidates) {
    const resuming = candidate.index === cursor.o;
    const from = resuming ? cursor.m : 0;
    const lastId = resuming ? cursor.l : null;
    if (objects >= options.pageSize) return { value, next: { o: candidate.index, m: from, l: lastId } };
    if (!candidate.members) {
      value.push(candidate.body());
      objects++;
      continue;
    }
    const slice = takeMembers(
      tenant,
      candidate.members,
      from,
      lastId,
      resuming ? shift : 0,
      options.membersPerPage - membersUsed,
    );
    if (slice.entries.length === 0) {
      if (slice.more) return { value, next: { o: candidate.index, m: from, l: lastId } }; // member budget used up
      // No members at all (first round: members@delta omitted, §5.2), or the rest of a split group vanished.
      if (from === 0) {
        value.push(candidate.body());
        objects++;
      }
      continue;
    }
    value.push({ ...candidate.body(), 'members@delta': slice.entries });
    objects++;
    membersUsed += slice.entries.length;
    if (slice.more) return { value, next: { o: candidate.index, m: slice.next, l: slice.lastId } };
  }
  return { value, next: null };
}

/** Removes selected properties that were never set on the object ("never-set omitted, cleared null", §4). */
function withoutNeverSet(projected: Record<string, unknown>, entity: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(projected)) if (v === null && k !== 'id' && !(k in entity)) delete projected[k];
  return projected;
}

interface PageContext {
  tenant: Tenant;
  request: DeltaRequest;
  state: SyncState;
}

function entityOf(ctx: PageContext, index: number): Record<string, unknown> {
  return ctx.request.resource === 'users' ? ctx.tenant.user(index) : ctx.tenant.group(index);
}

function fullBody(ctx: PageContext, index: number): Record<string, unknown> {
  const entity = entityOf(ctx, index);
  return withoutNeverSet(ctx.request.project(ctx.request.resource, entity, ctx.state.s), entity);
}

function currentManagerEntry(ctx: PageContext, index: number): Record<string, unknown>[] | undefined {
  const m = ctx.tenant.managerIndex(index);
  return m === undefined ? undefined : [{ '@odata.type': USER_TYPE, id: ctx.tenant.userIdOf(m) }];
}

function withManager(
  body: Record<string, unknown>,
  managerDelta: Record<string, unknown>[] | undefined,
): Record<string, unknown> {
  return managerDelta ? { ...body, 'manager@delta': managerDelta } : body;
}

function* initialCandidates(ctx: PageContext): Generator<Candidate> {
  const { tenant, request, state } = ctx;
  const users = request.resource === 'users';
  let indices: Iterable<number>;
  if (state.f) {
    const found = new Set<number>();
    for (const id of state.f) {
      const i = users ? indexOfId(tenant.spec.seed, 'user', id) : tenant.groupIndexOf(id);
      if (i !== undefined && i >= state.o) found.add(i);
    }
    indices = [...found].sort((x, y) => x - y).filter((i) => (users ? tenant.isLiveUser(i) : tenant.isLiveGroup(i)));
  } else {
    indices = users ? tenant.liveUsers(state.o) : tenant.liveGroups(state.o);
  }
  for (const index of indices) {
    if (users) {
      yield {
        index,
        members: null,
        body: () => withManager(fullBody(ctx, index), state.n ? currentManagerEntry(ctx, index) : undefined),
      };
    } else {
      yield { index, body: () => fullBody(ctx, index), members: state.n ? { kind: 'live', group: index } : null };
    }
  }
}

function* changeCandidates(ctx: PageContext, minimal: boolean): Generator<Candidate> {
  const { tenant, request, state } = ctx;
  const users = request.resource === 'users';
  const window = changeWindow(tenant, request.resource, state.a, state.b);
  const filter = state.f ? new Set(state.f) : null;
  let lo = 0;
  let hi = window.order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (window.order[mid] < state.o) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < window.order.length; k++) {
    const index = window.order[k];
    const changes = window.byIndex.get(index)!;
    const id = users ? tenant.userIdOf(index) : tenant.groupIdOf(index);
    if (filter && !filter.has(id)) continue;
    if (changes.removed) {
      yield { index, members: null, body: () => ({ id, '@removed': { reason: changes.removed } }) };
      continue;
    }
    if (changes.full) {
      if (users)
        yield {
          index,
          members: null,
          body: () => withManager(fullBody(ctx, index), state.n ? currentManagerEntry(ctx, index) : undefined),
        };
      else yield { index, body: () => fullBody(ctx, index), members: state.n ? { kind: 'live', group: index } : null };
      continue;
    }
    // An update: surfaces only when a tracked (selected) property or the tracked relationship changed.
    const entity = entityOf(ctx, index);
    const projected = request.project(request.resource, entity, state.s);
    const names = (state.s ?? Object.keys(projected)).filter((n) => n.toLowerCase() !== 'id');
    const changedNames = names.filter((n) => changes.props.has(n.toLowerCase()));
    let relationship: Record<string, unknown>[] | undefined;
    if (state.n && users && changes.props.has('manager')) {
      relationship = currentManagerEntry(ctx, index);
      if (!relationship) {
        const previous = changes.managerBefore ?? changes.managerLastRemoved;
        if (previous) relationship = [removedEntry(USER_TYPE, previous)];
      }
    }
    if (state.n && !users) {
      const net = [...changes.members.values()].filter((m) => m.before !== m.after);
      if (net.length > 0)
        relationship = net.map((m) => (m.after ? refEntry(m.ref) : removedEntry(typeOf(m.ref), m.ref.id)));
    }
    if (changedNames.length === 0 && !relationship) continue;
    const body = (): Record<string, unknown> => {
      const current = entityOf(ctx, index);
      const all = request.project(request.resource, current, state.s);
      if (!minimal) return withoutNeverSet(all, current);
      // Prefer: return=minimal: id plus the changed selected properties, cleared ones null.
      const out: Record<string, unknown> = { id: all.id ?? id };
      for (const n of changedNames) out[n] = all[n] ?? null;
      return out;
    };
    if (users) yield { index, members: null, body: () => withManager(body(), relationship) };
    else yield { index, body, members: relationship ? { kind: 'list', entries: relationship } : null };
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point

function linkFor(request: DeltaRequest, name: '$skiptoken' | '$deltatoken', token: string): string {
  return `${request.graphBase.replace(/\/+$/, '')}/v1.0/${request.resource}/delta?${name}=${token}`;
}

function contextFor(request: DeltaRequest, names: string[] | null): string {
  const base = `${request.graphBase.replace(/\/+$/, '')}/v1.0/$metadata#${request.resource}`;
  return names ? `${base}(${names.join(',')})` : base;
}

const syncStateNotFound = () => graphError(400, SYNC_STATE_NOT_FOUND, SYNC_STATE_MESSAGE);

/** One page of `/users/delta` or `/groups/delta`. */
export function deltaPage(tenant: Tenant, request: DeltaRequest, options: DeltaOptions): GraphResult {
  const { query, resource } = request;
  for (const option of ['$expand', '$orderby']) {
    if (param(query, option) !== null) {
      return graphError(
        400,
        'Request_UnsupportedQuery',
        `The query option '${option}' is not supported by delta queries on ${resource}.`,
      );
    }
  }
  // $top is silently ignored (§4): the page size is service-chosen.
  const skip = param(query, '$skiptoken');
  const delta = param(query, '$deltatoken');
  if (skip !== null && delta !== null)
    return graphError(400, 'Request_BadRequest', 'A request cannot carry both $skiptoken and $deltatoken.');

  const now = options.now();
  const generation = options.generation();
  const base = (k: SyncState['k']): Omit<SyncState, 's' | 'x' | 'n' | 'f'> => ({
    v: 1,
    r: resource,
    k,
    a: 0,
    b: tenant.seq,
    o: 0,
    m: 0,
    l: null,
    q: tenant.seq,
    g: generation,
    t: now,
  });

  let state: SyncState;
  const token = skip ?? (delta !== null && delta !== '' ? delta : null);
  if (token !== null && !(skip === null && token.toLowerCase() === 'latest')) {
    // Options live in the token; $select/$filter sent again with a link are ignored (never edit links, §4).
    const decoded = decodeToken(token);
    if (!decoded || decoded.r !== resource || (skip !== null) !== (decoded.k !== 'd')) return syncStateNotFound();
    if (decoded.g !== generation || now - decoded.t > options.tokenLifetimeMs) return syncStateNotFound();
    if (decoded.b > tenant.seq || decoded.a > decoded.b) return syncStateNotFound();
    state =
      decoded.k === 'd'
        ? { ...decoded, k: 'c', a: decoded.b, b: tenant.seq, o: 0, m: 0, l: null, q: tenant.seq }
        : decoded;
  } else {
    // First request of a round (an empty $deltatoken, as in a 410 reset's Location, starts over too).
    const selection = parseSelection(request);
    if (!selection.ok) return selection.result;
    const filter = parseIdFilter(param(query, '$filter'), resource);
    if (!filter.ok) return filter.result;
    const options_ = {
      s: selection.selection.props,
      x: selection.selection.context,
      n: selection.selection.relationship,
      f: filter.ids,
    };
    if (token !== null) {
      // $deltatoken=latest: "sync from now", an empty page and a deltaLink at the current log position.
      const link = encodeToken({ ...base('d'), ...options_ });
      return graphJson({
        '@odata.context': contextFor(request, options_.x),
        '@odata.deltaLink': linkFor(request, '$deltatoken', link),
        value: [],
      });
    }
    state = { ...base('i'), ...options_ };
  }

  const ctx: PageContext = { tenant, request, state };
  const shift = Math.max(0, tenant.seq - state.q);
  const candidates = state.k === 'i' ? initialCandidates(ctx) : changeCandidates(ctx, request.preferMinimal);
  const pageOptions = {
    ...options,
    pageSize: Math.max(1, Math.floor(options.pageSize)),
    membersPerPage: Math.max(1, Math.floor(options.membersPerPage)),
  };
  const page = fillPage(tenant, candidates, { o: state.o, m: state.m, l: state.l }, shift, pageOptions);

  const body: Record<string, unknown> = { '@odata.context': contextFor(request, state.x) };
  if (page.next) {
    const nextToken = encodeToken({
      ...state,
      o: page.next.o,
      m: page.next.m,
      l: page.next.l,
      q: tenant.seq,
      g: generation,
      t: now,
    });
    body['@odata.nextLink'] = linkFor(request, '$skiptoken', nextToken);
  } else {
    // Every round ends with a new deltaLink, also when value is [] (§4); it resumes after the round's window.
    const deltaToken = encodeToken({
      ...state,
      k: 'd',
      a: 0,
      o: 0,
      m: 0,
      l: null,
      q: tenant.seq,
      g: generation,
      t: now,
    });
    body['@odata.deltaLink'] = linkFor(request, '$deltatoken', deltaToken);
  }
  body.value = page.value;
  return graphJson(body);
}
