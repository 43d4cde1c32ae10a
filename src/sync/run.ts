import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DirectoryGroup, DirectoryUser, MemberRef, SourceGroup } from '../core/directory.ts';
import { GROUP_SELECT, normaliseGroup, normaliseUser, USER_SELECT, type UserItem } from '../core/normalise.ts';
import { describeError } from '../core/errors.ts';
import { massDisableStop, SafetyStop } from '../core/policy.ts';
import {
  newDepartments,
  planGroupLeft,
  planSourceGroup,
  planSourceUser,
  planUserLeft,
  type GroupChange,
  type UserChange,
} from '../core/plan.ts';
import { DeltaTokenExpiredError } from '../entra/errors.ts';
import { createSemaphore, type GraphHttp } from '../entra/http.ts';
import { readDelta, type GraphObject } from '../entra/paging.ts';
import { photoBytes, photoEtags, type Photo } from '../entra/photos.ts';
import {
  acquireRunLock,
  addMembers,
  checkStore,
  clearPhotoPending,
  closeInterruptedRuns,
  countUsers,
  deletePhoto,
  ensureDepartments,
  finishRun,
  getGroupsByIds,
  getStoredPhotos,
  getSyncState,
  getUsersByIds,
  groupsNotSeen,
  insertRun,
  isStoreCorrupt,
  markGroupsSeen,
  markUsersSeen,
  missingDepartments,
  photoPendingPage,
  removeMembers,
  removeMembersNotSeen,
  saveSyncState,
  transaction,
  upsertGroups,
  upsertPhoto,
  upsertUsers,
  usersNotSeen,
  type Run,
  type Store,
} from '../store/index.ts';
import { joinPages, prefetch, type PageLike } from './prefetch.ts';
import { groupFromRow, groupToRow, userFromRow, userToRow } from './mapping.ts';

// One sync run: read → normalise → plan → apply → checkpoint → record. Each Graph page is applied in
// one transaction together with the link that continues after it, so a run killed at any instant
// resumes from its last committed page and converges; replaying a page is harmless (last write wins).

export interface SyncOptions {
  connectionId?: string;
  /** Re-read everything and reconcile: whatever the source no longer has is disabled. */
  full?: boolean;
  /** Compute and report the plan; write nothing, advance no delta link. */
  dryRun?: boolean;
  /** Share of present users a full read may disable in one run before it stops for an administrator (default 10). */
  maxDisablePercent?: number;
  /** Hours between photo sweeps (photos are not in delta); 0 = every run. Default 24, and every run for small directories. */
  photoSweepHours?: number;
  /** How long to wait for another run of the same connection to finish. */
  lockWaitMs?: number;
  onWait?: (holder: { pid: number | null; host: string | null; since: string | null }) => void;
  onProgress?: (progress: SyncProgress) => void;
  /** Earlier runs of the connection whose process stopped without finishing: this run closed them as failed and resumes their work. */
  onInterrupted?: (runs: Run[]) => void;
  /** Structured run events (start, each phase, outcome), tagged with connectionId and runId. */
  logger?: Logger;
  now?: () => number;
}

export interface SyncProgress {
  phase: 'users' | 'groups' | 'photos';
  done: number;
}

export interface SyncSummary {
  status: 'succeeded';
  mode: 'full' | 'delta';
  dryRun: boolean;
  users: { created: number; updated: number; disabled: number; removed: number; unchanged: number };
  groups: { created: number; updated: number; removed: number };
  departments: { created: number };
  graphRequests: number;
  durationMs: number;
  /** A stored delta link was refused (expired or reset), so this run read everything instead. */
  fellBackToFull: boolean;
  runId: string | null;
}

/** Directories this small get their photos checked on every run (at most 100 batched requests). */
const SMALL_DIRECTORY = 2000;
const PHOTO_CHUNK = 1000;
/** Objects (users, or group members) written per transaction; see joinPages. */
const OBJECTS_PER_TRANSACTION = 2000;

