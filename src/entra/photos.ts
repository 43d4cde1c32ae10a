import { runBatch, type BatchAnswer, type BatchOptions } from './batch.ts';
import { errorFromResponse, readErrorBody } from './errors.ts';
import type { GraphHttp } from './http.ts';

// Photos are not in users delta (reference §3): the sync compares photo metadata ETags in batches and
// downloads bytes only for users whose ETag changed.

/** `etag` is the response's ETag header when Graph sends one, so a later metadata check can skip the download. */
export interface Photo {
  bytes: Buffer;
  contentType: string;
  etag: string | null;
}

/** Current photo ETag per user id, or null when the user has no photo. One $batch per 20 users. */
export async function photoEtags(
  http: GraphHttp,
  userIds: readonly string[],
  options?: BatchOptions,
): Promise<Map<string, string | null>> {
  const ids = [...new Set(userIds)];
  const answers = await runBatch(
    http,
    ids.map((id) => ({ id, url: `/users/${encodeURIComponent(id)}/photo` })),
    options,
  );
  const etags = new Map<string, string | null>();
  for (const id of ids) {
    const answer = answers.get(id)!;
    if (noPhoto(answer, `/users/${id}/photo`)) {
      etags.set(id, null);
      continue;
    }
    const meta = answer.body as { '@odata.mediaEtag'?: unknown; '@odata.mediaContentType'?: unknown; id?: unknown };
    const etag = typeof meta?.['@odata.mediaEtag'] === 'string' ? meta['@odata.mediaEtag'] : '';
    // The documented placeholder: a 1x1 gif with an empty ETag means "no photo".
    etags.set(id, etag === '' || meta?.id === '1x1' ? null : etag);
  }
  return etags;
}

/** Photo bytes per user id (the largest size), or null when the user has no photo. One $batch per 20 users. */
export async function photoBytes(
  http: GraphHttp,
  userIds: readonly string[],
  options?: BatchOptions,
): Promise<Map<string, Photo | null>> {
  const ids = [...new Set(userIds)];
  const answers = await runBatch(
    http,
    ids.map((id) => ({ id, url: `/users/${encodeURIComponent(id)}/photo/$value` })),
    options,
  );
  const photos = new Map<string, Photo | null>();
  for (const id of ids) {
    const answer = answers.get(id)!;
    if (noPhoto(answer, `/users/${id}/photo/$value`)) {
      photos.set(id, null);
      continue;
    }
    const bytes = Buffer.isBuffer(answer.body) ? answer.body : Buffer.alloc(0);
    photos.set(
      id,
      bytes.length === 0
        ? null
        : {
            bytes,
            contentType: answer.headers['content-type'] ?? 'application/octet-stream',
            etag: answer.headers.etag ?? null,
          },
    );
  }
  return photos;
}

/** 404 (ImageNotFound, ErrorItemNotFound, a user gone since) means no photo; any other error fails the read. */
function noPhoto(answer: BatchAnswer, url: string): boolean {
  if (answer.status === 404) return true;
  if (answer.status >= 200 && answer.status < 300) return false;
  // Mailbox-less users once answered this instead of a 404 (reference §3).
  if (readErrorBody(answer.body).code === 'MailboxNotHostedInExchangeOnline') return true;
  throw errorFromResponse({ status: answer.status, url, body: answer.body });
}
