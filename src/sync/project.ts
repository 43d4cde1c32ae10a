import type { DirectoryUser, ProfileField } from '../core/directory.ts';
import { projectUser, type Stages, type UserSource } from '../core/project.ts';
import { isLeaving, keepFields, newDepartments } from '../core/plan.ts';
import type { LeaverReason } from '../store/index.ts';
import { groupClosure } from '../core/scope/closure.ts';
import {
  directGroupsOfUsers,
  getUsersByIds,
  localAccountsMatching,
  nestedGroupEdges,
  usersWithLoginAccounts,
  type Store,
} from '../store/index.ts';
import { userFromRow } from './mapping.ts';

// The projection step of a run: source users (from a Graph page or from the mirror) → scope → mapping → plan, a batch
// at a time, with what the decisions need from the store (stored records, group memberships, login accounts in use).
// It decides; the caller writes (or, in a dry run, only counts).

/** Per-user mapping failures a run keeps in its summary (the count is always exact). */
const ERRORS_KEPT = 100;

export interface UserError {
  externalId: string;
  loginAccount: string | null;
  field: string;
  message: string;
}

export interface ProjectionSummary {
  users: { created: number; updated: number; disabled: number; removed: number; unchanged: number; errors: number };
  errors: UserError[];
}

/** Group scope: the scope groups and, when nested, every group inside them; a user is in scope through any of them. */
export class GroupScope {
  readonly scopeGroups: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
  readonly nested: boolean;

  /**
   * Set for test syncs (dry runs), which write no memberships to decide from: the users in scope as Graph listed them
   * (lower-case ids), read when the run started.
   */
  private readonly listed: ReadonlySet<string> | null;

  private constructor(
    scopeGroups: ReadonlySet<string>,
    groups: ReadonlySet<string>,
    nested: boolean,
    listed: ReadonlySet<string> | null = null,
  ) {
    this.scopeGroups = scopeGroups;
    this.groups = groups;
    this.nested = nested;
    this.listed = listed;
  }

  /** A scope read from Graph (the groups' closure and its user members), for a dry run over any store. */
  static listed(scopeGroups: readonly string[], closure: readonly string[], users: Iterable<string>, nested: boolean) {
    return new GroupScope(
      new Set(scopeGroups.map((g) => g.toLowerCase())),
      new Set(closure.map((g) => g.toLowerCase())),
      nested,
      new Set([...users].map((u) => u.toLowerCase())),
    );
  }

  /** The same scope again, from the memberships the store holds now (after a groups read changed them). */
  static reload(db: Store['db'], conn: string, scope: GroupScope): Promise<GroupScope> {
    if (scope.listed) return Promise.resolve(scope);
    return GroupScope.load(db, conn, [...scope.scopeGroups], scope.nested);
  }

  static async load(db: Store['db'], conn: string, scopeGroups: readonly string[], nested: boolean) {
    const edges = nested ? await nestedGroupEdges(db, conn) : new Map<string, string[]>();
    const lower = scopeGroups.map((g) => g.toLowerCase());
    const { groups } = groupClosure(
      lower,
      (g) => (edges.get(g) ?? []).map((child) => ({ externalId: child.toLowerCase(), kind: 'group' as const })),
      nested,
    );
    return new GroupScope(new Set(lower), groups, nested);
  }

  /** The scope groups a user reaches from their direct groups (all of them when any is in the closure). */
  reaches(directGroups: readonly string[] | undefined, externalId: string): ReadonlySet<string> {
    if (this.listed) return this.listed.has(externalId.toLowerCase()) ? this.scopeGroups : new Set();
    return directGroups?.some((g) => this.groups.has(g.toLowerCase())) ? this.scopeGroups : new Set();
  }
}

export interface Projector {
  stages: Stages;
  /** Set when scope.groups is: the groups through which users are in scope. */
  groupScope: GroupScope | null;
  departmentsSync: boolean;
  /** lifecycle.matching when the directory holds accounts that did not come from Entra (else null: nothing to match). */
  matching: readonly { source: string; target: ProfileField }[] | null;
  /** lifecycle.onLeave and lifecycle.existingUsers. */
  onLeave: 'disable' | 'remove' | 'ignore';
  existingUsers: 'update' | 'skip';
  summary: ProjectionSummary;
  /** Users this run attempted to map (in scope and present), and how many failed: most failing means the settings are wrong. */
  attempts: number;
  /** Users whose mapping failed in this run (not tried again before the next run). */
  failed: Set<string>;
}