type Mode = 'full' | 'delta';

interface RunContext {
  store: Store;
  http: GraphHttp;
  conn: string;
  dryRun: boolean;
  round: string;
  runId: string;
  summary: SyncSummary;
  /** Dry runs cannot mark rows, so a full dry read remembers what it saw. */
  seenUsers: Set<string> | null;
  seenGroups: Set<string> | null;
  knownDepartments: Set<string>;
  startedIso: string;
  /** Groups already counted in this run (a group's member slices may span batches). */
  countedGroups: Set<string>;
  /** Dry runs: users the plan takes out of the source (their photos are not checked). */
  dryGone: Set<string>;
  /** Dry runs: users that would be created (their photos would be checked). */
  dryCreated: string[];
  progress: (phase: SyncProgress['phase'], n: number) => void;
  log: Logger | undefined;
  maxDisablePercent: number | undefined;
}

export async function runSync(
  deps: { store: Store; http: GraphHttp },
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const conn = options.connectionId ?? 'default';
  const dryRun = options.dryRun ?? false;
  const { store } = deps;
  // A damaged store is refused before the lock, the run record or anything else is written to it.
  await checkStore(store);
  const lock = dryRun
    ? null
    : await acquireRunLock(store, conn, { waitMs: options.lockWaitMs ?? 10 * 60_000, onWait: options.onWait });
  const requestsBefore = deps.http.requestCount;
  const runId = randomUUID();
  const summary: SyncSummary = {
    status: 'succeeded',
    mode: 'delta',
    dryRun,
    users: { created: 0, updated: 0, disabled: 0, removed: 0, unchanged: 0 },
    groups: { created: 0, updated: 0, removed: 0 },
    departments: { created: 0 },
    graphRequests: 0,
    durationMs: 0,
    fellBackToFull: false,
    runId: dryRun ? null : runId,
  };
  const log = options.logger?.child({ connectionId: conn, runId: dryRun ? null : runId });
  // Graph requests (and their retries) log with the run's ids too.
  const http = log ? deps.http.withLogger(log) : deps.http;
  let corrupt = false;
  log?.info({ full: options.full ?? false, dryRun }, 'sync run started');
  try {
    if (!dryRun) {
      // Holding the lock, no other run of this connection is alive: any still marked running was interrupted.
      const interrupted = await closeInterruptedRuns(store.db, conn, runId);
      if (interrupted.length > 0) {
        log?.warn(
          { interrupted: interrupted.map((r) => ({ runId: r.id, pid: r.pid, host: r.host, startedAt: r.started_at })) },
          'closed runs interrupted before they finished',
        );
        options.onInterrupted?.(interrupted);
      }
      await insertRun(store.db, {
        id: runId,
        connection_id: conn,
        mode: options.full ? 'full' : 'delta',
        dry_run: false,
        started_at: new Date(started).toISOString(),
      });
    }
    const state = await getSyncState(store.db, conn);
    const resuming =
      !options.full && (state.users_next_link !== null || state.groups_next_link !== null) && state.round_id !== null;
    const round = resuming ? state.round_id! : randomUUID();
    if (!dryRun && !resuming)
      await saveSyncState(store.db, conn, {
        round_id: round,
        ...(options.full
          ? { users_next_link: null, groups_next_link: null, users_round_mode: null, groups_round_mode: null }
          : {}),
      });
    let done = 0;
    const ctx: RunContext = {
      store,
      http,
      conn,
      dryRun,
      round,
      runId,
      summary,
      startedIso: new Date(started).toISOString(),
      seenUsers: null,
      seenGroups: null,
      knownDepartments: new Set(),
      dryCreated: [],
      countedGroups: new Set(),
      dryGone: new Set(),
      log,
      maxDisablePercent: options.maxDisablePercent,
      progress: (phase, n) => {
        done += n;
        options.onProgress?.({ phase, done });
      },
    };

    const users = startingPoint(options.full, state.users_next_link, state.users_round_mode, state.users_delta_link);
    const usersMode = await readRound(ctx, 'users', users.link, users.mode);
    done = 0;
    const groups = startingPoint(
      options.full,
      state.groups_next_link,
      state.groups_round_mode,
      state.groups_delta_link,
    );
    const groupsMode = await readRound(ctx, 'groups', groups.link, groups.mode);
    summary.mode = usersMode === 'full' || groupsMode === 'full' ? 'full' : 'delta';
    log?.info(
      { usersMode, groupsMode, users: summary.users, groups: summary.groups, fellBackToFull: summary.fellBackToFull },
      'users and groups read',
    );
    done = 0;
    await syncPhotos(ctx, summary.mode === 'full', options.photoSweepHours, now);

    summary.graphRequests = http.requestCount - requestsBefore;
    summary.durationMs = Math.round(now() - started);
    log?.info(summary, 'sync run succeeded');
    if (!dryRun) {
      await finishRun(store.db, runId, {
        status: 'succeeded',
        finished_at: new Date(now()).toISOString(),
        duration_ms: summary.durationMs,
        summary,
        graph_requests: summary.graphRequests,
        fell_back_to_full: summary.fellBackToFull,
        mode: summary.mode,
      });
    }
    return summary;
  } catch (error) {
    // Found damaged mid-run: the failed step rolled back, and nothing more is written (the run record and the lock stay as they are).
    corrupt = isStoreCorrupt(error);
    // A safety stop keeps nothing of the refused round: the next run starts a fresh read (and stops again if the source is still short).
    if (error instanceof SafetyStop && !dryRun)
      await saveSyncState(store.db, conn, { users_next_link: null, users_round_mode: null }).catch(() => {});
    // The one error shape, with this run's connection, for the log and the run record alike.
    const failure = describeError(error, { connectionId: conn });
    log?.error({ error: failure }, 'sync run failed');
    if (!dryRun && !corrupt) {
      await finishRun(store.db, runId, {
        status: 'failed',
        finished_at: new Date(now()).toISOString(),
        duration_ms: Math.round(now() - started),
        graph_requests: http.requestCount - requestsBefore,
        failure,
      }).catch(() => {
        /* the run record is best effort; the original error matters */
      });
    }
    throw error;
  } finally {
    if (!corrupt) await lock?.release();
  }
}

