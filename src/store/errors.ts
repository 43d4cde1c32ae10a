// A store failure a person can act on: what failed, why, and what to do next.
export type StoreErrorCode =
  | 'STORE_UNREACHABLE'
  | 'STORE_MIGRATION_FAILED'
  | 'RUN_LOCK_BUSY';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: StoreErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
    this.context = context;
  }
}
