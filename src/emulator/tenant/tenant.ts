import {
  baseChildGroup,
  baseGroup,
  baseGroupsOfUser,
  baseHasPhoto,
  baseManagerIndex,
  baseUser,
  buildMemberships,
  extensionAppHex,
  indexOfAlias,
  isGuestIndex,
  makePhoto,
  photoFromBytes,
} from './generate.ts';
import { indexOfId, objectId } from './ids.ts';
import { seedFrom } from './random.ts';
import { StatusError } from '../status-error.ts';
import type {
  Change,
  DeletedState,
  GraphGroup,
  GraphUser,
  GroupKind,
  ObjectRef,
  PhotoData,
  TenantSpec,
} from './types.ts';

export interface TenantOptions {
  seed?: string | number;
  users?: number;
  groups?: number;
  domain?: string;
  guestRatio?: number;
  disabledRatio?: number;
  photoRatio?: number;
  managerFanout?: number;
  now?: () => number;
}

const USER_PROPS_NOT_PATCHABLE = new Set(['id', 'createdDateTime', 'deletedDateTime']);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A change the directory refuses (unknown object, duplicate UPN, membership cycle), as Graph would answer it. */
export class TenantError extends StatusError {}

export function tenantSpec(options: TenantOptions = {}): TenantSpec {
  const seed = seedFrom(options.seed ?? 'usersync');
  const users = options.users ?? 50;
  if (!Number.isInteger(users) || users < 1 || users > 2_000_000)
    throw new RangeError(`users must be an integer from 1 to 2,000,000, got ${users}`);
  const groups = options.groups ?? Math.max(10, Math.round(users * 0.02)); // 10 or more: every group kind appears
  if (!Number.isInteger(groups) || groups < 0 || groups > 200_000)
    throw new RangeError(`groups must be an integer from 0 to 200,000, got ${groups}`);
  const domain = options.domain ?? 'contoso.com';
  return {
    seed,
    tenantId: objectId(seed, 'tenant', 0),
    domain,
    initialDomain: `${domain.split('.')[0]}.onmicrosoft.com`,
    userCount: users,
    groupCount: groups,
    guestRatio: options.guestRatio ?? 0.03,
    disabledRatio: options.disabledRatio ?? 0.04,
    photoRatio: options.photoRatio ?? 0.6,
    managerFanout: options.managerFanout ?? 6,
    extensionCostCenter: `extension_${extensionAppHex(seed)}_costCenter`,
  };
}

export type Tenant = ReturnType<typeof createTenant>;
type NewChange = Change extends infer C ? (C extends Change ? Omit<C, 'seq' | 'at'> : never) : never;

/**
 * The emulated directory: generated base objects plus an overlay of everything changed since,
 * and an append-only change log that delta rounds are computed from.
 */