/** Where a resource's read starts: from scratch (full), resuming an interrupted round, or from the stored delta link. */
function startingPoint(
  full: boolean | undefined,
  next: string | null,
  nextMode: Mode | null,
  deltaLink: string | null,
): { link: string | null; mode: Mode } {
  if (full) return { link: null, mode: 'full' };
  if (next) return { link: next, mode: nextMode ?? 'delta' };
  if (deltaLink) return { link: deltaLink, mode: 'delta' };
  return { link: null, mode: 'full' };
}

/** Reads one delta round of a resource to its end, applying page by page; falls back to a full read when the link is refused. */
async function readRound(
  ctx: RunContext,
  resource: 'users' | 'groups',
  link: string | null,
  mode: Mode,
): Promise<Mode> {
  try {
    await readPages(ctx, resource, link, mode);
    return mode;
  } catch (error) {
    if (!(error instanceof DeltaTokenExpiredError) || link === null) throw error;
    ctx.summary.fellBackToFull = true;
    ctx.log?.warn({ resource }, 'the stored delta link was refused; reading everything');
    if (!ctx.dryRun)
      await saveSyncState(
        ctx.store.db,
        ctx.conn,
        resource === 'users'
          ? { users_next_link: null, users_delta_link: null, users_round_mode: null }
          : { groups_next_link: null, groups_delta_link: null, groups_round_mode: null },
      );
    await readPages(ctx, resource, null, 'full');
    return 'full';
  }
}

