import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, OutboxTable } from '../schema.ts';
import { insertRows } from './bulk.ts';
import { nowIso } from './chunks.ts';

// The outbox: mails queued with what caused them, sent later, retried with backoff.

export interface Mail {
  kind: OutboxTable['kind'];
  to: string[];
  subject: string;
  text: string;
  html?: string | null;
}

export interface QueuedMail extends Mail {
  id: string;
  runId: string | null;
  status: OutboxTable['status'];
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  sentAt: string | null;
}

export async function queueMails(
  db: Kysely<Database>,
  connectionId: string,
  mails: readonly Mail[],
  runId: string | null,
): Promise<void> {
  const now = nowIso();
  await insertRows(
    db,
    'outbox',
    [
      'id',
      'connection_id',
      'run_id',
      'kind',
      'recipients',
      'subject',
      'text_body',
      'html_body',
      'status',
      'attempts',
      'next_attempt_at',
      'created_at',
    ],
    mails.map((m) => [
      randomUUID(),
      connectionId,
      runId,
      m.kind,
      JSON.stringify(m.to),
      m.subject,
      m.text,
      m.html ?? null,
      'queued',
      0,
      now,
      now,
    ]),
    null,
  );
}

/** A connection's queued mails that are due now, oldest first. */
export async function dueMails(
  db: Kysely<Database>,
  connectionId: string,
  now: string,
  limit: number,
): Promise<QueuedMail[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map(decode);
}

export async function runMails(db: Kysely<Database>, runId: string): Promise<QueuedMail[]> {
  const rows = await db.selectFrom('outbox').selectAll().where('run_id', '=', runId).orderBy('created_at').execute();
  return rows.map(decode);
}

export async function markMailSent(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'sent', sent_at: nowIso(), last_error: null })
    .where('id', '=', id)
    .execute();
}

export async function markMailFailed(
  db: Kysely<Database>,
  id: string,
  attempts: number,
  error: string,
  next: string | null,
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({
      attempts,
      last_error: error,
      ...(next === null ? { status: 'failed' as const } : { next_attempt_at: next }),
    })
    .where('id', '=', id)
    .execute();
}

function decode(r: OutboxTable): QueuedMail {
  return {
    id: r.id,
    runId: r.run_id,
    kind: r.kind,
    to: JSON.parse(r.recipients) as string[],
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    sentAt: r.sent_at,
  };
}
