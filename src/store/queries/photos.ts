import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { idChunkSize, inIds } from './bulk.ts';
import { chunks, nowIso } from './chunks.ts';

export type Photo = {
  externalId: string;
  sha256: string;
  contentType: string | null;
  bytes: Uint8Array;
  etag: string | null;
};

/** The ETag last stored for each user's photo (users without a photo are absent). */
export async function getPhotoEtags(db: Kysely<Database>, connectionId: string): Promise<Map<string, string | null>> {
  const rows = await db
    .selectFrom('photos')
    .select(['external_id', 'etag'])
    .where('connection_id', '=', connectionId)
    .execute();
  return new Map(rows.map((r) => [r.external_id, r.etag]));
}

/** Stores (or replaces) a user's photo; the user's `photo` in listings is its sha256. */
export async function upsertPhoto(db: Kysely<Database>, connectionId: string, photo: Photo): Promise<void> {
  const now = nowIso();
  // pg sends Buffers as bytea; a bare Uint8Array would be sent as text.
  const bytes = Buffer.isBuffer(photo.bytes)
    ? photo.bytes
    : Buffer.from(photo.bytes.buffer, photo.bytes.byteOffset, photo.bytes.byteLength);
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
}

/** Removes a user's photo (their `photo` becomes null); true when there was one. */
export async function deletePhoto(db: Kysely<Database>, connectionId: string, externalId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('photos')
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function getPhoto(
  db: Kysely<Database>,
  connectionId: string,
  externalId: string,
): Promise<Photo | undefined> {
  const row = await db
    .selectFrom('photos')
    .select(['external_id', 'sha256', 'content_type', 'bytes', 'etag'])
    .where('connection_id', '=', connectionId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    externalId: row.external_id,
    sha256: row.sha256,
    contentType: row.content_type,
    bytes: new Uint8Array(row.bytes),
    etag: row.etag,
  };
}

/** Clears the photo-check mark of users (only rows that carry it are written). */
export async function clearPhotoPending(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<void> {
  for (const chunk of chunks(ids, idChunkSize(db))) {
    await db
      .updateTable('directory_users')
      .set({ photo_pending: 0 })
      .where('connection_id', '=', connectionId)
      .where('photo_pending', '=', 1)
      .where(inIds(db, 'external_id', chunk))
      .execute();
  }
}

/** The next `limit` present users after `after` (id order) whose photo is still to be checked; with `all`, every present user. */
export async function photoPendingPage(
  db: Kysely<Database>,
  connectionId: string,
  after: string,
  limit: number,
  all = false,
): Promise<string[]> {
  let query = db
    .selectFrom('directory_users')
    .select('external_id')
    .where('connection_id', '=', connectionId)
    .where('source_state', '=', 'present')
    .where('external_id', '>', after)
    // Users the source no longer has but the directory keeps as they were (held leavers, lifecycle.onLeave "ignore")
    // keep their photo too: Graph would answer 404 for it.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('source_users as s')
            .select('s.external_id')
            .whereRef('s.connection_id', '=', 'directory_users.connection_id')
            .whereRef('s.external_id', '=', 'directory_users.external_id')
            .where('s.state', '<>', 'present'),
        ),
      ),
    );
  if (!all) query = query.where('photo_pending', '=', 1);
  const rows = await query.orderBy('external_id').limit(limit).execute();
  return rows.map((r) => r.external_id);
}

/** The stored photo (ETag and hash) of some users; users without a stored photo are absent. */
export async function getStoredPhotos(
  db: Kysely<Database>,
  connectionId: string,
  ids: readonly string[],
): Promise<Map<string, { etag: string | null; sha256: string }>> {
  const out = new Map<string, { etag: string | null; sha256: string }>();
  for (const chunk of chunks(ids, idChunkSize(db))) {
    const rows = await db
      .selectFrom('photos')
      .select(['external_id', 'etag', 'sha256'])
      .where('connection_id', '=', connectionId)
      .where(inIds(db, 'external_id', chunk))
      .execute();
    for (const r of rows) out.set(r.external_id, { etag: r.etag, sha256: r.sha256 });
  }
  return out;
}