export interface ProjectedBatch {
  /** The stored records of the batch's users. */
  existing: ReadonlyMap<string, DirectoryUser>;
  writes: DirectoryUser[];
  /** Users whose mapping failed: their directory record is left as it was and they are retried next run. */
  failed: Set<string>;
  /** Users who (re)appear in the directory and need their photo checked. */
  photoChecks: string[];
  /** Departments the writes name (those not yet known to the caller). */
  departments: string[];
  /** Users leaving the directory's present users: not written here; the run's policy applies or holds them all. */
  leavers: { externalId: string; reason: LeaverReason; label?: string }[];
  /** Users present and in scope: if they were waiting as leavers, they no longer are. */
  staying: string[];
  /** Accounts that did not come from Entra, matched by lifecycle.matching: the row takes the Entra id before the writes. */
  adopted: { from: string; to: string }[];
}

export async function projectBatch(
  projector: Projector,
  db: Store['db'],
  conn: string,
  sources: readonly UserSource[],
  options: {
    countUnchanged: boolean;
    knownDepartments: ReadonlySet<string>;
    /** Users already counted in this run: left unchanged, they are not counted again. */
    counted?: ReadonlySet<string>;
    /** The batch's users' direct groups, when the caller read them already. */
    memberships?: Map<string, string[]>;
  },
): Promise<ProjectedBatch> {
  const ids = sources.map((s) => s.externalId);
  const existing = new Map((await getUsersByIds(db, conn, ids)).map((row) => [row.external_id, userFromRow(row)]));
  const memberships = projector.groupScope ? (options.memberships ?? (await directGroupsOfUsers(db, conn, ids))) : null;
  const { users } = projector.summary;
  const writes: DirectoryUser[] = [];
  const failed = new Set<string>();
  const leavers: ProjectedBatch['leavers'] = [];
  const staying: string[] = [];
  const fail = (source: UserSource, field: string, message: string) => {
    failed.add(source.externalId);
    projector.failed.add(source.externalId);
    users.errors++;
    if (projector.summary.errors.length < ERRORS_KEPT) {
      const upn = source.data.userPrincipalName;
      projector.summary.errors.push({
        externalId: source.externalId,
        loginAccount: typeof upn === 'string' ? upn : null,
        field,
        message,
      });
    }
  };
  const bySource = new Map<string, UserSource>();
  for (const source of sources) {
    bySource.set(source.externalId, source);
    const before = existing.get(source.externalId);
    const memberOf = projector.groupScope?.reaches(memberships?.get(source.externalId), source.externalId);
    const projection = projectUser(source, before, projector.stages, memberOf);
    if (source.state === 'present' && (projection.kind === 'error' || projection.outOfScope === null))
      projector.attempts++;
    if (projection.kind === 'error') {
      fail(source, projection.error.field, projection.error.message);
      continue;
    }
    if (source.state === 'present' && projection.outOfScope === null) staying.push(source.externalId);
    let { change } = projection;
    if (change === null) continue;
    if (change.kind === 'write' && isLeaving(before, change.user)) {
      if (projector.onLeave !== 'ignore')
        leavers.push({
          externalId: source.externalId,
          reason: change.user.sourceState as LeaverReason,
          label: change.user.loginAccount,
        });
      continue;
    }
    if (projector.existingUsers === 'skip' && before) change = keepFields(before, change);
    if (change.kind === 'unchanged') {
      if (options.countUnchanged && !options.counted?.has(source.externalId)) users.unchanged++;
      continue;
    }
    writes.push(change.user);
  }
  const adopted = projector.matching
    ? await adoptLocalAccounts(projector, db, conn, writes, existing, bySource, memberships, fail)
    : [];
  // A login account belongs to one present user: a mapping that gives a user another present user's is an error for that
  // user (with the default mapping Entra's unique userPrincipalName guarantees it, so there is nothing to check).
  const taken = projector.stages.mapping.uniqueLogins
    ? new Map<string, string>()
    : await loginAccountConflicts(db, conn, writes, existing);
  const kept: DirectoryUser[] = [];
  for (const user of writes) {
    const holder = taken.get(user.externalId);
    if (holder) {
      fail(
        bySource.get(user.externalId)!,
        'loginAccount',
        `maps to "${user.loginAccount}", which is already the login account of user ${holder}; check mapping.fields.loginAccount`,
      );
      continue;
    }
    const before = existing.get(user.externalId);
    // A user lifecycle.onLeave "remove" took out comes back into the directory: created again, with the same record.
    const counted =
      !before || before.removed
        ? 'created'
        : before.status === 'active' && user.status === 'disabled'
          ? 'disabled'
          : 'updated';
    users[counted]++;
    kept.push(user);
  }
  const photoChecks = kept
    .filter((u) => u.sourceState === 'present' && existing.get(u.externalId)?.sourceState !== 'present')
    .map((u) => u.externalId);
  const departments = projector.departmentsSync
    ? newDepartments(
        options.knownDepartments,
        kept.filter((u) => u.sourceState === 'present'),
      )
    : [];
  return { existing, writes: kept, failed, photoChecks, departments, leavers, staying, adopted };
}

