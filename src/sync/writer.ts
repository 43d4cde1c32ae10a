import { userAudit } from '../core/audit.ts';
import type { OutgoingMail } from '../core/mail.ts';
import type { DirectoryUser } from '../core/directory.ts';
import type { Photo } from '../entra/photos.ts';
import {
  appendAudit,
  leaversPage,
  addLeavers,
  renameAppMember,
  removeAppMemberships,
  type AppMembership,
  queueMails,
  adoptAccount,
  addMembers,
  deleteLeavers,
  holdPendingLeavers,
  clearPhotoPending,
  deletePhoto,
  ensureDepartments,
  markGroupsSeen,
  missingDepartments,
  removeMembers,
  removeMembersNotSeen,
  saveSyncState,
  setSourcePending,
  transaction,
  upsertGroups,
  upsertPhoto,
  upsertSourceUsers,
  upsertUsers,
  type AuditEntry,
  type DirectoryGroupInput,
  type LeaverReason,
  type MemberKind,
  type MirroredUserInput,
  type Store,
  type SyncStatePatch,
} from '../store/index.ts';
import { userToRow } from './mapping.ts';
import type { ProjectedBatch } from './project.ts';

// Where a run's decisions go. A run reads Graph and the store, decides, and hands every write to its writer: the
// store writer writes it (each call inside the transaction the run opened with `atomically`), the report writer of a
// dry run only keeps what the rest of the run needs to report the same counts (who would be created or leave, which
// departments would be new). The pipeline is the same for both; so are the counts.

export interface RunWriter {
  readonly dryRun: boolean;
  /** Users a dry run would create (their photos would be checked); always empty for the store writer. */
  readonly created: readonly string[];
  /** Users a dry run would take out of the directory (their photos are not checked); always empty for the store writer. */
  readonly gone: ReadonlySet<string>;
  /** Runs `fn` in one transaction (the report writer: on the store as it is, which it never changes). */
  atomically(fn: (db: Store['db']) => Promise<void>): Promise<void>;
  /** The connection's sync state: links, positions, marks. */
  state(db: Store['db'], patch: SyncStatePatch): Promise<void>;
  /**
   * Mirror rows and the directory records a projection decided; new and returning users are marked for a photo check
   * when `checkPhotos`. Returns the departments it created (or would create).
   */
  users(
    db: Store['db'],
    batch: ProjectedBatch,
    mirror: readonly MirroredUserInput[],
    checkPhotos: boolean,
    runId: string,
  ): Promise<number>;
  /** Marks mirrored users to be projected again (true), or clears the mark. */
  pending(db: Store['db'], ids: readonly string[], value: boolean): Promise<void>;
  groups(db: Store['db'], writes: readonly DirectoryGroupInput[]): Promise<void>;
  members(
    db: Store['db'],
    groupId: string,
    adds: readonly { id: string; kind: MemberKind }[],
    removes: readonly string[],
    round?: string,
  ): Promise<void>;
  groupsSeen(db: Store['db'], ids: readonly string[], round: string): Promise<void>;
  /** End of a full read of groups: memberships of these groups the round did not list are removed. */
  membersNotSeen(db: Store['db'], groupIds: readonly string[], round: string): Promise<void>;
  /** A photo read (null: the user has none any more). */
  photo(db: Store['db'], id: string, photo: (Photo & { sha256: string }) | null): Promise<void>;
  photosChecked(db: Store['db'], ids: readonly string[]): Promise<void>;
  /** Leavers wait for the policy (`add`, pending); users `staying` in the source drop out of any wait or hold. */
  leavers(db: Store['db'], add: ProjectedBatch['leavers'], staying: readonly string[], runId: string): Promise<void>;
  /** Leavers decided: the directory records they leave with (`removedAt`: lifecycle.onLeave "remove"), and their waits dropped. */
  leave(
    db: Store['db'],
    users: readonly DirectoryUser[],
    removedAt: string | null,
    decided: readonly string[],
    existing: ReadonlyMap<string, DirectoryUser>,
  ): Promise<void>;
  /** Over the threshold: the run's pending leavers become held. */
  holdLeavers(db: Store['db']): Promise<void>;
  /** lifecycle.removeUnmanagedMemberships: app memberships of synced app groups that Entra does not have. */
  removeUnmanaged(db: Store['db'], memberships: readonly AppMembership[]): Promise<void>;
  /** Changes the run applied to other objects (groups, memberships, photos), for the audit trail. */
  audit(db: Store['db'], entries: readonly AuditEntry[]): Promise<void>;
  /** The leavers this writer's run found and that are still waiting (the report writer keeps them; the store has them). */
  readonly pendingLeavers: ReadonlyMap<string, LeaverReason>;
}

