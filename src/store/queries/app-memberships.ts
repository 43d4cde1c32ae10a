import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { insertRows } from './bulk.ts';
import { nowIso } from './chunks.ts';

// App memberships that did not come from Entra: which app group holds which user.

export interface AppMembership {
  appGroup: string;
  memberId: string;
}

export async function addAppMemberships(
  db: Kysely<Database>,
  connectionId: string,
  memberships: readonly AppMembership[],
): Promise<void> {
  const now = nowIso();
  await insertRows(
    db,
    'app_memberships',
    ['connection_id', 'app_group', 'member_external_id', 'created_at'],
    memberships.map((m) => [connectionId, m.appGroup, m.memberId, now]),
    { columns: ['connection_id', 'app_group', 'member_external_id'], update: 'nothing' },
  );
}

export async function listAppMemberships(db: Kysely<Database>, connectionId: string): Promise<AppMembership[]> {
  const rows = await db
    .selectFrom('app_memberships')
    .select(['app_group', 'member_external_id'])
    .where('connection_id', '=', connectionId)
    .orderBy('app_group')
    .orderBy('member_external_id')
    .execute();
  return rows.map((r) => ({ appGroup: r.app_group, memberId: r.member_external_id }));
}

export async function removeAppMemberships(
  db: Kysely<Database>,
  connectionId: string,
  memberships: readonly AppMembership[],
): Promise<void> {
  for (const m of memberships)
    await db
      .deleteFrom('app_memberships')
      .where('connection_id', '=', connectionId)
      .where('app_group', '=', m.appGroup)
      .where('member_external_id', '=', m.memberId)
      .execute();
}

/** An adopted account's memberships follow it to its Entra id. */
export async function renameAppMember(
  db: Kysely<Database>,
  connectionId: string,
  from: string,
  to: string,
): Promise<void> {
  await db
    .updateTable('app_memberships')
    .set({ member_external_id: to })
    .where('connection_id', '=', connectionId)
    .where('member_external_id', '=', from)
    .execute();
}