/** Users of the batch whose new login account another present user already holds (in the store or earlier in the batch). */
async function loginAccountConflicts(
  db: Store['db'],
  conn: string,
  writes: readonly DirectoryUser[],
  existing: ReadonlyMap<string, DirectoryUser>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const present = writes.filter((u) => u.sourceState === 'present');
  const changed = present.filter((u) => existing.get(u.externalId)?.loginAccount !== u.loginAccount);
  if (changed.length === 0) return out;
  const batchIds = new Set(writes.map((u) => u.externalId));
  const holders = await usersWithLoginAccounts(
    db,
    conn,
    changed.map((u) => u.loginAccount),
  );
  const claimed = new Map<string, string>();
  // Present users of this batch keep or take their login accounts first, in batch order.
  for (const u of present) {
    const key = u.loginAccount.toLowerCase();
    const holder =
      claimed.get(key) ?? holders.get(key)?.find((h) => h.id !== u.externalId && !batchIds.has(h.id))?.id ?? null;
    if (holder !== null && holder !== u.externalId) out.set(u.externalId, holder);
    else claimed.set(key, u.externalId);
  }
  return out;
}

/**
 * lifecycle.matching: users about to be created may be accounts the directory already holds (imported, not from
 * Entra). The pairs are tried in order; the first that matches exactly one local account adopts it (the write becomes
 * an update of that record); one that matches several is an error for that user, never a guess.
 */
async function adoptLocalAccounts(
  projector: Projector,
  db: Store['db'],
  conn: string,
  writes: DirectoryUser[],
  existing: Map<string, DirectoryUser>,
  bySource: ReadonlyMap<string, UserSource>,
  memberships: Map<string, string[]> | null,
  fail: (source: UserSource, field: string, message: string) => void,
): Promise<{ from: string; to: string }[]> {
  const adopted: { from: string; to: string }[] = [];
  let open = writes.filter((u) => !existing.has(u.externalId) && u.sourceState === 'present');
  const taken = new Set<string>();
  for (const pair of projector.matching ?? []) {
    if (open.length === 0) break;
    const valueOf = (u: DirectoryUser) => {
      const v = bySource.get(u.externalId)?.data[pair.source];
      return typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : null;
    };
    const values = open.map(valueOf).filter((v): v is string => v !== null);
    const found = values.length > 0 ? await localAccountsMatching(db, conn, pair.target, values) : new Map();
    const next: DirectoryUser[] = [];
    for (const user of open) {
      const value = valueOf(user);
      const candidates = (value === null ? [] : (found.get(value) ?? [])).filter((id: string) => !taken.has(id));
      if (candidates.length === 0) {
        next.push(user);
        continue;
      }
      const source = bySource.get(user.externalId)!;
      writes.splice(writes.indexOf(user), 1);
      if (candidates.length > 1) {
        fail(
          source,
          'matching',
          `${pair.source} matches ${candidates.length} existing accounts by ${pair.target} (${candidates.join(', ')}); make it unique or change lifecycle.matching`,
        );
        continue;
      }
      const row = (await getUsersByIds(db, conn, candidates))[0];
      const local = { ...userFromRow(row), externalId: user.externalId };
      const memberOf = projector.groupScope?.reaches(memberships?.get(user.externalId), user.externalId);
      const projection = projectUser(source, local, projector.stages, memberOf);
      if (projection.kind === 'error') {
        fail(source, projection.error.field, projection.error.message);
        continue;
      }
      taken.add(candidates[0]);
      adopted.push({ from: candidates[0], to: user.externalId });
      existing.set(user.externalId, local);
      if (projection.change?.kind === 'write') writes.push(projection.change.user);
    }
    open = next;
  }
  return adopted;
}