/** Who the audit trail says made the changes: a run (`sync`), or a person deciding held leavers. */
export interface Author {
  runId: string | null;
  actor: string;
}

export function storeWriter(
  store: Store,
  conn: string,
  author: Author = { runId: null, actor: 'sync' },
  /** The welcome mail of a user the run creates (queued in the same transaction), or null. */
  welcome: (user: DirectoryUser) => OutgoingMail | null = () => null,
): RunWriter {
  const audit = (db: Store['db'], entries: readonly AuditEntry[]) => appendAudit(db, conn, entries, author);
  return {
    dryRun: false,
    created: [],
    gone: new Set(),
    atomically: (fn) => transaction(store, fn),
    state: (db, patch) => saveSyncState(db, conn, patch),
    async users(db, batch, mirror, checkPhotos, runId) {
      for (const a of batch.adopted) {
        await adoptAccount(db, conn, a.from, a.to);
        await renameAppMember(db, conn, a.from, a.to);
      }
      await upsertSourceUsers(db, conn, mirror);
      const checks = new Set(checkPhotos ? batch.photoChecks : []);
      await upsertUsers(
        db,
        conn,
        batch.writes.map((u) => ({ ...userToRow(u), ...(checks.has(u.externalId) ? { photo_pending: 1 } : {}) })),
      );
      const mails = batch.writes
        .filter((u) => !batch.existing.has(u.externalId) && !batch.adopted.some((a) => a.to === u.externalId))
        .map(welcome)
        .filter((m): m is OutgoingMail => m !== null);
      if (mails.length > 0) await queueMails(db, conn, mails, author.runId);
      const fresh = batch.departments.length > 0 ? await missingDepartments(db, conn, batch.departments) : [];
      await audit(db, [
        ...adoptionEntries(batch.adopted),
        ...userEntries(batch.writes, batch.existing, false),
        ...departmentEntries(fresh),
      ]);
      return ensureDepartments(db, conn, batch.departments, runId);
    },
    pending: (db, ids, value) => setSourcePending(db, conn, ids, value),
    groups: (db, writes) => upsertGroups(db, conn, writes),
    async members(db, groupId, adds, removes, round) {
      if (adds.length > 0) await addMembers(db, conn, groupId, adds, round);
      if (removes.length > 0) await removeMembers(db, conn, groupId, removes);
    },
    groupsSeen: (db, ids, round) => markGroupsSeen(db, conn, ids, round),
    async membersNotSeen(db, groupIds, round) {
      await removeMembersNotSeen(db, conn, groupIds, round);
    },
    async photo(db, id, photo) {
      if (photo === null) await deletePhoto(db, conn, id);
      else
        await upsertPhoto(db, conn, {
          externalId: id,
          sha256: photo.sha256,
          contentType: photo.contentType,
          bytes: photo.bytes,
          etag: photo.etag,
        });
    },
    photosChecked: (db, ids) => clearPhotoPending(db, conn, ids),
    async leavers(db, add, staying, runId) {
      await deleteLeavers(db, conn, staying);
      if (add.length > 0) await addLeavers(db, conn, add, runId);
    },
    async leave(db, users, removedAt, decided, existing) {
      await upsertUsers(
        db,
        conn,
        users.map((u) => ({ ...userToRow(u), ...(removedAt ? { removed_at: removedAt } : {}) })),
      );
      await audit(db, userEntries(users, existing, removedAt !== null));
      await deleteLeavers(db, conn, decided);
    },
    async removeUnmanaged(db, memberships) {
      await removeAppMemberships(db, conn, memberships);
      await audit(db, unmanagedEntries(memberships));
    },
    async holdLeavers(db) {
      const pending = await leaversPage(db, conn, 'pending', '', Number.MAX_SAFE_INTEGER);
      await audit(
        db,
        pending.map((l) => ({
          objectType: 'user',
          objectId: l.externalId,
          action: 'held',
          changes: [{ field: 'leaving', from: null, to: l.reason }],
        })),
      );
      await holdPendingLeavers(db, conn);
    },
    audit,
    pendingLeavers: new Map(),
  };
}

