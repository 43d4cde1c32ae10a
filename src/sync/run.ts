import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DirectoryGroup, GroupType, MemberRef, SourceGroup } from '../core/directory.ts';
import { GROUP_SELECT, normaliseGroup, readSourceUser, type SourceUserItem } from '../core/normalise.ts';
import { compileMapping } from '../core/mapping.ts';
import type { UserSource } from '../core/project.ts';
import { compileScope } from '../core/scope/scope.ts';
import { describeError, UsersyncError } from '../core/errors.ts';
import { decideLeavers } from '../core/policy.ts';
import { planGroupLeft, planSourceGroup, type GroupChange } from '../core/plan.ts';
import { DeltaTokenExpiredError } from '../entra/errors.ts';
import { createSemaphore, type GraphHttp } from '../entra/http.ts';
import { readDelta, type GraphObject } from '../entra/paging.ts';
import { photoBytes, photoEtags, type Photo } from '../entra/photos.ts';
import {
  acquireRunLock,
  checkStore,
  closeInterruptedRuns,
  countUsers,
  countLeavers,
  userMembersOfGroups,
  listAppMemberships,
  hasLocalAccounts,
  queueMails,
  purgeAudit,
  finishRun,
  getGroupsByIds,
  getStoredPhotos,
  getSyncState,
  groupsNotSeen,
  insertRun,
  startQueuedRun,
  isStoreCorrupt,
  photoPendingPage,
  saveSyncState,
  getSourceUsers,
  sourceUsersNotSeen,
  sourceUsersPage,
  type MirroredUserInput,
  type AuditEntry,
  type SyncState,
  directGroupsOfUsers,
  membersWithoutMirror,
  type Run,
  type Store,
} from '../store/index.ts';
import { joinPages, prefetch, type PageLike } from './prefetch.ts';
import { groupFromRow, groupToRow } from './mapping.ts';
import { applyLeavers } from './leavers.ts';
import { listSyncedGroups } from './listing.ts';
import type { Settings } from '../core/settings.ts';
import { runReport, welcomeMail, type ReportKind } from '../core/mail.ts';
import { reportWriter, storeWriter, type RunWriter } from './writer.ts';
import { groupSyncRule, loadSettings, mostlyFailed, rereadReason, usersSelect } from './applied-settings.ts';
import { GroupScope, projectBatch, type ProjectedBatch, type Projector, type UserError } from './project.ts';
import {
  latestDeltaLink,
  MAX_SCOPE_READ_GROUPS,
  parseReadScope,
  readScopeGroups,
  readScopeKey,
  scopeClosure,
  tenantUserCount,
  usersById,
  type ReadScope,
  type ScopeGroupsRead,
} from './scoped-read.ts';

// One sync run: read → normalise → plan → apply → checkpoint → record. Each Graph page is applied in
// one transaction together with the link that continues after it, so a run killed at any instant
// resumes from its last committed page and converges; replaying a page is harmless (last write wins).

export interface SyncOptions {
  connectionId?: string;
  /** Re-read everything and reconcile: whatever the source no longer has is disabled. */
  full?: boolean;
  /** Compute and report the plan; write nothing, advance no delta link. */
  dryRun?: boolean;
  /**
   * Dry runs only: run with these settings (a draft, already valid) instead of the stored ones; the summary's
   * settings version is then DRAFT_SETTINGS_VERSION and every stored user is projected with them.
   */
  settings?: Settings;
  /** Share of present users a full read may disable in one run before it stops for an administrator (default 10). */
  maxDisablePercent?: number;
  /** Hours between photo sweeps (photos are not in delta); 0 = every run. Default 24, and every run for small directories. */
  photoSweepHours?: number;
  /** How long to wait for another run of the same connection to finish. */
  lockWaitMs?: number;
  onWait?: (holder: { pid: number | null; host: string | null; since: string | null }) => void;
  onProgress?: (progress: SyncProgress) => void;
  /** A run the service queued: this run starts it (queued → running) instead of recording a new one. */
  runId?: string;
  /** The queued run may be `running` already: its worker died and the job queue handed it over (the lock proves it). */
  takeOver?: boolean;
  /** Aborted: the run stops after the page it is on (committed, so state stays consistent) and is recorded as cancelled. */
  signal?: AbortSignal;
  /** Earlier runs of the connection whose process stopped without finishing: this run closed them as failed and resumes their work. */
  onInterrupted?: (runs: Run[]) => void;
  /** Dry runs: every change the run would record in the audit trail, as it is decided (the test sync's per-object diff). */
  onChange?: (change: AuditEntry) => void;
  /** Structured run events (start, each phase, outcome), tagged with connectionId and runId. */
  logger?: Logger;
  now?: () => number;
}

/** The settings version a dry run of draft settings reports (no stored version is negative). */
export const DRAFT_SETTINGS_VERSION = -1;

export interface SyncProgress {
  phase: 'users' | 'groups' | 'photos';
  done: number;
  /** Graph requests so far in this run. */
  graphRequests: number;
}

/** A run stopped by an administrator (the signal of SyncOptions): recorded as cancelled, not failed. */
export class RunCancelledError extends UsersyncError {
  constructor(runId: string | null, shutdown = false) {
    super(
      'run_cancelled',
      shutdown ? 'the run was stopped because the service shut down' : 'the run was stopped by an administrator',
      {
        hint: 'nothing to do: every page read before the stop is applied, and the next run carries on from there',
        context: { runId },
      },
    );
    this.name = 'RunCancelledError';
  }
}