async function readPages(
  ctx: RunContext,
  resource: 'users' | 'groups',
  link: string | null,
  mode: Mode,
): Promise<void> {
  if (mode === 'full' && ctx.dryRun) {
    if (resource === 'users') ctx.seenUsers = new Set();
    else ctx.seenGroups = new Set();
  }
  if (mode === 'full' && resource === 'users' && !ctx.dryRun) {
    // A full read is followed by a sweep of every photo from the first user: recording it now means a run killed before the sweep still gets
    // one, and a sweep a killed run left half-way starts over (users a full read creates are not marked for a photo check of their own).
    await saveSyncState(ctx.store.db, ctx.conn, { photo_sweep_after: '' });
  }
  const select = resource === 'users' ? USER_SELECT : GROUP_SELECT;
  // Pages are written a few thousand objects per transaction, and the next ones download meanwhile.
  const weigh =
    resource === 'users'
      ? () => 1
      : (item: Record<string, unknown>) => 1 + ((item['members@delta'] as unknown[] | undefined)?.length ?? 0);
  for await (const page of joinPages(
    prefetch(readDelta(ctx.http, { resource, link, select })),
    OBJECTS_PER_TRANSACTION,
    weigh,
  )) {
    if (resource === 'users') await applyUserPage(ctx, page, mode);
    else await applyGroupPage(ctx, page, mode);
    ctx.progress(resource, page.value.length);
  }
}

// Users ------------------------------------------------------------------------------------------

/** The same object may appear more than once in a round: last write wins, but a later item that doesn't mention the manager keeps an earlier one's. */
function mergeUserItems(items: UserItem[]): UserItem[] {
  const byId = new Map<string, UserItem>();
  for (const item of items) {
    const id = item.kind === 'removed' ? item.externalId : item.user.externalId;
    const before = byId.get(id);
    if (item.kind === 'user' && item.user.managerExternalId === undefined && before?.kind === 'user') {
      item.user.managerExternalId = before.user.managerExternalId;
    }
    byId.delete(id);
    byId.set(id, item);
  }
  return [...byId.values()];
}

async function applyUserPage(ctx: RunContext, page: PageLike<GraphObject>, mode: Mode): Promise<void> {
  const { store, conn, summary } = ctx;
  const items = mergeUserItems(page.value.map((raw) => normaliseUser(raw, mode)));
  const ids = items.map((i) => (i.kind === 'removed' ? i.externalId : i.user.externalId));
  const existing = new Map(
    (await getUsersByIds(store.db, conn, ids)).map((row) => [row.external_id, userFromRow(row)]),
  );
  const writes: DirectoryUser[] = [];
  const photoChecks: string[] = [];
  const present: string[] = [];
  for (const item of items) {
    const change: UserChange | null =
      item.kind === 'removed'
        ? planUserLeft(existing.get(item.externalId), 'deleted')
        : planSourceUser(existing.get(item.user.externalId), item.user);
    if (item.kind === 'user') present.push(item.user.externalId);
    if (change === null) continue;
    if (change.kind === 'unchanged') {
      summary.users.unchanged++;
      continue;
    }
    summary.users[change.counted]++;
    writes.push(change.user);
    const before = existing.get(change.user.externalId);
    if (change.user.sourceState === 'present' && (!before || before.sourceState !== 'present'))
      photoChecks.push(change.user.externalId);
  }
  const departments = newDepartments(
    ctx.knownDepartments,
    writes.filter((u) => u.sourceState === 'present'),
  );

  if (ctx.dryRun) {
    if (mode === 'full') for (const id of present) ctx.seenUsers?.add(id);
    const created = await missingDepartments(store.db, conn, departments);
    summary.departments.created += created.length;
    for (const d of departments) ctx.knownDepartments.add(d);
    ctx.dryCreated.push(...photoChecks);
    for (const u of writes) if (u.sourceState !== 'present') ctx.dryGone.add(u.externalId);
    if (page.deltaLink && mode === 'full') await reconcileUsers(ctx);
    return;
  }
  await transaction(store, async (trx) => {
    // New and restored users get their photo checked; a full round is followed by a sweep of everyone instead.
    const checks = new Set(mode === 'delta' ? photoChecks : []);
    const seen = mode === 'full' ? { seen_round: ctx.round } : {};
    await upsertUsers(
      trx,
      conn,
      writes.map((u) => ({ ...userToRow(u), ...seen, ...(checks.has(u.externalId) ? { photo_pending: 1 } : {}) })),
    );
    if (mode === 'full') {
      const written = new Set(writes.map((u) => u.externalId));
      await markUsersSeen(
        trx,
        conn,
        present.filter((id) => !written.has(id)),
        ctx.round,
      );
    }
    summary.departments.created += await ensureDepartments(trx, conn, departments, ctx.runId);
    if (page.deltaLink) {
      if (mode === 'full') await reconcileUsers(ctx, trx);
      await saveSyncState(trx, conn, {
        users_delta_link: page.deltaLink,
        users_next_link: null,
        users_round_mode: null,
      });
    } else {
      await saveSyncState(trx, conn, { users_next_link: page.nextLink, users_round_mode: mode });
    }
  });
  for (const d of departments) ctx.knownDepartments.add(d);
}

