import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { idChunkSize, inIds } from './bulk.ts';
import { chunks, nowIso } from './chunks.ts';

export type Photo = { externalId: string; sha256: string; contentType: string | null; bytes: Uint8Array; etag: string | null };

/** The ETag last stored for each user's photo (users without a photo are absent). */
export async function getPhotoEtags(db: Kysely<Database>, connectionId: string): Promise<Map<string, string | null>> {
  const rows = await db.selectFrom('photos').select(['external_id', 'etag']).where('connection_id', '=', connectionId).execute();
  return new Map(rows.map((r) => [r.external_id, r.etag]));
}

/** Stores a photo and points the user's `photo` (photo_sha256) at it. */
export async function upsertPhoto(db: Kysely<Database>, connectionId: string, photo: Photo): Promise<void> {
  const now = nowIso();
  // pg sends Buffers as bytea; a bare Uint8Array would be sent as text.
  const bytes = Buffer.isBuffer(photo.bytes) ? photo.bytes : Buffer.from(photo.bytes.buffer, photo.bytes.byteOffset, photo.bytes.byteLength);
  await db
    .insertInto('photos')
    .values({
      connection_id: connectionId,
      external_id: photo.externalId,
      sha256: photo.sha256,
      content_type: photo.contentType,
      bytes,
      etag: photo.etag,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['connection_id', 'external_id']).doUpdateSet((eb) => ({
        sha256: eb.ref('excluded.sha256'),
        content_type: eb.ref('excluded.content_type'),
        bytes: eb.ref('excluded.bytes'),
        etag: eb.ref('excluded.etag'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
  await db
    .updateTable('directory_users')
    .set({ photo_sha256: photo.sha256, updated_at: now })
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', photo.externalId)
    .where((eb) => eb.or([eb('photo_sha256', 'is', null), eb('photo_sha256', '<>', photo.sha256)]))
    .execute();
}

/** Removes a user's photo and clears their `photo`; true when there was one. */
export async function deletePhoto(db: Kysely<Database>, connectionId: string, externalId: string): Promise<boolean> {
  const result = await db.deleteFrom('photos').where('connection_id', '=', connectionId).where('external_id', '=', externalId).executeTakeFirst();
  await db
    .updateTable('directory_users')
    .set({ photo_sha256: null, updated_at: nowIso() })
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', externalId)
    .where('photo_sha256', 'is not', null)
    .execute();
  return Number(result.numDeletedRows) > 0;
}

export async function getPhoto(db: Kysely<Database>, connectionId: string, externalId: string): Promise<Photo | undefined> {
  const row = await db
    .selectFrom('photos')
    .select(['external_id', 'sha256', 'content_type', 'bytes', 'etag'])
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { externalId: row.external_id, sha256: row.sha256, contentType: row.content_type, bytes: new Uint8Array(row.bytes), etag: row.etag };
}

/** Marks users whose photo the run must check (new or changed users, or a sweep). */
export async function markPhotoPending(db: Kysely<Database>, connectionId: string, ids: readonly string[]): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db))) {
    await db.updateTable('directory_users').set({ photo_pending: 1 }).where('connection_id', '=', connectionId).where(inIds(db, 'external_id', chunk)).execute();
  }
}

export async function clearPhotoPending(db: Kysely<Database>, connectionId: string, ids: readonly string[]): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db))) {
    await db.updateTable('directory_users').set({ photo_pending: 0 }).where('connection_id', '=', connectionId).where(inIds(db, 'external_id', chunk)).execute();
  }
}

/** The next `limit` present users after `after` (id order) whose photo is still to be checked; with `all`, every present user. */
export async function photoPendingPage(db: Kysely<Database>, connectionId: string, after: string, limit: number, all = false): Promise<string[]> {
  let query = db.selectFrom('directory_users').select('external_id').where('connection_id', '=', connectionId)
    .where('source_state', '=', 'present').where('external_id', '>', after);
  if (!all) query = query.where('photo_pending', '=', 1);
  const rows = await query.orderBy('external_id').limit(limit).execute();
  return rows.map((r) => r.external_id);
}

/** Stored photo ETags of some users (users without a stored photo are absent). */
export async function getPhotoEtagsOf(db: Kysely<Database>, connectionId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db.selectFrom('photos').select(['external_id', 'etag']).where('connection_id', '=', connectionId).where(inIds(db, 'external_id', chunk)).execute();
    for (const r of rows) out.set(r.external_id, r.etag);
  }
  return out;
}

/** Marks every present user for a photo check (the periodic sweep); returns how many. */
export async function markAllPhotosPending(db: Kysely<Database>, connectionId: string): Promise<number> {
  const result = await db.updateTable('directory_users').set({ photo_pending: 1 }).where('connection_id', '=', connectionId).where('source_state', '=', 'present').executeTakeFirst();
  return Number(result.numUpdatedRows);
}
