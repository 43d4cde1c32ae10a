import type { Settings } from '../core/settings.ts';
import {
  acquireRunLock,
  appendAudit,
  countLeavers,
  deleteLeavers,
  getUsersByIds,
  leaversPage,
  type Leaver,
  type Store,
} from '../store/index.ts';
import { loadSettings } from './applied-settings.ts';
import { applyLeavers, type LeaverCounts } from './leavers.ts';
import { storeWriter } from './writer.ts';

// Held leavers (the deletion threshold's quarantine): list them; approve, applying them as lifecycle.onLeave says; or
// discard the hold (the users stay; a later full read decides afresh). Deciding holds the connection's run lock, so a
// decision never interleaves with a sync. The CLI (`usersync held|approve|discard`) and the API both use these.

export type HeldLeaver = Leaver & { loginAccount: string | null; name: string | null };

/** Held leavers after `after` (externalId order), with who they are. */
export async function heldPage(store: Store, conn: string, after: string, limit: number): Promise<HeldLeaver[]> {
  const page = await leaversPage(store.db, conn, 'held', after, limit);
  const users = new Map(
    (
      await getUsersByIds(
        store.db,
        conn,
        page.map((l) => l.externalId),
      )
    ).map((u) => [u.external_id, u]),
  );
  return page.map((l) => ({
    ...l,
    loginAccount: users.get(l.externalId)?.login_account ?? null,
    name: users.get(l.externalId)?.name ?? null,
  }));
}

export async function* allHeld(store: Store, conn: string): AsyncGenerator<HeldLeaver[]> {
  for (let after = ''; ;) {
    const page = await heldPage(store, conn, after, 1000);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1].externalId;
  }
}

/** Runs `decide` holding the run lock; null when nothing is held. */
async function underLock<T>(store: Store, conn: string, decide: () => Promise<T>): Promise<T | null> {
  const lock = await acquireRunLock(store, conn, { waitMs: 10 * 60_000 });
  try {
    if ((await countLeavers(store.db, conn, 'held')) === 0) return null;
    return await decide();
  } finally {
    await lock.release();
  }
}

/** Applies held leavers (`ids`, or all when undefined) as lifecycle.onLeave says; null when none were held. */
export function approveHeld(
  store: Store,
  conn: string,
  ids: string[] | undefined,
  actor: string,
): Promise<LeaverCounts | null> {
  return underLock(store, conn, async () => {
    const { settings } = await loadSettings(store.db, conn);
    const writer = storeWriter(store, conn, { runId: null, actor });
    return applyLeavers(store, conn, writer, { status: 'held', onLeave: onLeaveOf(settings), ids });
  });
}

/** Drops the hold of held leavers (`ids`, or all); returns how many; null when none were held. */
export function discardHeld(
  store: Store,
  conn: string,
  ids: string[] | undefined,
  actor: string,
): Promise<number | null> {
  return underLock(store, conn, async () => {
    const chosen: string[] = [];
    for (let after = ''; ;) {
      const page = await leaversPage(store.db, conn, 'held', after, 1000, ids);
      if (page.length === 0) break;
      chosen.push(...page.map((l) => l.externalId));
      after = page[page.length - 1].externalId;
      if (ids) break;
    }
    await store.db.transaction().execute(async (trx) => {
      await appendAudit(
        trx,
        conn,
        chosen.map((id) => ({ objectType: 'user', objectId: id, action: 'discarded' })),
        { runId: null, actor },
      );
      await deleteLeavers(trx, conn, chosen);
    });
    return chosen.length;
  });
}

function onLeaveOf(settings: Settings): 'disable' | 'remove' {
  return settings.lifecycle?.onLeave === 'remove' ? 'remove' : 'disable';
}