/** End of a full read: present users the source no longer has are kept, disabled. */
async function reconcileUsers(ctx: RunContext, trx?: Store['db']): Promise<void> {
  const db = trx ?? ctx.store.db;
  let missing: string[];
  if (ctx.seenUsers) {
    const present = await allPresentUserIds(ctx);
    missing = present.filter((id) => !ctx.seenUsers!.has(id));
  } else {
    missing = await usersNotSeen(db, ctx.conn, ctx.round);
  }
  const stop = ctx.dryRun
    ? null
    : massDisableStop(
        missing.length,
        await countUsers(db, ctx.conn, { source_state: 'present' }),
        ctx.maxDisablePercent,
      );
  if (stop) throw stop; // the batch's transaction rolls back; runSync forgets the round so the next run reads afresh
  for (let i = 0; i < missing.length; i += 1000) {
    const rows = await getUsersByIds(db, ctx.conn, missing.slice(i, i + 1000));
    const writes: DirectoryUser[] = [];
    for (const row of rows) {
      const change = planUserLeft(userFromRow(row), 'missing');
      if (change?.kind === 'write') {
        ctx.summary.users[change.counted]++;
        writes.push(change.user);
      }
    }
    if (ctx.dryRun) for (const u of writes) ctx.dryGone.add(u.externalId);
    else await upsertUsers(db, ctx.conn, writes.map(userToRow));
  }
}

async function allPresentUserIds(ctx: RunContext): Promise<string[]> {
  const rows = await ctx.store.db
    .selectFrom('directory_users')
    .select('external_id')
    .where('connection_id', '=', ctx.conn)
    .where('source_state', '=', 'present')
    .execute();
  return rows.map((r) => r.external_id);
}

// Groups -----------------------------------------------------------------------------------------

interface GroupDelta {
  group: SourceGroup | null;
  removed: 'changed' | 'deleted' | null;
  members: Map<string, { kind: MemberRef['kind']; removed: boolean }>;
}

/** A large group arrives in slices (the same group repeated with more members@delta): merge them per group, last operation per member wins. */
function mergeGroupItems(page: PageLike<GraphObject>): Map<string, GroupDelta> {
  const byId = new Map<string, GroupDelta>();
  for (const raw of page.value) {
    const item = normaliseGroup(raw);
    const id =
      item.kind === 'removed' ? item.externalId : (item.group?.externalId ?? String((raw as { id: unknown }).id));
    let entry = byId.get(id);
    if (!entry) byId.set(id, (entry = { group: null, removed: null, members: new Map() }));
    if (item.kind === 'removed') {
      entry.removed = item.reason;
      entry.group = null;
      continue;
    }
    entry.removed = null;
    if (item.group) entry.group = item.group;
    for (const m of item.added) entry.members.set(m.externalId, { kind: m.kind, removed: false });
    for (const m of item.removedMembers)
      entry.members.set(m, { kind: entry.members.get(m)?.kind ?? 'user', removed: true });
  }
  return byId;
}

