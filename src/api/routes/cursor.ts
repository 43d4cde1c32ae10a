import { ApiError } from '../problem.ts';

// Paging cursors are opaque to clients: base64url JSON of the position after the page. A cursor that does not decode
// is a 400 naming `cursor`, never a silent first page.

export function encodeCursor(position: Record<string, string | null>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (
      value &&
      typeof value === 'object' &&
      keys.every((k) => k in value && (typeof value[k] === 'string' || value[k] === null))
    )
      return value as Record<K, string>;
  } catch {
    /* below */
  }
  throw new ApiError(400, 'invalid_request', 'cursor is not a cursor of this list', {
    field: 'cursor',
    hint: 'pass the nextCursor of the previous page unchanged, or leave cursor out for the first page',
  });
}
