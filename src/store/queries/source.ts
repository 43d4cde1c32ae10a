import { sql, type Kysely } from 'kysely';
import type { Database, MemberKind, SourceUsersTable } from '../schema.ts';
import { idChunkSize, inIds, insertRows } from './bulk.ts';
import { addTo, chunks, nowIso } from './chunks.ts';

// The source mirror: what Graph said about each user, kept apart from the directory (which is computed from it).

export type SourceUserState = SourceUsersTable['state'];

export interface MirroredUser {
  externalId: string;
  /** The Graph user object as last read (selected properties only); {} for a user known only as deleted. */
  data: Record<string, unknown>;
  managerExternalId: string | null;
  state: SourceUserState;
  pending: boolean;
}

export interface MirroredUserInput {
  externalId: string;
  data: Record<string, unknown>;
  managerExternalId: string | null;
  state: SourceUserState;
  /** true = compute this user's directory record again later (their mapping failed, or their groups changed). */
  pending: boolean;
  /** The full read that saw the user (left as stored when undefined). */
  seenRound?: string;
}

const COLUMNS = ['connection_id', 'external_id', 'data', 'manager_external_id', 'state', 'pending', 'updated_at'];

/** Inserts or replaces mirrored users. */
export async function upsertSourceUsers(
  db: Kysely<Database>,
  connectionId: string,
  users: readonly MirroredUserInput[],
): Promise<void> {
  const now = nowIso();
  for (const seen of [true, false]) {
    const group = users.filter((u) => (u.seenRound !== undefined) === seen);
    if (group.length === 0) continue;
    const columns = seen ? [...COLUMNS, 'seen_round'] : COLUMNS;
    const rows = group.map((u) => {
      const row: unknown[] = [
        connectionId,
        u.externalId,
        JSON.stringify(u.data),
        u.managerExternalId,
        u.state,
        u.pending ? 1 : 0,
        now,
      ];
      if (seen) row.push(u.seenRound);
      return row;
    });
    await insertRows(db, 'source_users', columns, rows, {
      columns: ['connection_id', 'external_id'],
      update: columns.filter((c) => c !== 'connection_id' && c !== 'external_id'),
    });
  }
}

export async function getSourceUsers(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, MirroredUser>> {
  const out = new Map<string, MirroredUser>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('source_users')
      .select(['external_id', 'data', 'manager_external_id', 'state', 'pending'])
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const row of rows) out.set(row.external_id, decode(row));
  }
  return out;
}

/** Mirrored users in id order after `after`: every one, or only those pending. */
export async function sourceUsersPage(
  db: Kysely<Database>,
  connectionId: string,
  after: string,
  limit: number,
  only: 'all' | 'pending',
): Promise<MirroredUser[]> {
  const rows = await db
    .selectFrom('source_users')
    .select(['external_id', 'data', 'manager_external_id', 'state', 'pending'])
    .where('connection_id', '=', connectionId)
    .$if(only === 'pending', (q) => q.where('pending', '=', 1))
    .where('external_id', '>', after)
    .orderBy('external_id')
    .limit(limit)
    .execute();
  return rows.map(decode);
}

/** Marks users whose directory record must be computed again (unknown ids are ignored). */
export async function setSourcePending(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
  pending: boolean,
): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db))) {
    await db
      .updateTable('source_users')
      .set({ pending: pending ? 1 : 0 })
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
  }
}

/**
 * End of a full read: the users the mirror still has as present that the round did not see (every present one when
 * round is null), with the directory's users that the mirror never had (synced before the mirror existed).
 */
export async function sourceUsersNotSeen(
  db: Kysely<Database>,
  connectionId: string,
  round: string | null,
): Promise<string[]> {
  const rows = await db
    .selectFrom('source_users')
    .select('external_id')
    .where('connection_id', '=', connectionId)
    .where('state', '=', 'present')
    .$if(round !== null, (q) => q.where((eb) => eb.or([eb('seen_round', 'is', null), eb('seen_round', '<>', round!)])))
    .execute();
  const orphans = await db
    .selectFrom('directory_users as u')
    .leftJoin('source_users as s', (join) =>
      join.onRef('s.connection_id', '=', 'u.connection_id').onRef('s.external_id', '=', 'u.external_id'),
    )
    .select('u.external_id')
    .where('u.connection_id', '=', connectionId)
    .where('u.source_state', 'in', ['present', 'out_of_scope'])
    .where('s.external_id', 'is', null)
    .execute();
  return [...new Set([...rows, ...orphans].map((r) => r.external_id))].sort();
}

export async function countSourceUsers(db: Kysely<Database>, connectionId: string): Promise<number> {
  const row = await db
    .selectFrom('source_users')
    .select(sql<number>`count(*)`.as('n'))
    .where('connection_id', '=', connectionId)
    .where('state', '=', 'present')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Memberships of present groups, of users or of nested groups. Deleted groups keep their memberships for the audit,
 * but nobody is in scope through them.
 */
function presentMemberships(db: Kysely<Database>, connectionId: string, kind: MemberKind) {
  return db
    .selectFrom('group_members as m')
    .innerJoin('directory_groups as g', (join) =>
      join.onRef('g.connection_id', '=', 'm.connection_id').onRef('g.external_id', '=', 'm.group_external_id'),
    )
    .select(['m.group_external_id as group', 'm.member_external_id as member'])
    .where('m.connection_id', '=', connectionId)
    .where('m.member_kind', '=', kind)
    .where('g.source_state', '=', 'present');
}

/** The present groups each user is a direct member of, for group scope. */
export async function directGroupsOfUsers(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await presentMemberships(db, connectionId, 'user')
      .where(inIds(db, 'm.member_external_id', chunk))
      .execute();
    for (const r of rows) addTo(out, r.member, r.group);
  }
  return out;
}

/** Group → its direct user members (present groups only): who Entra puts in each app group. */
export async function userMembersOfGroups(db: Kysely<Database>, connectionId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await presentMemberships(db, connectionId, 'user').execute()) addTo(out, r.group, r.member);
  return out;
}

/** Group → the groups nested directly in it (present groups only): the edges group scope walks. */
export async function nestedGroupEdges(db: Kysely<Database>, connectionId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await presentMemberships(db, connectionId, 'group').execute()) addTo(out, r.group, r.member);
  return out;
}

function decode(row: {
  external_id: string;
  data: string;
  manager_external_id: string | null;
  state: SourceUserState;
  pending: number;
}): MirroredUser {
  return {
    externalId: row.external_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    managerExternalId: row.manager_external_id,
    state: row.state,
    pending: Number(row.pending) === 1,
  };
}

/** Direct user members of these groups that the mirror does not have (group-scoped reading reads them by id). */
export async function membersWithoutMirror(
  db: Kysely<Database>,
  connectionId: string,
  groupIds: readonly string[],
): Promise<string[]> {
  const out = new Set<string>();
  for (const chunk of chunks(groupIds, idChunkSize(db))) {
    const rows = await db
      .selectFrom('group_members as m')
      .leftJoin('source_users as s', (join) =>
        join.onRef('s.connection_id', '=', 'm.connection_id').onRef('s.external_id', '=', 'm.member_external_id'),
      )
      .select('m.member_external_id as id')
      .where('m.connection_id', '=', connectionId)
      .where('m.member_kind', '=', 'user')
      .where(inIds(db, 'm.group_external_id', chunk))
      .where('s.external_id', 'is', null)
      .execute();
    for (const r of rows) out.add(r.id);
  }
  return [...out].sort();
}