async function applyGroupPage(ctx: RunContext, page: PageLike<GraphObject>, mode: Mode): Promise<void> {
  const { store, conn, summary } = ctx;
  const deltas = mergeGroupItems(page);
  const existing = new Map(
    (await getGroupsByIds(store.db, conn, [...deltas.keys()])).map((row) => [row.external_id, groupFromRow(row)]),
  );
  const writes: DirectoryGroup[] = [];
  const present: string[] = [];
  for (const [id, delta] of deltas) {
    let change: GroupChange | null = null;
    if (delta.removed) change = planGroupLeft(existing.get(id), 'deleted');
    else if (delta.group) {
      change = planSourceGroup(existing.get(id), delta.group);
      present.push(id);
    } else if (existing.get(id)?.sourceState === 'present') present.push(id);
    if (change?.kind === 'write') {
      summary.groups[change.counted]++;
      writes.push(change.group);
      ctx.countedGroups.add(id);
    }
  }
  // A change round's membership changes update the group (a full read lists every member, so it cannot tell).
  if (mode === 'delta') {
    for (const [id, delta] of deltas) {
      if (
        delta.removed ||
        delta.members.size === 0 ||
        ctx.countedGroups.has(id) ||
        existing.get(id)?.sourceState !== 'present'
      )
        continue;
      summary.groups.updated++;
      ctx.countedGroups.add(id);
    }
  }
  if (ctx.dryRun) {
    if (mode === 'full') for (const id of present) ctx.seenGroups?.add(id);
    if (page.deltaLink && mode === 'full') await reconcileGroups(ctx, store.db);
    return;
  }
  await transaction(store, async (trx) => {
    await upsertGroups(trx, conn, writes.map(groupToRow));
    for (const [id, delta] of deltas) {
      if (delta.removed) continue;
      const adds = [...delta.members]
        .filter(([, m]) => !m.removed)
        .map(([memberId, m]) => ({ id: memberId, kind: m.kind }));
      const removes = [...delta.members].filter(([, m]) => m.removed).map(([memberId]) => memberId);
      if (adds.length > 0) await addMembers(trx, conn, id, adds, mode === 'full' ? ctx.round : undefined);
      if (removes.length > 0) await removeMembers(trx, conn, id, removes);
    }
    if (mode === 'full') await markGroupsSeen(trx, conn, present, ctx.round);
    if (page.deltaLink) {
      if (mode === 'full') await reconcileGroups(ctx, trx);
      await saveSyncState(trx, conn, {
        groups_delta_link: page.deltaLink,
        groups_next_link: null,
        groups_round_mode: null,
      });
    } else {
      await saveSyncState(trx, conn, { groups_next_link: page.nextLink, groups_round_mode: mode });
    }
  });
}

/** End of a full read of groups: groups the source no longer has leave the directory's groups; memberships not re-read are removed. */
async function reconcileGroups(ctx: RunContext, db: Store['db']): Promise<void> {
  const presentRows = await db
    .selectFrom('directory_groups')
    .select('external_id')
    .where('connection_id', '=', ctx.conn)
    .where('source_state', '=', 'present')
    .execute();
  const missing = ctx.seenGroups
    ? presentRows.map((r) => r.external_id).filter((id) => !ctx.seenGroups!.has(id))
    : await groupsNotSeen(db, ctx.conn, ctx.round);
  const rows = await getGroupsByIds(db, ctx.conn, missing);
  const writes: DirectoryGroup[] = [];
  for (const row of rows) {
    const change = planGroupLeft(groupFromRow(row), 'missing');
    if (change?.kind === 'write') {
      ctx.summary.groups.removed++;
      writes.push(change.group);
    }
  }
  if (ctx.dryRun) return;
  await upsertGroups(db, ctx.conn, writes.map(groupToRow));
  const missingSet = new Set(missing);
  await removeMembersNotSeen(
    db,
    ctx.conn,
    presentRows.map((r) => r.external_id).filter((id) => !missingSet.has(id)),
    ctx.round,
  );
}

