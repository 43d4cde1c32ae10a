import type { Kysely } from 'kysely';
import type { Database, DirectoryGroupRow, GroupType, MemberKind, SourceState } from '../schema.ts';
import { idChunkSize, inIds, insertRows } from './bulk.ts';
import { byDefinedKeys, chunks, nowIso } from './chunks.ts';
import { markSeen, notSeen, setStates } from './rounds.ts';

export type DirectoryGroup = Omit<DirectoryGroupRow, 'connection_id'>;

/** seen_round left undefined keeps the stored value on update. */
export type DirectoryGroupInput = Omit<DirectoryGroup, 'created_at' | 'updated_at' | 'seen_round'> & {
  seen_round?: string | null;
};

export type GroupStatePatch = { source_state?: SourceState; seen_round?: string | null };

export type GroupMember = { id: string; kind: MemberKind };

/** The shape of `usersync groups list --json` (DESIGN.md). */
export type DirectoryGroupListing = {
  externalId: string;
  name: string | null;
  type: GroupType;
  members: string[];
  /** The app group that receives the members: the group's own name, or the one groups.map gives. */
  appGroup: string | null;
};

export interface GroupListingOptions {
  /** Which groups the directory has (groups.sync, groups.types); default all. */
  include?: (id: string, type: GroupType) => boolean;
  /** groups.map: Entra group id → app group name. */
  map?: Readonly<Record<string, string>>;
}

export async function getGroupsByIds(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<DirectoryGroup[]> {
  const out: DirectoryGroup[] = [];
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_groups')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const { connection_id: _, ...group } of rows) out.push(group);
  }
  return out;
}

export type GroupFingerprint = { fingerprint: string; source_state: SourceState; seen_round: string | null };

/** id → fingerprint and lifecycle state, for diffing. */
export async function getGroupFingerprints(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, GroupFingerprint>> {
  const out = new Map<string, GroupFingerprint>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('directory_groups')
      .select(['external_id', 'fingerprint', 'source_state', 'seen_round'])
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const r of rows)
      out.set(r.external_id, { fingerprint: r.fingerprint, source_state: r.source_state, seen_round: r.seen_round });
  }
  return out;
}

export async function upsertGroups(
  db: Kysely<Database>,
  connectionId: string,
  groups: readonly DirectoryGroupInput[],
): Promise<void> {
  if (groups.length === 0) return;
  const now = nowIso();
  for (const group of byDefinedKeys(groups, ['seen_round'])) {
    const withRound = group[0].seen_round !== undefined;
    const updated = ['name', 'type', 'source_state', 'fingerprint', ...(withRound ? ['seen_round'] : []), 'updated_at'];
    const rows = group.map((g) => [
      connectionId,
      g.external_id,
      g.name,
      g.type,
      g.source_state,
      g.fingerprint,
      ...(withRound ? [g.seen_round] : []),
      now,
      now,
    ]);
    await insertRows(
      db,
      'directory_groups',
      ['connection_id', 'external_id', ...updated.slice(0, -1), 'created_at', 'updated_at'],
      rows,
      {
        columns: ['connection_id', 'external_id'],
        update: updated,
      },
    );
  }
}

export async function setGroupStates(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
  patch: GroupStatePatch,
): Promise<number> {
  const set: Record<string, unknown> = { updated_at: nowIso() };
  if (patch.source_state !== undefined) set.source_state = patch.source_state;
  if (patch.seen_round !== undefined) set.seen_round = patch.seen_round;
  return setStates(db, 'directory_groups', connectionId, ids, set);
}

export const markGroupsSeen = (db: Kysely<Database>, connectionId: string, ids: readonly string[], round: string) =>
  markSeen(db, 'directory_groups', connectionId, ids, round);

/** Ids of groups still 'present' that the round did not see. */
export const groupsNotSeen = (db: Kysely<Database>, connectionId: string, round: string) =>
  notSeen(db, 'directory_groups', connectionId, round);

