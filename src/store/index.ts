// The built-in directory and the sync's state: open, query, lock.
export {
  openStore,
  checkStore,
  transaction,
  isPostgresUrl,
  type Store,
  type StoreDialect,
  type OpenStoreOptions,
} from './db.ts';
export { backupStore, POSTGRES_BACKUP_ADVICE, type Backup } from './backup.ts';
export { StoreError, isStoreCorrupt, type StoreErrorCode } from './errors.ts';
export {
  acquireRunLock,
  advisoryLockKey,
  runLockName,
  type AcquireRunLockOptions,
  type RunLock,
  type RunLockHolder,
} from './lock.ts';
export type * from './schema.ts';
export * from './queries/users.ts';
export * from './queries/groups.ts';
export * from './queries/departments.ts';
export * from './queries/photos.ts';
export * from './queries/sync-state.ts';
export * from './queries/runs.ts';
export * from './queries/settings.ts';
export * from './queries/source.ts';
export * from './queries/leavers.ts';
export * from './queries/audit.ts';
export * from './queries/outbox.ts';
export * from './queries/app-memberships.ts';
export * from './queries/connections.ts';
export * from './queries/admins.ts';