// Photos -----------------------------------------------------------------------------------------

/**
 * Photos are not in users delta. New and restored users are marked and checked in the run that wrote
 * them; a sweep re-checks every present user (after each full read, and every `photoSweepHours`; every
 * run for small directories). A check compares the photo's ETag and downloads bytes only when it changed.
 * Users are taken in id order a chunk at a time (memory does not grow with the directory), the next
 * chunk's Graph reads overlap this chunk's writes, and a sweep's position commits with each chunk.
 */
async function syncPhotos(
  ctx: RunContext,
  fullRun: boolean,
  sweepHours: number | undefined,
  now: () => number,
): Promise<void> {
  const { store, conn } = ctx;
  const state = await getSyncState(store.db, conn);
  const presentCount = await countUsers(store.db, conn, { source_state: 'present' });
  const hours = sweepHours ?? (presentCount + ctx.dryCreated.length <= SMALL_DIRECTORY ? 0 : 24);
  const due =
    fullRun || state.last_photo_sweep_at === null || now() - Date.parse(state.last_photo_sweep_at) >= hours * 3_600_000;
  // A full run sweeps from the first user whatever a killed run left; otherwise a sweep in progress resumes where it stopped.
  const sweepFrom = fullRun ? '' : (state.photo_sweep_after ?? (due ? '' : null));
  if (sweepFrom !== null) {
    for await (const checked of photoChecks(ctx, 'all', sweepFrom)) {
      await applyPhotos(ctx, checked, fullRun, { photo_sweep_after: checked.chunk[checked.chunk.length - 1] });
      ctx.progress('photos', checked.chunk.length);
    }
    if (!ctx.dryRun)
      await saveSyncState(store.db, conn, {
        photo_sweep_after: null,
        last_photo_sweep_at: new Date(now()).toISOString(),
      });
  }
  // Users marked since (or created in a dry run) that the sweep did not cover.
  for await (const checked of photoChecks(ctx, sweepFrom !== null && ctx.dryRun ? 'created' : 'pending', '')) {
    await applyPhotos(ctx, checked, fullRun);
    ctx.progress('photos', checked.chunk.length);
  }
}

interface PhotoChunk {
  chunk: string[];
  stored: Map<string, { etag: string | null; sha256: string }>;
  etags: Map<string, string | null>;
  photos: Map<string, Photo | null>;
  download: string[];
  removed: string[];
}

/** Photo chunks read at once: a chunk's last throttled items (its tail) overlap the next chunk's reads. */
const PHOTO_CHUNKS_IN_FLIGHT = 2;
/** $batch posts of photo reads in flight across those chunks: Outlook, which serves photos, allows 4 concurrent requests. */
const PHOTO_POSTS_IN_FLIGHT = 4;

/**
 * Reads Graph for a chunk of users at a time ('all' present users, those 'pending' a check, or only those a dry run 'created'): ETags of
 * stored photos, then bytes of new or changed ones. Chunks are yielded in id order; the next one is read while this one finishes.
 */
