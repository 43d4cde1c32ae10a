import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';
import { dueMails, markMailFailed, markMailSent, type Store } from '../store/index.ts';

// Delivery of queued mails through the SMTP server of USERSYNC_SMTP_URL (`smtp://` or `smtps://`, credentials in the
// URL). It runs after a sync's work, within a time budget: a mail server that is down or slow costs a few seconds at
// most and never fails the run; the mails stay queued and are retried with backoff (1 min, 5 min, 30 min, 2 h, then
// every 12 h; failed after 10 attempts).

const BACKOFF_MINUTES = [1, 5, 30, 120, 720];
const MAX_ATTEMPTS = 10;

export interface Delivery {
  sent: number;
  failed: number;
  left: number;
}

export async function deliverMails(
  store: Store,
  conn: string,
  smtpUrl: string,
  options: { from?: string; budgetMs?: number; log?: Logger; now?: () => number } = {},
): Promise<Delivery> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.budgetMs ?? 15_000);
  const url = new URL(smtpUrl);
  const transport = createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  });
  const result: Delivery = { sent: 0, failed: 0, left: 0 };
  try {
    for (;;) {
      const due = await dueMails(store.db, conn, new Date(now()).toISOString(), 20);
      if (due.length === 0) return result;
      for (const mail of due) {
        if (now() > deadline) {
          result.left++;
          continue;
        }
        try {
          await transport.sendMail({
            from: options.from ?? 'usersync <usersync@localhost>',
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            ...(mail.html ? { html: mail.html } : {}),
          });
          await markMailSent(store.db, mail.id);
          result.sent++;
        } catch (error) {
          const attempts = mail.attempts + 1;
          const minutes = BACKOFF_MINUTES[Math.min(attempts - 1, BACKOFF_MINUTES.length - 1)];
          const next = attempts >= MAX_ATTEMPTS ? null : new Date(now() + minutes * 60_000).toISOString();
          // The server's answer, never the URL (it may carry the password).
          const message = (error as Error).message.split(url.password || '\u0000').join('***');
          await markMailFailed(store.db, mail.id, attempts, message, next);
          result.failed++;
          options.log?.warn({ mail: mail.id, attempts, error: message }, 'mail not delivered; it stays queued');
          // The server is unreachable: the other mails would fail the same way; try them next time.
          if (/ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Greeting never received|Connection timeout/i.test(message))
            return { ...result, left: result.left + due.length - result.sent - result.failed };
        }
      }
      if (now() > deadline) return result;
    }
  } finally {
    transport.close();
  }
}
