import type { DirectoryUser } from '../core/directory.ts';
import type { Photo } from '../entra/photos.ts';
import {
  addLeavers,
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
  ): Promise<void>;
  /** Over the threshold: the run's pending leavers become held. */
  holdLeavers(db: Store['db']): Promise<void>;
  /** The leavers this writer's run found and that are still waiting (the report writer keeps them; the store has them). */
  readonly pendingLeavers: ReadonlyMap<string, LeaverReason>;
}

export function storeWriter(store: Store, conn: string): RunWriter {
  return {
    dryRun: false,
    created: [],
    gone: new Set(),
    atomically: (fn) => transaction(store, fn),
    state: (db, patch) => saveSyncState(db, conn, patch),
    async users(db, batch, mirror, checkPhotos, runId) {
      await upsertSourceUsers(db, conn, mirror);
      const checks = new Set(checkPhotos ? batch.photoChecks : []);
      await upsertUsers(
        db,
        conn,
        batch.writes.map((u) => ({ ...userToRow(u), ...(checks.has(u.externalId) ? { photo_pending: 1 } : {}) })),
      );
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
    async leave(db, users, removedAt, decided) {
      await upsertUsers(
        db,
        conn,
        users.map((u) => ({ ...userToRow(u), ...(removedAt ? { removed_at: removedAt } : {}) })),
      );
      await deleteLeavers(db, conn, decided);
    },
    async holdLeavers(db) {
      await holdPendingLeavers(db, conn);
    },
    pendingLeavers: new Map(),
  };
}

/** A dry run's writer: writes nothing; remembers who would be created or leave, and counts departments that would be new. */
export function reportWriter(store: Store, conn: string): RunWriter {
  const created: string[] = [];
  const gone = new Set<string>();
  const departments = new Set<string>();
  const nothing = async () => {};
  const pendingLeavers = new Map<string, LeaverReason>();
  return {
    dryRun: true,
    created,
    gone,
    atomically: (fn) => fn(store.db),
    state: nothing,
    async users(_db, batch) {
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
      for (const l of add) pendingLeavers.set(l.externalId, l.reason);
    },
    async leave(_db, users, _removedAt, decided) {
      for (const id of decided) pendingLeavers.delete(id);
      for (const u of users) gone.add(u.externalId);
    },
    holdLeavers: nothing,
    pendingLeavers,
  };
}