async function* photoChecks(
  ctx: RunContext,
  which: 'all' | 'pending' | 'created',
  from: string,
): AsyncGenerator<PhotoChunk> {
  const { store, conn } = ctx;
  const extra = ctx.dryRun && which !== 'all' ? [...ctx.dryCreated] : [];
  const slots = createSemaphore(PHOTO_POSTS_IN_FLIGHT);
  let after = from;
  const nextChunk = async (): Promise<string[] | null> => {
    for (;;) {
      let chunk =
        which === 'created' ? [] : await photoPendingPage(store.db, conn, after, PHOTO_CHUNK, which === 'all');
      if (chunk.length > 0) after = chunk[chunk.length - 1];
      else if ((chunk = extra.splice(0, PHOTO_CHUNK)).length === 0) return null;
      if (ctx.dryGone.size > 0) chunk = chunk.filter((id) => !ctx.dryGone.has(id));
      if (chunk.length > 0) return chunk;
    }
  };
  const reads: Promise<PhotoChunk>[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && reads.length < PHOTO_CHUNKS_IN_FLIGHT) {
        const chunk = await nextChunk();
        if (chunk === null) exhausted = true;
        else {
          const read = readPhotoChunk(ctx, chunk, slots);
          // Awaited in turn below; until then a failure must not count as unhandled.
          read.catch(() => {});
          reads.push(read);
        }
      }
      const read = reads.shift();
      if (read === undefined) return;
      yield await read;
    }
  } finally {
    // Stopped early (a failure downstream): let the reads still running finish before the run closes the store.
    await Promise.allSettled(reads);
  }
}

async function readPhotoChunk(
  ctx: RunContext,
  chunk: string[],
  slots: ReturnType<typeof createSemaphore>,
): Promise<PhotoChunk> {
  const stored = await getStoredPhotos(ctx.store.db, ctx.conn, chunk);
  const known = chunk.filter((id) => stored.get(id)?.etag);
  const etags = known.length > 0 ? await photoEtags(ctx.http, known, { slots }) : new Map<string, string | null>();
  const download = chunk.filter(
    (id) => !stored.get(id)?.etag || (etags.get(id) !== null && etags.get(id) !== stored.get(id)!.etag),
  );
  const removed = known.filter((id) => etags.get(id) === null);
  const photos =
    download.length > 0 ? await photoBytes(ctx.http, download, { slots }) : new Map<string, Photo | null>();
  return { chunk, stored, etags, photos, download, removed };
}

async function applyPhotos(
  ctx: RunContext,
  { chunk, stored, etags, photos, download, removed }: PhotoChunk,
  fullRun: boolean,
  state?: { photo_sweep_after: string },
): Promise<void> {
  const { store, conn } = ctx;
  // Who was already counted this run: created (created_at) or written (updated_at) since the run started.
  const rows = await store.db
    .selectFrom('directory_users')
    .select(['external_id', 'created_at', 'updated_at'])
    .where('connection_id', '=', conn)
    .where('external_id', 'in', chunk)
    .execute();
  const countedThisRun = new Set(
    rows.filter((r) => r.created_at >= ctx.startedIso || r.updated_at >= ctx.startedIso).map((r) => r.external_id),
  );
  for (const id of ctx.dryCreated) countedThisRun.add(id);
  let changed = 0;
  const note = (id: string) => {
    if (!countedThisRun.has(id)) changed++;
  };
  const apply = async (db: Store['db']) => {
    for (const id of removed) {
      note(id);
      if (!ctx.dryRun) await deletePhoto(db, conn, id);
    }
    for (const id of download) {
      const photo = photos.get(id);
      if (!photo) {
        if (stored.has(id)) {
          note(id);
          if (!ctx.dryRun) await deletePhoto(db, conn, id);
        }
        continue;
      }
      const sha256 = createHash('sha256').update(photo.bytes).digest('hex');
      if (!ctx.dryRun)
        await upsertPhoto(db, conn, {
          externalId: id,
          sha256,
          contentType: photo.contentType,
          bytes: photo.bytes,
          etag: photo.etag ?? etags.get(id) ?? null,
        });
      if (sha256 !== stored.get(id)?.sha256) note(id);
    }
    if (ctx.dryRun) return;
    await clearPhotoPending(db, conn, chunk);
    if (state) await saveSyncState(db, conn, state);
  };
  if (ctx.dryRun) await apply(store.db);
  else await transaction(store, apply);
  // A changed photo is a changed profile field (`photo`). In a full run the user was counted unchanged; move them.
  ctx.summary.users.updated += changed;
  if (fullRun) ctx.summary.users.unchanged = Math.max(0, ctx.summary.users.unchanged - changed);
}