export function createTenant(options: TenantOptions = {}) {
  const spec = tenantSpec(options);
  const now = options.now ?? Date.now;
  const memberships = buildMemberships(spec);

  const userEdits = new Map<number, GraphUser>();
  const userDeleted = new Map<number, DeletedState>();
  const managerOverride = new Map<number, number | null>();
  const photoOverride = new Map<number, PhotoData | null>();
  const upnOverlay = new Map<string, number>();
  let nextUser = spec.userCount;
  let deletedUsers = 0;

  const groupEdits = new Map<number, GraphGroup>();
  const groupDeleted = new Map<number, DeletedState>();
  const membersAdded = new Map<number, Map<string, ObjectRef>>();
  const membersRemoved = new Map<number, Set<string>>();
  const userAddedTo = new Map<number, Set<number>>();
  let nextGroup = spec.groupCount;
  let deletedGroups = 0;

  const log: Change[] = [];
  let photoVersion = 0;

  const userRef = (index: number): ObjectRef => ({ kind: 'user', index, id: objectId(spec.seed, 'user', index) });
  const groupRef = (index: number): ObjectRef => ({ kind: 'group', index, id: objectId(spec.seed, 'group', index) });
  const append = (change: NewChange) => {
    log.push({ ...change, seq: log.length + 1, at: now() } as Change);
  };

  // Users ---------------------------------------------------------------------------------------

  const userExists = (i: number) => i >= 0 && i < nextUser && !(userDeleted.get(i)?.reason === 'deleted');
  const isLiveUser = (i: number) => i >= 0 && i < nextUser && !userDeleted.has(i);

  function user(i: number): GraphUser {
    return userEdits.get(i) ?? baseUser(spec, i);
  }

  /** Index of a user (live or soft-deleted) by id or UPN, case-insensitively. */
  function userIndex(idOrUpn: string): number | undefined {
    const byId = indexOfId(spec.seed, 'user', idOrUpn);
    if (byId !== undefined) return userExists(byId) ? byId : undefined;
    const lower = idOrUpn.toLowerCase();
    const overlay = upnOverlay.get(lower);
    if (overlay !== undefined)
      return userExists(overlay) && user(overlay).userPrincipalName.toLowerCase() === lower ? overlay : undefined;
    const local = lower.split('@')[0];
    const alias = local.includes('#ext#') ? local.slice(0, local.lastIndexOf('_', local.indexOf('#ext#'))) : local;
    const base = indexOfAlias(spec, alias);
    if (base === undefined || base >= spec.userCount || !userExists(base)) return undefined;
    return user(base).userPrincipalName.toLowerCase() === lower ? base : undefined;
  }

  function findUser(idOrUpn: string): number | undefined {
    const i = userIndex(idOrUpn);
    return i !== undefined && isLiveUser(i) ? i : undefined;
  }

  function* liveUsers(from = 0): Generator<number> {
    for (let i = from; i < nextUser; i++) if (!userDeleted.has(i)) yield i;
  }

  function managerIndex(i: number): number | undefined {
    const m = managerOverride.has(i)
      ? (managerOverride.get(i) ?? undefined)
      : i < spec.userCount
        ? baseManagerIndex(spec, i)
        : undefined;
    return m !== undefined && isLiveUser(m) ? m : undefined;
  }

  function photo(i: number): PhotoData | null {
    if (photoOverride.has(i)) return photoOverride.get(i) ?? null;
    return i < spec.userCount && baseHasPhoto(spec, i) ? makePhoto(spec.seed, objectId(spec.seed, 'user', i), 0) : null;
  }

  /** Live users whose (effective) manager is `m`. */
  function directReports(m: number): number[] {
    const out: number[] = [];
    const visit = (parent: number) => {
      for (
        let c = parent * spec.managerFanout + 1;
        c <= parent * spec.managerFanout + spec.managerFanout && c < spec.userCount;
        c++
      ) {
        if (isGuestIndex(spec, c))
          visit(c); // guests have no manager; their base children report further up
        else if (!managerOverride.has(c) && baseManagerIndex(spec, c) === m && isLiveUser(c)) out.push(c);
      }
    };
    if (m < spec.userCount) visit(m);
    for (const [c, manager] of managerOverride) if (manager === m && isLiveUser(c)) out.push(c);
    return out.sort((a, b) => a - b);
  }

  /** Deleting or restoring a manager changes their reports' manager; delta reports it on the reports. */
  function logReportsManagerChange(m: number, reports: number[], removed: boolean): void {
    const id = objectId(spec.seed, 'user', m);
    for (const r of reports)
      append({ kind: 'user', index: r, op: 'update', props: ['manager'], managerFrom: removed ? id : null });
  }

  function userGroups(i: number): number[] {
    const direct = i < spec.userCount ? baseGroupsOfUser(spec, i) : [];
    const id = objectId(spec.seed, 'user', i);
    const out = direct.filter((g) => !membersRemoved.get(g)?.has(id));
    for (const g of userAddedTo.get(i) ?? []) if (!out.includes(g)) out.push(g);
    return out.filter(isLiveGroup);
  }

  function assertUser(i: number | undefined, what: string): number {
    if (i === undefined || !isLiveUser(i))
      throw new TenantError(
        404,
        'Request_ResourceNotFound',
        `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return i;
  }

  function createUser(props: Partial<GraphUser> & { userPrincipalName: string; displayName: string }): GraphUser {
    if (userIndex(props.userPrincipalName) !== undefined || upnOverlay.has(props.userPrincipalName.toLowerCase())) {
      throw new TenantError(
        400,
        'Request_BadRequest',
        `Another object with the same value for property userPrincipalName already exists.`,
      );
    }
    const index = nextUser++;
    const record: GraphUser = {
      id: objectId(spec.seed, 'user', index),
      accountEnabled: true,
      userType: 'Member',
      createdDateTime: iso(now()),
      businessPhones: [],
      otherMails: [],
      proxyAddresses: [],
      identities: [],
      onPremisesExtensionAttributes: Object.fromEntries(
        Array.from({ length: 15 }, (_, n) => [`extensionAttribute${n + 1}`, null]),
      ),
      ...withoutFixed(props),
      userPrincipalName: props.userPrincipalName,
      displayName: props.displayName,
    };
    userEdits.set(index, record);
    upnOverlay.set(record.userPrincipalName.toLowerCase(), index);
    append({ kind: 'user', index, op: 'create', props: Object.keys(record) });
    return record;
  }

  function updateUser(idOrUpn: string, patch: Record<string, unknown>): GraphUser {
    const i = assertUser(findUser(idOrUpn), idOrUpn);
    const current = user(i);
    const changed = Object.keys(patch).filter(
      (k) =>
        !USER_PROPS_NOT_PATCHABLE.has(k) && JSON.stringify(current[k] ?? null) !== JSON.stringify(patch[k] ?? null),
    );
    if (changed.length === 0) return current;
    const next = { ...current } as GraphUser;
    for (const k of changed) next[k] = patch[k] as never;
    if (typeof patch.userPrincipalName === 'string' && changed.includes('userPrincipalName')) {
      const other = userIndex(patch.userPrincipalName);
      if (other !== undefined && other !== i)
        throw new TenantError(
          400,
          'Request_BadRequest',
          'Another object with the same value for property userPrincipalName already exists.',
        );
      upnOverlay.set(patch.userPrincipalName.toLowerCase(), i);
    }
    userEdits.set(i, next);
    append({ kind: 'user', index: i, op: 'update', props: changed });
    return next;
  }

  function setManager(idOrUpn: string, managerIdOrUpn: string | null): void {
    const i = assertUser(findUser(idOrUpn), idOrUpn);
    const m = managerIdOrUpn === null ? null : assertUser(findUser(managerIdOrUpn), managerIdOrUpn);
    if (m === i) throw new TenantError(400, 'Request_BadRequest', 'A user cannot be their own manager.');
    const before = managerIndex(i);
    if ((before ?? null) === m) return;
    managerOverride.set(i, m);
    append({
      kind: 'user',
      index: i,
      op: 'update',
      props: ['manager'],
      managerFrom: before === undefined ? null : objectId(spec.seed, 'user', before),
    });
  }

  /** Sets, replaces (bytes or a generated image when bytes is 'generate') or removes (null) a photo. Photos are not in delta. */
  function setPhoto(idOrUpn: string, bytes: Buffer | 'generate' | null, contentType = 'image/jpeg'): PhotoData | null {
    const i = assertUser(findUser(idOrUpn), idOrUpn);
    const data =
      bytes === null
        ? null
        : bytes === 'generate'
          ? makePhoto(spec.seed, objectId(spec.seed, 'user', i), ++photoVersion)
          : photoFromBytes(bytes, contentType, 96, 96);
    photoOverride.set(i, data);
    return data;
  }

  function membershipChangesForUser(i: number, removed: boolean): void {
    for (const g of userGroups(i)) append({ kind: 'group', index: g, op: 'members', member: userRef(i), removed });
  }

  function deleteUser(idOrUpn: string, permanently = false): void {
    const i = userIndex(idOrUpn);
    if (i === undefined) assertUser(undefined, idOrUpn);
    const state = userDeleted.get(i!);
    if (state && !permanently)
      throw new TenantError(
        404,
        'Request_ResourceNotFound',
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      );
    const reports = state ? [] : directReports(i!);
    if (!state) {
      membershipChangesForUser(i!, true);
      deletedUsers++;
    }
    userDeleted.set(i!, permanently ? { reason: 'deleted' } : { reason: 'changed', at: iso(now()) });
    if (permanently) {
      const id = objectId(spec.seed, 'user', i!);
      for (const g of userGroups(i!)) removedSet(g).add(id);
      for (const g of userAddedTo.get(i!) ?? []) membersAdded.get(g)?.delete(id);
      userAddedTo.delete(i!);
      upnOverlay.delete(user(i!).userPrincipalName.toLowerCase());
    }
    append({ kind: 'user', index: i!, op: 'delete', reason: permanently ? 'deleted' : 'changed' });
    logReportsManagerChange(i!, reports, true);
    if (permanently) for (const r of reports) if (!managerOverride.has(r)) managerOverride.set(r, null);
  }

  function restoreUser(id: string): GraphUser {
    const i = indexOfId(spec.seed, 'user', id);
    if (i === undefined || userDeleted.get(i)?.reason !== 'changed') {
      throw new TenantError(
        404,
        'Request_ResourceNotFound',
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    userDeleted.delete(i);
    deletedUsers--;
    append({ kind: 'user', index: i, op: 'restore', props: Object.keys(user(i)) });
    membershipChangesForUser(i, false);
    logReportsManagerChange(i, directReports(i), false);
    return user(i);
  }

  const softDeletedUsers = () => softDeleted(userDeleted);

  // Groups --------------------------------------------------------------------------------------

  const isLiveGroup = (g: number) => g >= 0 && g < nextGroup && !groupDeleted.has(g);
  const group = (g: number): GraphGroup => groupEdits.get(g) ?? baseGroup(spec, g);

  function findGroup(id: string): number | undefined {
    const g = indexOfId(spec.seed, 'group', id);
    return g !== undefined && isLiveGroup(g) ? g : undefined;
  }

  function* liveGroups(from = 0): Generator<number> {
    for (let g = from; g < nextGroup; g++) if (!groupDeleted.has(g)) yield g;
  }

  function removedSet(g: number): Set<string> {
    let set = membersRemoved.get(g);
    if (!set) membersRemoved.set(g, (set = new Set()));
    return set;
  }

  /** Direct members in a stable order, from position `from`; positions are stable while membership is unchanged. */
  function* groupMembers(g: number, from = 0): Generator<{ ref: ObjectRef; position: number }> {
    const removed = membersRemoved.get(g);
    const baseStart = g < spec.groupCount ? memberships.offsets[g] : 0;
    const baseEnd = g < spec.groupCount ? memberships.offsets[g + 1] : 0;
    const baseLength = baseEnd - baseStart;
    for (let p = from; p < baseLength; p++) {
      const i = memberships.users[baseStart + p];
      if (!isLiveUser(i)) continue;
      const ref = userRef(i);
      if (!removed?.has(ref.id)) yield { ref, position: p };
    }
    let p = baseLength;
    const child = g < spec.groupCount ? baseChildGroup(spec, g) : undefined;
    if (child !== undefined) {
      if (p >= from && isLiveGroup(child) && !removed?.has(groupRef(child).id))
        yield { ref: groupRef(child), position: p };
      p++;
    }
    for (const ref of membersAdded.get(g)?.values() ?? []) {
      if (p >= from && (ref.kind === 'user' ? isLiveUser(ref.index) : isLiveGroup(ref.index)))
        yield { ref, position: p };
      p++;
    }
  }

  function transitiveMembers(g: number): ObjectRef[] {
    const seen = new Set<string>([groupRef(g).id]);
    const out: ObjectRef[] = [];
    const queue = [g];
    while (queue.length > 0) {
      for (const { ref } of groupMembers(queue.shift()!)) {
        if (seen.has(ref.id)) continue;
        seen.add(ref.id);
        out.push(ref);
        if (ref.kind === 'group') queue.push(ref.index);
      }
    }
    return out;
  }

  /** Groups a group is directly a member of. */
  function parentGroups(g: number): number[] {
    const id = groupRef(g).id;
    const out: number[] = [];
    for (const p of liveGroups()) {
      if (p < spec.groupCount && baseChildGroup(spec, p) === g && !membersRemoved.get(p)?.has(id)) out.push(p);
      else if (membersAdded.get(p)?.has(id)) out.push(p);
    }
    return out;
  }

  function assertGroup(g: number | undefined, what: string): number {
    if (g === undefined)
      throw new TenantError(
        404,
        'Request_ResourceNotFound',
        `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return g;
  }

  function createGroup(props: { displayName: string; kind?: GroupKind } & Record<string, unknown>): GraphGroup {
    const g = nextGroup++;
    const kind = props.kind ?? 'security';
    const nickname = String(props.mailNickname ?? props.displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
    const mailEnabled = kind !== 'security';
    const { kind: _kind, ...rest } = props;
    const record: GraphGroup = {
      id: objectId(spec.seed, 'group', g),
      description: null,
      groupTypes: kind === 'microsoft365' ? ['Unified'] : [],
      mailEnabled,
      securityEnabled: kind !== 'distribution' && kind !== 'microsoft365',
      mail: mailEnabled ? `${nickname}@${spec.domain}` : null,
      mailNickname: nickname,
      proxyAddresses: mailEnabled ? [`SMTP:${nickname}@${spec.domain}`] : [],
      visibility: kind === 'microsoft365' ? 'Public' : null,
      createdDateTime: iso(now()),
      onPremisesSyncEnabled: null,
      membershipRule: null,
      membershipRuleProcessingState: null,
      deletedDateTime: null,
      ...withoutFixed(rest),
      displayName: props.displayName,
    };
    groupEdits.set(g, record);
    append({ kind: 'group', index: g, op: 'create', props: Object.keys(record) });
    return record;
  }

  function updateGroup(id: string, patch: Record<string, unknown>): GraphGroup {
    const g = assertGroup(findGroup(id), id);
    const current = group(g);
    const changed = Object.keys(patch).filter(
      (k) => k !== 'id' && JSON.stringify(current[k] ?? null) !== JSON.stringify(patch[k] ?? null),
    );
    if (changed.length === 0) return current;
    const next = { ...current } as GraphGroup;
    for (const k of changed) next[k] = patch[k] as never;
    groupEdits.set(g, next);
    append({ kind: 'group', index: g, op: 'update', props: changed });
    return next;
  }

  /** Microsoft 365 groups are soft-deleted (restorable); other kinds are deleted permanently, as in Entra. */
  function deleteGroup(id: string, permanently?: boolean): void {
    const g = assertGroup(indexOfId(spec.seed, 'group', id) ?? undefined, id);
    const state = groupDeleted.get(g);
    if (state?.reason === 'deleted' || (state && !permanently)) assertGroup(undefined, id);
    const unified = (group(g).groupTypes as string[] | undefined)?.includes('Unified') ?? false;
    const hard = permanently ?? !unified;
    if (!state) {
      deletedGroups++;
      for (const parent of parentGroups(g))
        append({ kind: 'group', index: parent, op: 'members', member: groupRef(g), removed: true });
    }
    groupDeleted.set(g, hard ? { reason: 'deleted' } : { reason: 'changed', at: iso(now()) });
    append({ kind: 'group', index: g, op: 'delete', reason: hard ? 'deleted' : 'changed' });
  }

  function restoreGroup(id: string): GraphGroup {
    const g = indexOfId(spec.seed, 'group', id);
    if (g === undefined || groupDeleted.get(g)?.reason !== 'changed') assertGroup(undefined, id);
    groupDeleted.delete(g!);
    deletedGroups--;
    append({ kind: 'group', index: g!, op: 'restore', props: Object.keys(group(g!)) });
    for (const parent of parentGroups(g!))
      append({ kind: 'group', index: parent, op: 'members', member: groupRef(g!), removed: false });
    return group(g!);
  }

  function memberRef(id: string): ObjectRef {
    const u = findUser(id);
    if (u !== undefined) return userRef(u);
    const g = findGroup(id);
    if (g !== undefined) return groupRef(g);
    throw new TenantError(
      404,
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }

  function isMember(g: number, ref: ObjectRef): boolean {
    for (const { ref: m } of groupMembers(g)) if (m.id === ref.id) return true;
    return false;
  }

  function addMember(groupId: string, memberId: string): void {
    const g = assertGroup(findGroup(groupId), groupId);
    const ref = memberRef(memberId);
    if (isMember(g, ref))
      throw new TenantError(
        400,
        'Request_BadRequest',
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    if (
      ref.kind === 'group' &&
      (ref.index === g || transitiveMembers(ref.index).some((m) => m.id === groupRef(g).id))
    ) {
      throw new TenantError(400, 'Request_BadRequest', 'Adding this group would create a membership cycle.');
    }
    if (membersRemoved.get(g)?.delete(ref.id) && isMember(g, ref)) {
      // it was a base member that had been removed: un-removing restores it
    } else {
      let added = membersAdded.get(g);
      if (!added) membersAdded.set(g, (added = new Map()));
      added.set(ref.id, ref);
      if (ref.kind === 'user') {
        let set = userAddedTo.get(ref.index);
        if (!set) userAddedTo.set(ref.index, (set = new Set()));
        set.add(g);
      }
    }
    append({ kind: 'group', index: g, op: 'members', member: ref, removed: false });
  }

  function removeMember(groupId: string, memberId: string): void {
    const g = assertGroup(findGroup(groupId), groupId);
    const ref = memberRef(memberId);
    if (!isMember(g, ref)) assertGroup(undefined, memberId);
    if (membersAdded.get(g)?.delete(ref.id)) {
      if (ref.kind === 'user') userAddedTo.get(ref.index)?.delete(g);
    } else {
      removedSet(g).add(ref.id);
    }
    append({ kind: 'group', index: g, op: 'members', member: ref, removed: true });
  }

  return {
    spec,
    get seq() {
      return log.length;
    },
    /** Log entries after `afterSeq` up to `upToSeq`: what delta rounds are computed from (the log is never truncated). */
    changesBetween: (afterSeq: number, upToSeq: number): readonly Change[] => log.slice(afterSeq, upToSeq),
    /** Live (not deleted) users and groups. */
    userCount: () => nextUser - deletedUsers,
    groupCount: () => nextGroup - deletedGroups,
    userIdOf: (i: number) => objectId(spec.seed, 'user', i),
    groupIdOf: (g: number) => objectId(spec.seed, 'group', g),
    userRef,
    groupRef,
    isLiveUser,
    user,
    userIndex,
    findUser,
    liveUsers,
    managerIndex,
    directReports,
    photo,
    userGroups,
    softDeletedUsers,
    isLiveGroup,
    group,
    findGroup,
    liveGroups,
    softDeletedGroups: () => softDeleted(groupDeleted),
    groupMembers,
    transitiveMembers,
    parentGroups,
    groupIndexOf: (id: string) => indexOfId(spec.seed, 'group', id),
    userDeletedState: (i: number) => userDeleted.get(i),
    groupDeletedState: (g: number) => groupDeleted.get(g),
    createUser,
    updateUser,
    setManager,
    setPhoto,
    deleteUser,
    restoreUser,
    createGroup,
    updateGroup,
    deleteGroup,
    restoreGroup,
    addMember,
    removeMember,
  };
}

/** Soft-deleted objects (restorable for 30 days in Entra), in index order. */
function softDeleted(states: Map<number, DeletedState>): { index: number; deletedDateTime: string }[] {
  const out: { index: number; deletedDateTime: string }[] = [];
  for (const [index, state] of states) if (state.reason === 'changed') out.push({ index, deletedDateTime: state.at });
  return out.sort((a, b) => a.index - b.index);
}

function withoutFixed<T extends Record<string, unknown>>(props: T): Record<string, unknown> {
  const { id: _id, createdDateTime: _created, ...rest } = props;
  return rest;
}