/**
 * A dry run's writer: writes nothing; remembers who would be created or leave, counts departments that would be new,
 * and hands every change a run would record to `onChange` as it is decided (memory stays flat).
 */
export function reportWriter(store: Store, conn: string, onChange: (entry: AuditEntry) => void = () => {}): RunWriter {
  const created: string[] = [];
  const gone = new Set<string>();
  const departments = new Set<string>();
  const nothing = async () => {};
  const pendingLeavers = new Map<string, LeaverReason>();
  const labels = new Map<string, string>();
  return {
    dryRun: true,
    created,
    gone,
    atomically: (fn) => fn(store.db),
    state: nothing,
    async users(_db, batch) {
      for (const entry of [...adoptionEntries(batch.adopted), ...userEntries(batch.writes, batch.existing, false)])
        onChange(entry);
      created.push(...batch.photoChecks);
      for (const u of batch.writes) if (u.sourceState !== 'present') gone.add(u.externalId);
      const fresh = (await missingDepartments(store.db, conn, batch.departments)).filter((d) => !departments.has(d));
      for (const d of fresh) departments.add(d);
      return fresh.length;
    },
    pending: nothing,
    groups: nothing,
    members: nothing,
    groupsSeen: nothing,
    membersNotSeen: nothing,
    photo: nothing,
    photosChecked: nothing,
    async leavers(_db, add, staying) {
      for (const id of staying) pendingLeavers.delete(id);
      for (const l of add) {
        pendingLeavers.set(l.externalId, l.reason);
        if (l.label) labels.set(l.externalId, l.label);
      }
    },
    async leave(_db, users, removedAt, decided, existing) {
      for (const entry of userEntries(users, existing, removedAt !== null)) onChange(entry);
      for (const id of decided) pendingLeavers.delete(id);
      for (const u of users) gone.add(u.externalId);
    },
    async holdLeavers() {
      for (const [objectId, reason] of pendingLeavers)
        onChange({
          objectType: 'user',
          objectId,
          action: 'held',
          changes: [{ field: 'leaving', from: null, to: reason }],
          label: labels.get(objectId),
        });
    },
    async audit(_db, entries) {
      for (const entry of entries) onChange(entry);
    },
    async removeUnmanaged(_db, memberships) {
      for (const entry of unmanagedEntries(memberships)) onChange(entry);
    },
    pendingLeavers,
  };
}

function userEntries(
  users: readonly DirectoryUser[],
  existing: ReadonlyMap<string, DirectoryUser>,
  removed: boolean,
): AuditEntry[] {
  return users.map((u) => {
    const { action, changes } = userAudit(existing.get(u.externalId), u, removed);
    return { objectType: 'user', objectId: u.externalId, action, changes, label: u.loginAccount };
  });
}

function departmentEntries(names: readonly string[]): AuditEntry[] {
  return names.map((name) => ({ objectType: 'department', objectId: name, action: 'created' }));
}

function adoptionEntries(adopted: ProjectedBatch['adopted']): AuditEntry[] {
  return adopted.map((a) => ({
    objectType: 'user',
    objectId: a.to,
    action: 'adopted',
    changes: [{ field: 'externalId', from: a.from, to: a.to }],
  }));
}

function unmanagedEntries(memberships: readonly AppMembership[]): AuditEntry[] {
  return memberships.map((m) => ({
    objectType: 'membership',
    objectId: m.memberId,
    action: 'removed',
    changes: [{ field: 'appGroup', from: m.appGroup, to: null }],
  }));
}