export interface SyncSummary {
  /** held: leavers over the deletion threshold wait for an administrator (`usersync held`); everything else was applied. */
  status: 'succeeded' | 'held';
  mode: 'full' | 'delta';
  dryRun: boolean;
  /** errors: users whose mapping failed (skipped, retried next run; the first ones are listed in `errors`). */
  users: { created: number; updated: number; disabled: number; removed: number; unchanged: number; errors: number };
  groups: { created: number; updated: number; removed: number };
  departments: { created: number };
  /** App memberships that did not come from Entra, removed by lifecycle.removeUnmanagedMemberships. */
  memberships: { removed: number };
  graphRequests: number;
  durationMs: number;
  /** A stored delta link was refused (expired or reset), so this run read everything instead. */
  fellBackToFull: boolean;
  /**
   * The settings version the run applied (0 = defaults); reapplied: a settings change was applied to every user from
   * the source mirror (no Graph request); reread: why users were read again from Entra instead of by delta.
   */
  settings: { version: number; reapplied: boolean; reread: string | null };
  /** Users whose mapping failed, with the field and why (the first 100; users.errors counts them all). */
  errors: UserError[];
  /** status "held": the leavers waiting for an administrator (all of the connection's, this run's and earlier ones), and why. */
  held?: { disable: number; remove: number; reason: string };
  runId: string | null;
}

