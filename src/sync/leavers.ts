import type { DirectoryUser } from '../core/directory.ts';
import { planUserLeft } from '../core/plan.ts';
import { getUsersByIds, leaversPage, type Leaver, type Store } from '../store/index.ts';
import { userFromRow } from './mapping.ts';
import type { RunWriter } from './writer.ts';

// Applying leavers the policy let through (at the end of a run) or an administrator approved (`usersync approve`):
// each leaves the directory's present users as lifecycle.onLeave says — disabled, or removed (the record is kept for a
// return and the audit) — and its wait is dropped, a page at a time, each page in one transaction.

const PAGE = 1000;

export interface LeaverCounts {
  disabled: number;
  removed: number;
  updated: number;
}

export async function applyLeavers(
  store: Store,
  conn: string,
  writer: RunWriter,
  options: { status: Leaver['status']; onLeave: 'disable' | 'remove'; ids?: readonly string[] },
): Promise<LeaverCounts> {
  const counts: LeaverCounts = { disabled: 0, removed: 0, updated: 0 };
  const removedAt = options.onLeave === 'remove' ? new Date().toISOString() : null;
  for await (const page of pagesOf(store, conn, writer, options)) {
    const existing = new Map(
      (
        await getUsersByIds(
          store.db,
          conn,
          page.map((l) => l.externalId),
        )
      ).map((row) => [row.external_id, userFromRow(row)]),
    );
    const users: DirectoryUser[] = [];
    for (const leaver of page) {
      const before = existing.get(leaver.externalId);
      const change = planUserLeft(before, leaver.reason);
      if (change?.kind !== 'write') continue;
      users.push(change.user);
      if (removedAt) counts.removed++;
      else if (change.counted === 'disabled') counts.disabled++;
      else counts.updated++;
    }
    await writer.atomically((db) =>
      writer.leave(
        db,
        users,
        removedAt,
        page.map((l) => l.externalId),
        existing,
      ),
    );
  }
  return counts;
}

/** The leavers to apply a page at a time: from the store, or (dry runs) those the report writer kept. */
async function* pagesOf(
  store: Store,
  conn: string,
  writer: RunWriter,
  options: { status: Leaver['status']; ids?: readonly string[] },
): AsyncGenerator<Pick<Leaver, 'externalId' | 'reason'>[]> {
  if (writer.dryRun) {
    const all = [...writer.pendingLeavers].map(([externalId, reason]) => ({ externalId, reason }));
    for (let i = 0; i < all.length; i += PAGE) yield all.slice(i, i + PAGE);
    return;
  }
  const wanted = options.ids ? [...new Set(options.ids)] : undefined;
  // Approving by id: the ids a page at a time; otherwise every leaver of the status, in id order.
  if (wanted) {
    for (let i = 0; i < wanted.length; i += PAGE) {
      const page = await leaversPage(store.db, conn, options.status, '', PAGE, wanted.slice(i, i + PAGE));
      if (page.length > 0) yield page;
    }
    return;
  }
  for (;;) {
    // Each page's rows are deleted as it is applied, so the next page starts from the beginning again.
    const page = await leaversPage(store.db, conn, options.status, '', PAGE);
    if (page.length === 0) return;
    yield page;
  }
}
