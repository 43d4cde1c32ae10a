import { PROFILE_FIELDS, type DirectoryUser } from './directory.ts';

// The mails usersync sends: a welcome mail to each user a sync creates, and run reports to administrators. Templates
// name the user's fields as {{field}} (the `users list` names; custom fields as {{custom.name}}); in HTML the values
// are escaped. Pure: the run queues what these return.

export interface OutgoingMail {
  kind: 'welcome' | 'report';
  to: string[];
  subject: string;
  text: string;
  html?: string | null;
}

export interface EmailSettings {
  welcome?: { enabled?: boolean; subject?: string; text?: string; html?: string };
  reports?: { to: string[]; on?: ('failed' | 'held' | 'testSync')[] };
}

export const DEFAULT_WELCOME = {
  subject: 'Welcome, {{firstName}}',
  text: 'Hello {{name}},\n\nyour account {{loginAccount}} is ready.\n',
};

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\s*\}\}/g;

/** The placeholders a template names that are not user fields (for the settings' validation). */
export function unknownPlaceholders(template: string): string[] {
  const out: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER))
    if (!(PROFILE_FIELDS as readonly string[]).includes(name) && !name.startsWith('custom.') && name !== 'externalId')
      out.push(name);
  return out;
}

export function render(template: string, user: DirectoryUser, html = false): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = name.startsWith('custom.')
      ? user.custom[name.slice('custom.'.length)]
      : (user as unknown as Record<string, unknown>)[name];
    const text = value === null || value === undefined ? '' : String(value);
    return html ? escapeHtml(text) : text;
  });
}

export function welcomeMail(settings: EmailSettings | undefined, user: DirectoryUser): OutgoingMail | null {
  const welcome = settings?.welcome;
  if (!welcome?.enabled || !user.email || user.status !== 'active') return null;
  return {
    kind: 'welcome',
    to: [user.email],
    subject: render(welcome.subject ?? DEFAULT_WELCOME.subject, user).trim(),
    text: render(welcome.text ?? DEFAULT_WELCOME.text, user),
    html: welcome.html ? render(welcome.html, user, true) : null,
  };
}

export type ReportKind = 'failed' | 'held' | 'testSync';

/** A run report to the administrators, when the settings ask for this kind. */
export function runReport(
  settings: EmailSettings | undefined,
  kind: ReportKind,
  connection: string,
  body: { summary: string; details?: string[] },
): OutgoingMail | null {
  const reports = settings?.reports;
  if (!reports || reports.to.length === 0 || !(reports.on ?? ['failed', 'held', 'testSync']).includes(kind))
    return null;
  const subject = {
    failed: `usersync: a sync of "${connection}" failed`,
    held: `usersync: leavers of "${connection}" are held for your decision`,
    testSync: `usersync: test sync of "${connection}"`,
  }[kind];
  const details = body.details && body.details.length > 0 ? `\n\n${body.details.join('\n')}\n` : '\n';
  return { kind: 'report', to: [...reports.to], subject, text: `${body.summary}${details}` };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