/** Adds (or re-confirms) members of one group; with a round, marks them seen in it. */
export async function addMembers(
  db: Kysely<Database>,
  connectionId: string,
  groupId: string,
  members: readonly GroupMember[],
  round?: string,
): Promise<void> {
  const unique = [...new Map(members.map((m) => [m.id, m])).values()];
  await insertRows(
    db,
    'group_members',
    ['connection_id', 'group_external_id', 'member_external_id', 'member_kind', 'seen_round'],
    unique.map((m) => [connectionId, groupId, m.id, m.kind, round ?? null]),
    {
      columns: ['connection_id', 'group_external_id', 'member_external_id'],
      update: round === undefined ? ['member_kind'] : ['member_kind', 'seen_round'],
    },
  );
}

export async function removeMembers(
  db: Kysely<Database>,
  connectionId: string,
  groupId: string,
  memberIds: readonly string[],
): Promise<number> {
  let removed = 0;
  for (const chunk of chunks(memberIds, idChunkSize(db))) {
    const result = await db
      .deleteFrom('group_members')
      .where('connection_id', '=', connectionId)
      .where('group_external_id', '=', groupId)
      .where(inIds(db, 'member_external_id', chunk))
      .executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return removed;
}

/** Deletes memberships of these groups that the round did not see; returns how many. */
export async function removeMembersNotSeen(
  db: Kysely<Database>,
  connectionId: string,
  groupIds: readonly string[],
  round: string,
): Promise<number> {
  let removed = 0;
  for (const chunk of chunks(groupIds, idChunkSize(db))) {
    const result = await db
      .deleteFrom('group_members')
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'group_external_id', chunk))
      .where((eb) => eb.or([eb('seen_round', 'is', null), eb('seen_round', '<>', round)]))
      .executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return removed;
}

/** The stored direct members of one group, users and groups alike, ordered by id. */
export async function listGroupMembers(
  db: Kysely<Database>,
  connectionId: string,
  groupId: string,
): Promise<GroupMember[]> {
  const rows = await db
    .selectFrom('group_members')
    .select(['member_external_id as id', 'member_kind as kind'])
    .where('connection_id', '=', connectionId)
    .where('group_external_id', '=', groupId)
    .orderBy('member_external_id')
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind }));
}

/**
 * Groups present in the source, ordered by name then externalId, each with the sorted
 * loginAccounts of its direct user members whose user row is present.
 */
export async function listDirectoryGroups(
  db: Kysely<Database>,
  connectionId: string,
  options: GroupListingOptions = {},
): Promise<DirectoryGroupListing[]> {
  const groups = await db
    .selectFrom('directory_groups')
    .select(['external_id', 'name', 'type'])
    .where('connection_id', '=', connectionId)
    .where('source_state', '=', 'present')
    .orderBy('name', (ob) => ob.asc().nullsFirst())
    .orderBy('external_id')
    .execute();
  const map = new Map(Object.entries(options.map ?? {}).map(([id, name]) => [id.toLowerCase(), name]));
  const listing = groups
    .filter((g) => options.include?.(g.external_id, g.type) ?? true)
    .map((g): DirectoryGroupListing => ({
      externalId: g.external_id,
      name: g.name,
      type: g.type,
      members: [],
      appGroup: map.get(g.external_id.toLowerCase()) ?? g.name,
    }));
  const byId = new Map(listing.map((g) => [g.externalId, g]));
  const members = await db
    .selectFrom('group_members as gm')
    .innerJoin('directory_users as u', (join) =>
      join.onRef('u.connection_id', '=', 'gm.connection_id').onRef('u.external_id', '=', 'gm.member_external_id'),
    )
    .select(['gm.group_external_id as groupId', 'u.login_account as loginAccount'])
    .where('gm.connection_id', '=', connectionId)
    .where('gm.member_kind', '=', 'user')
    .where('u.source_state', '=', 'present')
    .where('u.login_account', 'is not', null)
    .orderBy('u.login_account')
    .execute();
  for (const m of members) byId.get(m.groupId)?.members.push(m.loginAccount!);
  return listing;
}