/** lifecycle.matching's default: Entra's own precedence for matching existing accounts. */
const DEFAULT_MATCHING = [
  { source: 'userPrincipalName', target: 'loginAccount' },
  { source: 'mail', target: 'email' },
] as const;
/** Audit entries are kept this long unless audit.retentionDays says otherwise. */
const AUDIT_RETENTION_DAYS = 90;
/** At most this many expired audit entries are deleted per run. */
const AUDIT_PURGE_SLICE = 20_000;
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
  /** Every write goes through it: the store, or (dry runs) a report of what would be written. */
  writer: RunWriter;
  progress: (phase: SyncProgress['phase'], n: number) => void;
  log: Logger | undefined;
  maxDisablePercent: number | undefined;
  projector: Projector;
  /** The users `$select` this run's settings need (sorted, comma-separated). */
  selectSignature: string;
  select: string[];
  /** Delta-mode runs: users a page projected (a re-application of every user skips them). */
  touched: Set<string> | null;
  /** Dry runs: the scope groups' nesting changed, so every user would be projected again. */
  dryProjectAll: boolean;
  /** The groups read may have changed the scope groups' nesting: users projected earlier in the run are projected again. */
  closureChanged: boolean;
  /** Whether an Entra group is a directory group under the settings' `groups` (sync, types). */
  groupSynced: (id: string, type: GroupType) => boolean;
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
  const throttlesBefore = deps.http.throttleCount;
  const runId = options.runId ?? randomUUID();
  // Every write of the run goes through its writer: the store, or for a dry run a report of what would be written.
  // The settings' mail part, once they are read (welcome mails are queued by the writer, reports at the end).
  let email: Settings['email'];
  // A test sync (dry run) reports the changes it would make: the first ones are kept for the report.
  const testChanges: string[] = [];
  const writer = dryRun
    ? reportWriter(store, conn, (change) => {
        if (testChanges.length < REPORT_CHANGES) testChanges.push(describeChange(change));
        options.onChange?.(change);
      })
    : storeWriter(store, conn, { runId, actor: 'sync' }, (user) => welcomeMail(email, user));
  const summary: SyncSummary = {
    status: 'succeeded',
    mode: 'delta',
    dryRun,
    users: { created: 0, updated: 0, disabled: 0, removed: 0, unchanged: 0, errors: 0 },
    groups: { created: 0, updated: 0, removed: 0 },
    departments: { created: 0 },
    graphRequests: 0,
    durationMs: 0,
    memberships: { removed: 0 },
    fellBackToFull: false,
    settings: { version: 0, reapplied: false, reread: null },
    errors: [],
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
      const record = {
        id: runId,
        connection_id: conn,
        mode: options.full ? 'full' : 'delta',
        dry_run: false,
        started_at: new Date(started).toISOString(),
      };
      // A queued run an administrator stopped while it waited for the lock does not start.
      if (options.runId) {
        if (!(await startQueuedRun(store.db, record, options.takeOver))) throw new RunCancelledError(runId);
      } else await insertRun(store.db, record);
    }
    let state = await getSyncState(store.db, conn);
    const applied =
      dryRun && options.settings
        ? { version: DRAFT_SETTINGS_VERSION, settings: options.settings }
        : await loadSettings(store.db, conn);
    email = applied.settings.email;
    summary.settings.version = applied.version;
    const stages = { scope: compileScope(applied.settings.scope), mapping: compileMapping(applied.settings.mapping) };
    const select = usersSelect(
      stages,
      (applied.settings.lifecycle?.matching ?? DEFAULT_MATCHING).map((m) => m.source),
    );
    const selectSignature = [...select].sort().join(',');
    // Settings that read Graph properties the stored users links do not select need one read of every user.
    const reread = rereadReason(state, select, options.full ?? false);
    summary.settings.reread = reread;
    if (reread !== null) {
      log?.info({ reason: reread }, 'reading every user again');
      await writer.state(store.db, { users_next_link: null, users_round_mode: null });
      state = { ...state, users_next_link: null, users_delta_link: null, users_round_mode: null };
    }
    const usersStartFull =
      options.full ||
      (state.users_next_link === null && state.users_delta_link === null) ||
      state.users_round_mode === 'full';
    // A settings change is applied to every user from the mirror, unless this run reads every user anyway.
    const reapply = state.applied_settings_version !== applied.version && !usersStartFull;
    if (reapply && !dryRun && state.project_after === null) {
      await saveSyncState(store.db, conn, { project_after: '' });
      state = { ...state, project_after: '' };
    }
    const resuming =
      !options.full && (state.users_next_link !== null || state.groups_next_link !== null) && state.round_id !== null;
    const round = resuming ? state.round_id! : randomUUID();
    if (!resuming)
      await writer.state(store.db, {
        round_id: round,
        ...(options.full
          ? { users_next_link: null, groups_next_link: null, users_round_mode: null, groups_round_mode: null }
          : {}),
      });
    const scopeGroups = applied.settings.scope?.groups ?? [];
    const nested = applied.settings.scope?.nestedGroups ?? true;
    // What the stored links read, and whether this run reads users from scratch: the read below is chosen by them.
    const readScope = parseReadScope(state.read_scope);
    const key = scopeGroups.length > 0 ? readScopeKey(scopeGroups, nested) : null;
    const scoped = readScope?.mode === 'scoped';
    const fresh =
      options.full || reread !== null || (state.users_delta_link === null && state.users_next_link === null);
    // A test sync writes no groups to decide membership from: it asks Graph who is in the scope groups, once. When a
    // real run would read only the scope groups (below), so are the test sync's directory groups.
    let listedScope: GroupScope | null = null;
    let dryReadsScoped = false;
    const loadGroupScope = async () => {
      if (scopeGroups.length === 0) return null;
      if (!dryRun) return GroupScope.load(store.db, conn, scopeGroups, nested);
      if (!listedScope) {
        const closure = await scopeClosure(http, scopeGroups, nested);
        const users = new Set<string>();
        for (let i = 0; i < closure.length; i += MAX_SCOPE_READ_GROUPS)
          for (const id of (await readScopeGroups(http, closure.slice(i, i + MAX_SCOPE_READ_GROUPS))).userIds)
            users.add(id);
        listedScope = GroupScope.listed(scopeGroups, closure, users, nested);
        dryReadsScoped =
          (scoped && readScope!.key === key && !fresh) ||
          ((fresh || scoped) &&
            closure.length <= MAX_SCOPE_READ_GROUPS &&
            users.size * 2 <= (await tenantUserCount(http)));
      }
      return listedScope;
    };
    const projector: Projector = {
      stages,
      groupScope: await loadGroupScope(),
      departmentsSync: applied.settings.departments?.sync ?? true,
      // Only a directory holding accounts that did not come from Entra has anything to match.
      matching: (await hasLocalAccounts(store.db, conn))
        ? (applied.settings.lifecycle?.matching ?? DEFAULT_MATCHING)
        : null,
      onLeave: applied.settings.lifecycle?.onLeave ?? 'disable',
      existingUsers: applied.settings.lifecycle?.existingUsers ?? 'update',
      summary,
      attempts: 0,
      failed: new Set(),
    };
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
      countedGroups: new Set(),
      writer,
      log,
      maxDisablePercent: options.maxDisablePercent,
      progress: (phase, n) => {
        done += n;
        options.onProgress?.({ phase, done, graphRequests: http.requestCount - requestsBefore });
        // Called after each page is committed: a stop requested now leaves nothing half-written.
        if (options.signal?.aborted)
          throw new RunCancelledError(dryRun ? null : runId, options.signal.reason === 'shutdown');
      },
      projector,
      select,
      selectSignature,
      touched: reapply || state.project_after !== null || scopeGroups.length > 0 ? new Set() : null,
      dryProjectAll: false,
      closureChanged: false,
      groupSynced: dryScopedGroup(
        groupSyncRule(applied.settings.groups, () => projector.groupScope),
        () => (dryReadsScoped ? listedScope : null),
      ),
    };

    let usersMode: Mode = 'delta';
    let groupsMode: Mode = 'delta';
    const tenantWide = async (from: SyncState) => {
      const users = startingPoint(options.full, from.users_next_link, from.users_round_mode, from.users_delta_link);
      usersMode = await readRound(ctx, 'users', users.link, users.mode);
      done = 0;
      const groups = startingPoint(options.full, from.groups_next_link, from.groups_round_mode, from.groups_delta_link);
      groupsMode = await readRound(ctx, 'groups', groups.link, groups.mode);
    };
    const fromScratch = { ...state, ...NO_LINKS };
    if (key !== null && scoped && readScope!.key === key && !fresh) {
      [usersMode, groupsMode] = await readScopedChanges(ctx, readScope!, key, scopeGroups, nested, state);
    } else if (key !== null && !dryRun && (fresh || scoped)) {
      // Users are read from scratch (first run, --full, new properties, other scope groups): read only what the scope
      // needs. A connection that already reads the whole tenant keeps doing so: a change of scope then costs no request.
      usersMode = groupsMode = 'full';
      if (!(await readScopedFromScratch(ctx, key, scopeGroups, nested))) {
        log?.info({ scopeGroups }, 'the scope covers most of the tenant; reading every user');
        await saveSyncState(store.db, conn, { ...NO_LINKS, read_scope: null });
        await tenantWide(fromScratch);
      }
    } else if (scoped && !dryRun) {
      // The links read a former scope's groups only: read every user and group again.
      summary.settings.reread ??=
        'scope.groups is no longer set, and earlier runs read only the scope groups: every user and group is read';
      await saveSyncState(store.db, conn, { ...NO_LINKS, read_scope: null });
      await tenantWide(fromScratch);
    } else {
      // Dry runs never start a group-scoped read (they write no links to continue from): they read the whole tenant.
      await tenantWide(scoped && key === null ? fromScratch : state);
    }
    summary.mode = usersMode === 'full' || groupsMode === 'full' ? 'full' : 'delta';
    log?.info(
      { usersMode, groupsMode, users: summary.users, groups: summary.groups, fellBackToFull: summary.fellBackToFull },
      'users and groups read',
    );
    // The groups just read may have changed who is in scope: users whose groups changed were marked pending, and a
    // change to the scope groups' nesting (or a settings change) projects every user again, all from the mirror.
    projector.groupScope = await loadGroupScope();
    done = 0;
    const projectFrom = dryRun
      ? reapply || ctx.dryProjectAll
        ? ''
        : null
      : (await getSyncState(store.db, conn)).project_after;
    if (projectFrom !== null) {
      await projectStored(ctx, 'all', projectFrom);
      summary.settings.reapplied = reapply;
      log?.info(
        { settingsVersion: applied.version, users: summary.users },
        'settings applied to every user from the mirror',
      );
    }
    await projectStored(ctx, 'pending', '');
    await writer.state(store.db, { applied_settings_version: applied.version, project_after: null });
    const failure = mostlyFailed(projector);
    if (failure) throw failure;
    await decideRunLeavers(ctx, applied.settings, options.maxDisablePercent);
    if (applied.settings.lifecycle?.removeUnmanagedMemberships) await removeUnmanaged(ctx, applied.settings);
    if (!dryRun) {
      // Retention: a slice of the oldest audit entries per run, so that a run never waits on a big purge.
      const days = applied.settings.audit?.retentionDays ?? AUDIT_RETENTION_DAYS;
      await purgeAudit(store.db, conn, new Date(now() - days * 86_400_000).toISOString(), AUDIT_PURGE_SLICE);
    }
    done = 0;
    await syncPhotos(ctx, summary.mode === 'full', options.photoSweepHours, now);

    summary.graphRequests = http.requestCount - requestsBefore;
    summary.durationMs = Math.round(now() - started);
    await queueReport(
      store,
      conn,
      email,
      dryRun ? 'testSync' : summary.status === 'held' ? 'held' : null,
      {
        summary: reportSummary(conn, summary),
        details: dryRun ? testChanges : [],
      },
      dryRun ? null : runId,
    );
    log?.info(summary, 'sync run succeeded');
    if (!dryRun) {
      await finishRun(store.db, runId, {
        status: summary.status,
        finished_at: new Date(now()).toISOString(),
        duration_ms: summary.durationMs,
        summary,
        graph_requests: summary.graphRequests,
        throttled: http.throttleCount - throttlesBefore,
        fell_back_to_full: summary.fellBackToFull,
        mode: summary.mode,
      });
    }
    return summary;
  } catch (error) {
    // Found damaged mid-run: the failed step rolled back, and nothing more is written (the run record and the lock stay as they are).
    corrupt = isStoreCorrupt(error);
    // The one error shape, with this run's connection, for the log and the run record alike.
    const failure = describeError(error, { connectionId: conn });
    log?.error({ error: failure }, 'sync run failed');
    if (!corrupt && !(error instanceof RunCancelledError))
      await queueReport(
        store,
        conn,
        email,
        'failed',
        {
          summary: `A sync of "${conn}" failed: ${failure.message}${failure.hint ? `\nWhat to do: ${failure.hint}` : ''}`,
        },
        dryRun ? null : runId,
      ).catch(() => {});
    if (!dryRun && !corrupt) {
      await finishRun(store.db, runId, {
        status: error instanceof RunCancelledError ? 'cancelled' : 'failed',
        finished_at: new Date(now()).toISOString(),
        duration_ms: Math.round(now() - started),
        graph_requests: http.requestCount - requestsBefore,
        throttled: http.throttleCount - throttlesBefore,
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

const NO_LINKS = {
  users_delta_link: null,
  users_next_link: null,
  users_round_mode: null,
  groups_delta_link: null,
  groups_next_link: null,
  groups_round_mode: null,
} as const;

// App memberships --------------------------------------------------------------------------------

/**
 * lifecycle.removeUnmanagedMemberships: an app group that a synced Entra group feeds (its own name, or groups.map's)
 * keeps only the members Entra gives it; the app's other memberships of it are removed (a dry run lists them).
 */
async function removeUnmanaged(ctx: RunContext, settings: Settings): Promise<void> {
  const { store, conn, writer } = ctx;
  const groups = await listSyncedGroups(store, conn, settings);
  const members = await userMembersOfGroups(store.db, conn);
  const managed = new Map<string, Set<string>>();
  for (const g of groups) {
    if (g.appGroup === null) continue;
    const set = managed.get(g.appGroup) ?? new Set<string>();
    for (const id of members.get(g.externalId) ?? []) set.add(id);
    managed.set(g.appGroup, set);
  }
  const unmanaged = (await listAppMemberships(store.db, conn)).filter(
    (m) => managed.has(m.appGroup) && !managed.get(m.appGroup)!.has(m.memberId),
  );
  if (unmanaged.length === 0) return;
  await writer.atomically((db) => writer.removeUnmanaged(db, unmanaged));
  ctx.summary.memberships.removed += unmanaged.length;
}

// Reports ----------------------------------------------------------------------------------------

/** Change lines a test sync's report lists. */
const REPORT_CHANGES = 200;

async function queueReport(
  store: Store,
  conn: string,
  email: Settings['email'],
  kind: ReportKind | null,
  body: { summary: string; details?: string[] },
  runId: string | null,
): Promise<void> {
  if (kind === null) return;
  const mail = runReport(email, kind, conn, body);
  if (mail) await queueMails(store.db, conn, [mail], runId);
}

function reportSummary(conn: string, s: SyncSummary): string {
  const u = s.users;
  const lines = [
    `${s.dryRun ? 'Test sync (nothing was written)' : 'Sync'} of "${conn}": ${s.status}, ${s.mode} read, ${s.graphRequests} Graph requests, ${(s.durationMs / 1000).toFixed(1)} s.`,
    `Users: ${u.created} created, ${u.updated} updated, ${u.disabled} disabled, ${u.removed} removed, ${u.errors} errors.`,
    `Groups: ${s.groups.created} created, ${s.groups.updated} updated, ${s.groups.removed} removed. Departments: ${s.departments.created} created.`,
  ];
  if (s.held)
    lines.push(
      `${s.held.disable + s.held.remove} leavers are held (${s.held.reason}). Review them with \`usersync held\`, then \`usersync approve --all\` or \`usersync discard --all\`.`,
    );
  for (const e of s.errors.slice(0, 20))
    lines.push(`Error: ${e.loginAccount ?? e.externalId} ${e.field}: ${e.message}`);
  return lines.join('\n');
}

function describeChange(c: AuditEntry): string {
  const fields = (c.changes ?? []).map((f) => `${f.field} ${JSON.stringify(f.from)} → ${JSON.stringify(f.to)}`);
  return `${c.action} ${c.objectType} ${c.label ?? c.objectId}${fields.length > 0 ? `: ${fields.join('; ')}` : ''}`;
}

// Leavers ----------------------------------------------------------------------------------------

/**
 * The policy stage: every leaver of the run is known (pending), none applied yet. Under the deletion threshold they are
 * applied; over it (or while an earlier hold is undecided) they are all held, the run's other changes stay applied,
 * and the run ends `held`.
 */
async function decideRunLeavers(ctx: RunContext, settings: Settings, maxDisablePercent: number | undefined) {
  const { store, conn, writer, summary } = ctx;
  const onLeave = settings.lifecycle?.onLeave ?? 'disable';
  const pending = writer.dryRun ? writer.pendingLeavers.size : await countLeavers(store.db, conn, 'pending');
  const held = await countLeavers(store.db, conn, 'held');
  const decision = decideLeavers({
    leavers: pending,
    // Counting the active users scans the directory: only needed when there are leavers to weigh.
    active: pending > 0 ? await countUsers(store.db, conn, { status: 'active' }) : 0,
    holdExists: held > 0,
    threshold: {
      ...settings.safety?.deletionThreshold,
      ...(maxDisablePercent === undefined ? {} : { percent: maxDisablePercent }),
    },
  });
  if (decision.apply) {
    if (pending > 0 && onLeave !== 'ignore') {
      const counts = await applyLeavers(store, conn, writer, { status: 'pending', onLeave });
      summary.users.disabled += counts.disabled;
      summary.users.removed += counts.removed;
      summary.users.updated += counts.updated;
    }
    // Until an administrator decides an earlier hold, every run ends held: the directory is not in step with Entra.
    if (held === 0) return;
  } else await writer.atomically((db) => writer.holdLeavers(db));
  const total = held + (decision.apply ? 0 : pending);
  summary.status = 'held';
  summary.held = {
    disable: onLeave === 'remove' ? 0 : total,
    remove: onLeave === 'remove' ? total : 0,
    reason: decision.apply ? 'leavers held by an earlier run wait for a decision' : decision.reason,
  };
  ctx.log?.warn({ held: summary.held }, 'leavers held for an administrator');
}

// Group-scoped reading ---------------------------------------------------------------------------

/**
 * The first read of a group scope (or after its settings changed, or `--full`): a users delta link from now, the scope
 * groups and their members, then those members' properties. Returns false, having written nothing, when the scope
 * has more groups than a groups delta filter can name or covers most of the tenant (then every user is read instead).
 */
async function readScopedFromScratch(
  ctx: RunContext,
  key: string,
  scopeGroups: readonly string[],
  nested: boolean,
): Promise<boolean> {
  const { http, store, conn } = ctx;
  const usersLink = await latestDeltaLink(http, 'users', `$select=${ctx.select.join(',')}`);
  const groups = await readScopeGroupsIfSmall(ctx, scopeGroups, nested);
  if (groups === null) return false;
  const tenant = await tenantUserCount(http);
  if (groups.read.userIds.size * 2 > tenant) return false;
  await applyScopeGroups(ctx, groups.closure, groups.read);
  await readUsersById(ctx, [...groups.read.userIds]);
  await saveSyncState(store.db, conn, {
    users_delta_link: usersLink,
    users_next_link: null,
    users_round_mode: null,
    users_select: ctx.selectSignature,
    read_scope: JSON.stringify({ key, mode: 'scoped', groups: groups.closure } satisfies ReadScope),
  });
  return true;
}

async function readScopeGroupsIfSmall(ctx: RunContext, scopeGroups: readonly string[], nested: boolean) {
  const closure = await scopeClosure(ctx.http, scopeGroups, nested);
  if (closure.length > MAX_SCOPE_READ_GROUPS) return null;
  return { closure, read: await readScopeGroups(ctx.http, closure) };
}

/** A test sync of a group scope that a real run would read scoped: only the scope groups can be directory groups. */
function dryScopedGroup(
  rule: (id: string, type: GroupType) => boolean,
  scoped: () => GroupScope | null,
): (id: string, type: GroupType) => boolean {
  return (id, type) => {
    const scope = scoped();
    return (scope === null || scope.groups.has(id.toLowerCase())) && rule(id, type);
  };
}

/** The scope groups as one full round of the groups delta: their members are listed whole, other groups leave the directory. */
async function applyScopeGroups(ctx: RunContext, closure: readonly string[], read: ScopeGroupsRead): Promise<void> {
  await applyGroupPage(ctx, { value: read.items, deltaLink: read.deltaLink }, 'full');
  // The members read next are decided with the scope these groups make.
  if (ctx.projector.groupScope)
    ctx.projector.groupScope = await GroupScope.reload(ctx.store.db, ctx.conn, ctx.projector.groupScope);
  ctx.log?.info({ groups: closure.length, members: read.userIds.size }, 'scope groups read');
}

/** Users by id (scope members the mirror does not have yet), applied as items of a full round. */
async function readUsersById(ctx: RunContext, ids: readonly string[]): Promise<void> {
  for await (const users of usersById(ctx.http, ids, ctx.select)) {
    await applyUserPage(ctx, { value: users }, 'full', { checkpoint: false });
    ctx.progress('users', users.length);
  }
}

/**
 * A later run of a group scope: the users delta (every change of the tenant since the last run; those of users the
 * mirror has or the scope groups hold are kept), the scope groups' delta, then the scope groups again if a group was
 * nested into them, and the properties of members the mirror does not have yet. An expired link starts over.
 */
async function readScopedChanges(
  ctx: RunContext,
  readScope: ReadScope,
  key: string,
  scopeGroups: readonly string[],
  nested: boolean,
  state: SyncState,
): Promise<[Mode, Mode]> {
  const { store, conn } = ctx;
  let closure = readScope.groups;
  try {
    await readPages(ctx, 'users', state.users_next_link ?? state.users_delta_link, 'delta', new Set(closure));
    await readPages(ctx, 'groups', state.groups_next_link ?? state.groups_delta_link, 'delta');
  } catch (error) {
    if (!(error instanceof DeltaTokenExpiredError)) throw error;
    ctx.summary.fellBackToFull = true;
    ctx.log?.warn('a stored delta link was refused; reading the scope again');
    if (ctx.dryRun) throw error;
    if (!(await readScopedFromScratch(ctx, key, scopeGroups, nested))) {
      await saveSyncState(store.db, conn, { ...NO_LINKS, read_scope: null });
      throw error;
    }
    return ['full', 'full'];
  }
  let groupsMode: Mode = 'delta';
  const now = await GroupScope.load(store.db, conn, scopeGroups, nested);
  if ([...now.groups].some((g) => !closure.includes(g)) && !ctx.dryRun) {
    // A group was nested into the scope: its members were not read. Read the scope groups again, with a new filter.
    const groups = await readScopeGroupsIfSmall(ctx, scopeGroups, nested);
    if (groups === null) {
      await saveSyncState(store.db, conn, { ...NO_LINKS, read_scope: null });
      throw new UsersyncError(
        'scope_too_large',
        `The scope groups now hold more than ${MAX_SCOPE_READ_GROUPS} groups; the next run reads every user and group instead.`,
        { hint: 'run the sync again' },
      );
    }
    closure = groups.closure;
    await applyScopeGroups(ctx, closure, groups.read);
    await saveSyncState(store.db, conn, {
      read_scope: JSON.stringify({ key, mode: 'scoped', groups: closure } satisfies ReadScope),
    });
    groupsMode = 'full';
  }
  const unknown = await membersWithoutMirror(store.db, conn, closure);
  if (unknown.length > 0) await readUsersById(ctx, unknown);
  return ['delta', groupsMode];
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
    await ctx.writer.state(
      ctx.store.db,
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
  /** Group-scoped reading: users pages keep only users the mirror has or these groups hold. */
  scopedTo?: ReadonlySet<string>,
): Promise<void> {
  if (mode === 'full' && ctx.dryRun) {
    if (resource === 'users') ctx.seenUsers = new Set();
    else ctx.seenGroups = new Set();
  }
  if (mode === 'full' && resource === 'users') {
    // A full read is followed by a sweep of every photo from the first user: recording it now means a run killed before the sweep still gets
    // one, and a sweep a killed run left half-way starts over (users a full read creates are not marked for a photo check of their own).
    await ctx.writer.state(ctx.store.db, { photo_sweep_after: '' });
  }
  const select = resource === 'users' ? ctx.select : GROUP_SELECT;
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
    if (resource === 'users') await applyUserPage(ctx, page, mode, { scopedTo });
    else await applyGroupPage(ctx, page, mode);
    ctx.progress(resource, page.value.length);
  }
}

// Users ------------------------------------------------------------------------------------------

/** The same object may appear more than once in a round: last write wins, but a later item that doesn't mention the manager keeps an earlier one's. */
function mergeUserItems(items: SourceUserItem[]): SourceUserItem[] {
  const byId = new Map<string, SourceUserItem>();
  for (const item of items) {
    const before = byId.get(item.externalId);
    if (item.kind === 'user' && item.managerExternalId === undefined && before?.kind === 'user')
      item.managerExternalId = before.managerExternalId;
    byId.delete(item.externalId);
    byId.set(item.externalId, item);
  }
  return [...byId.values()];
}

/** A page of users delta: into the source mirror, and through scope → mapping → plan into the directory, in one transaction. */
async function applyUserPage(
  ctx: RunContext,
  page: PageLike<GraphObject>,
  mode: Mode,
  options: {
    /** false: users read by id, outside any delta round (no link to commit, no reconciliation). */
    checkpoint?: boolean;
    /** Group-scoped reading: keep only users the mirror has or these groups hold directly. */
    scopedTo?: ReadonlySet<string>;
  } = {},
): Promise<void> {
  const { store, conn } = ctx;
  let items = mergeUserItems(page.value.map((raw) => readSourceUser(raw, mode)));
  const mirror = await getSourceUsers(
    store.db,
    conn,
    items.map((i) => i.externalId),
  );
  // Group-scoped reading reads the page's memberships to filter it; the projection reuses them.
  let memberships: Map<string, string[]> | undefined;
  if (options.scopedTo) {
    const groups = (memberships = await directGroupsOfUsers(
      store.db,
      conn,
      items.map((i) => i.externalId),
    ));
    const scope = options.scopedTo;
    items = items.filter(
      (i) => mirror.has(i.externalId) || groups.get(i.externalId)?.some((g) => scope.has(g.toLowerCase())),
    );
  }
  const checkpoint = options.checkpoint ?? true;
  const sources: UserSource[] = items.map((item) => {
    const stored = mirror.get(item.externalId);
    if (item.kind === 'removed')
      return {
        externalId: item.externalId,
        data: stored?.data ?? {},
        managerExternalId: stored?.managerExternalId ?? null,
        state: 'deleted',
      };
    return {
      externalId: item.externalId,
      data: item.data,
      // A change round that does not mention the manager keeps the mirror's (or, before the mirror, the directory's).
      managerExternalId: item.managerExternalId === undefined ? stored?.managerExternalId : item.managerExternalId,
      state: 'present',
    };
  });
  if (ctx.touched) for (const s of sources) ctx.touched.add(s.externalId);
  const batch = await projectBatch(ctx.projector, store.db, conn, sources, {
    countUnchanged: true,
    knownDepartments: ctx.knownDepartments,
    memberships,
  });

  if (mode === 'full') for (const s of sources) if (s.state === 'present') ctx.seenUsers?.add(s.externalId);
  const mirrorRows: MirroredUserInput[] = sources.map((s) => ({
    externalId: s.externalId,
    data: s.data,
    managerExternalId:
      s.managerExternalId !== undefined
        ? s.managerExternalId
        : (batch.existing.get(s.externalId)?.managerExternalId ?? null),
    state: s.state,
    pending: batch.failed.has(s.externalId),
    ...(mode === 'full' ? { seenRound: ctx.round } : {}),
  }));
  await ctx.writer.atomically(async (db) => {
    // New and restored users get their photo checked; a full round is followed by a sweep of everyone instead.
    await writeUsers(ctx, db, batch, mirrorRows, mode === 'delta' || !checkpoint);
    if (!checkpoint) return;
    if (page.deltaLink) {
      if (mode === 'full') await reconcileUsers(ctx, db);
      await ctx.writer.state(db, {
        users_delta_link: page.deltaLink,
        users_next_link: null,
        users_round_mode: null,
        users_select: ctx.selectSignature,
      });
    } else {
      await ctx.writer.state(db, {
        users_next_link: page.nextLink,
        users_round_mode: mode,
        users_select: ctx.selectSignature,
      });
    }
  });
}

/** A projected batch through the writer (inside the caller's transaction): mirror rows, directory records, departments. */
async function writeUsers(
  ctx: RunContext,
  db: Store['db'],
  batch: ProjectedBatch,
  mirror: readonly MirroredUserInput[],
  checkPhotos: boolean,
): Promise<void> {
  ctx.summary.departments.created += await ctx.writer.users(db, batch, mirror, checkPhotos, ctx.runId);
  await ctx.writer.leavers(db, batch.leavers, batch.staying, ctx.runId);
  for (const d of batch.departments) ctx.knownDepartments.add(d);
}

/** End of a full read: users the source no longer has are kept, disabled. */
async function reconcileUsers(ctx: RunContext, db: Store['db']): Promise<void> {
  let missing: string[];
  if (ctx.seenUsers) {
    const present = await sourceUsersNotSeen(db, ctx.conn, null);
    missing = present.filter((id) => !ctx.seenUsers!.has(id));
  } else {
    missing = await sourceUsersNotSeen(db, ctx.conn, ctx.round);
  }
  // They are leavers: the policy at the end of the run applies or holds them with the run's other leavers.
  for (let i = 0; i < missing.length; i += 1000) {
    const chunk = missing.slice(i, i + 1000);
    const mirror = await getSourceUsers(db, ctx.conn, chunk);
    const sources: UserSource[] = chunk.map((id) => ({
      externalId: id,
      data: mirror.get(id)?.data ?? {},
      managerExternalId: mirror.get(id)?.managerExternalId ?? null,
      state: 'missing',
    }));
    const batch = await projectBatch(ctx.projector, db, ctx.conn, sources, {
      countUnchanged: false,
      knownDepartments: ctx.knownDepartments,
    });
    const mirrorRows = sources.map((s) => ({ ...s, managerExternalId: s.managerExternalId ?? null, pending: false }));
    await writeUsers(ctx, db, batch, mirrorRows, false);
  }
}

/**
 * Computes directory records again from the mirror, without Graph: every user after a settings change or a change of
 * the scope groups' nesting ('all', resumable from `from`), or the users marked pending (their groups changed, or their
 * mapping failed last time).
 */
async function projectStored(ctx: RunContext, which: 'all' | 'pending', from: string): Promise<void> {
  const { store, conn } = ctx;
  let after = from;
  for (;;) {
    const page = await sourceUsersPage(store.db, conn, after, OBJECTS_PER_TRANSACTION, which);
    if (page.length === 0) return;
    after = page[page.length - 1].externalId;
    // Users this run already projected with the current settings and scope are not projected again (when the scope
    // groups' nesting changed, they are, but not counted twice), and those that failed are retried next run, not now.
    const skip = (id: string) =>
      ctx.projector.failed.has(id) || (which === 'all' && !ctx.closureChanged && ctx.touched?.has(id));
    const fresh = page.filter((m) => !skip(m.externalId));
    const batch = await projectBatch(ctx.projector, store.db, conn, fresh, {
      countUnchanged: which === 'all',
      knownDepartments: ctx.knownDepartments,
      counted: ctx.touched ?? undefined,
    });
    await ctx.writer.atomically(async (db) => {
      await writeUsers(ctx, db, batch, [], true);
      const ok = fresh.filter((m) => m.pending && !batch.failed.has(m.externalId)).map((m) => m.externalId);
      const failed = fresh.filter((m) => !m.pending && batch.failed.has(m.externalId)).map((m) => m.externalId);
      await ctx.writer.pending(db, ok, false);
      await ctx.writer.pending(db, failed, true);
      if (which === 'all') await ctx.writer.state(db, { project_after: after });
    });
    ctx.progress('users', page.length);
  }
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
      // Every Entra group is mirrored; only those the settings sync (groups.sync, groups.types) are counted as directory changes.
      if (ctx.groupSynced(id, change.group.type)) summary.groups[change.counted]++;
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
        existing.get(id)?.sourceState !== 'present' ||
        !ctx.groupSynced(id, existing.get(id)!.type)
      )
        continue;
      summary.groups.updated++;
      ctx.countedGroups.add(id);
    }
  }
  const scopeChange = groupScopeChange(ctx, deltas, mode, page.deltaLink !== null);
  if (scopeChange.all) ctx.closureChanged = true;
  if (scopeChange.all && ctx.writer.dryRun) ctx.dryProjectAll = true;
  if (mode === 'full') for (const id of present) ctx.seenGroups?.add(id);
  const { writer } = ctx;
  await writer.atomically(async (db) => {
    await writer.groups(db, writes.map(groupToRow));
    await writer.audit(db, groupEntries(writes, existing, deltas, mode));
    for (const [id, delta] of deltas) {
      if (delta.removed) continue;
      const adds = [...delta.members]
        .filter(([, m]) => !m.removed)
        .map(([memberId, m]) => ({ id: memberId, kind: m.kind }));
      const removes = [...delta.members].filter(([, m]) => m.removed).map(([memberId]) => memberId);
      await writer.members(db, id, adds, removes, mode === 'full' ? ctx.round : undefined);
    }
    if (mode === 'full') await writer.groupsSeen(db, present, ctx.round);
    // Group scope: users whose groups changed are projected again after the read; a change of nesting projects everyone.
    if (scopeChange.all) await writer.state(db, { project_after: '' });
    else await writer.pending(db, scopeChange.users, true);
    if (page.deltaLink) {
      if (mode === 'full') await reconcileGroups(ctx, db);
      await writer.state(db, {
        groups_delta_link: page.deltaLink,
        groups_next_link: null,
        groups_round_mode: null,
      });
    } else {
      await writer.state(db, { groups_next_link: page.nextLink, groups_round_mode: mode });
    }
  });
}

/** The audit trail of a page of groups: groups created, changed or gone; memberships added and removed (change rounds only: a full round lists every member again). */
function groupEntries(
  writes: readonly DirectoryGroup[],
  existing: ReadonlyMap<string, DirectoryGroup>,
  deltas: Map<string, GroupDelta>,
  mode: Mode,
): AuditEntry[] {
  const entries: AuditEntry[] = writes.map((g) => {
    const before = existing.get(g.externalId);
    const action = !before ? 'created' : g.sourceState !== 'present' ? 'removed' : 'updated';
    const changes = (['name', 'type'] as const)
      .filter((f) => before?.[f] !== g[f])
      .map((f) => ({ field: f, from: before?.[f] ?? null, to: g[f] }));
    return { objectType: 'group', objectId: g.externalId, action, changes };
  });
  if (mode === 'delta')
    for (const [groupId, delta] of deltas)
      for (const [member, m] of delta.members)
        entries.push({
          objectType: 'membership',
          objectId: member,
          action: m.removed ? 'removed' : 'added',
          changes: [{ field: 'group', from: m.removed ? groupId : null, to: m.removed ? null : groupId }],
        });
  return entries;
}

/**
 * What a page of groups changes in group scope: the users whose direct groups in the closure changed, or `all` when the
 * closure itself may have changed (a group nested or un-nested in it, one of its groups deleted, or a full read, which
 * lists every membership again and removes the unlisted ones at its end).
 */
function groupScopeChange(
  ctx: RunContext,
  deltas: Map<string, GroupDelta>,
  mode: Mode,
  lastPage: boolean,
): { all: boolean; users: string[] } {
  const scope = ctx.projector.groupScope;
  if (!scope) return { all: false, users: [] };
  if (mode === 'full') return { all: lastPage, users: [] };
  const users: string[] = [];
  for (const [id, delta] of deltas) {
    if (!scope.groups.has(id.toLowerCase())) continue;
    if (delta.removed) return { all: true, users: [] };
    for (const [member, m] of delta.members) {
      // A removed member's kind is not always given: a group of the closure leaving it changes the closure.
      if (m.kind === 'group' || scope.groups.has(member.toLowerCase())) return { all: true, users: [] };
      users.push(member);
    }
  }
  return { all: false, users };
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
  await ctx.writer.groups(db, writes.map(groupToRow));
  await ctx.writer.audit(
    db,
    groupEntries(writes, new Map(rows.map((r) => [r.external_id, groupFromRow(r)])), new Map(), 'full'),
  );
  const missingSet = new Set(missing);
  await ctx.writer.membersNotSeen(
    db,
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
  const hours = sweepHours ?? (presentCount + ctx.writer.created.length <= SMALL_DIRECTORY ? 0 : 24);
  const due =
    fullRun || state.last_photo_sweep_at === null || now() - Date.parse(state.last_photo_sweep_at) >= hours * 3_600_000;
  // A full run sweeps from the first user whatever a killed run left; otherwise a sweep in progress resumes where it stopped.
  const sweepFrom = fullRun ? '' : (state.photo_sweep_after ?? (due ? '' : null));
  if (sweepFrom !== null) {
    for await (const checked of photoChecks(ctx, 'all', sweepFrom)) {
      await applyPhotos(ctx, checked, fullRun, { photo_sweep_after: checked.chunk[checked.chunk.length - 1] });
      ctx.progress('photos', checked.chunk.length);
    }
    await ctx.writer.state(store.db, {
      photo_sweep_after: null,
      last_photo_sweep_at: new Date(now()).toISOString(),
    });
  }
  // Users marked since (or created in a dry run) that the sweep did not cover.
  for await (const checked of photoChecks(ctx, sweepFrom !== null && ctx.writer.dryRun ? 'created' : 'pending', '')) {
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
  const extra = which !== 'all' ? [...ctx.writer.created] : [];
  const slots = createSemaphore(PHOTO_POSTS_IN_FLIGHT);
  let after = from;
  const nextChunk = async (): Promise<string[] | null> => {
    for (;;) {
      let chunk =
        which === 'created' ? [] : await photoPendingPage(store.db, conn, after, PHOTO_CHUNK, which === 'all');
      if (chunk.length > 0) after = chunk[chunk.length - 1];
      else if ((chunk = extra.splice(0, PHOTO_CHUNK)).length === 0) return null;
      if (ctx.writer.gone.size > 0) chunk = chunk.filter((id) => !ctx.writer.gone.has(id));
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
  for (const id of ctx.writer.created) countedThisRun.add(id);
  let changed = 0;
  const note = (id: string) => {
    if (!countedThisRun.has(id)) changed++;
  };
  const { writer } = ctx;
  await writer.atomically(async (db) => {
    const entries: AuditEntry[] = [];
    const photoEntry = (id: string, to: string | null) =>
      entries.push({
        objectType: 'photo',
        objectId: id,
        action: to === null ? 'removed' : stored.has(id) ? 'updated' : 'created',
        changes: [{ field: 'photo', from: stored.get(id)?.sha256 ?? null, to }],
      });
    for (const id of removed) {
      note(id);
      photoEntry(id, null);
      await writer.photo(db, id, null);
    }
    for (const id of download) {
      const photo = photos.get(id);
      if (!photo) {
        if (stored.has(id)) {
          note(id);
          photoEntry(id, null);
          await writer.photo(db, id, null);
        }
        continue;
      }
      const sha256 = createHash('sha256').update(photo.bytes).digest('hex');
      await writer.photo(db, id, { ...photo, etag: photo.etag ?? etags.get(id) ?? null, sha256 });
      if (sha256 !== stored.get(id)?.sha256) {
        note(id);
        photoEntry(id, sha256);
      }
    }
    await writer.audit(db, entries);
    await writer.photosChecked(db, chunk);
    if (state) await writer.state(db, state);
  });
  // A changed photo is a changed profile field (`photo`). In a full run the user was counted unchanged; move them.
  ctx.summary.users.updated += changed;
  if (fullRun) ctx.summary.users.unchanged = Math.max(0, ctx.summary.users.unchanged - changed);
}
