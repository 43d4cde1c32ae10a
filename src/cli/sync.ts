import type { Command } from 'commander';
import type { ConnectionConfig } from '../config/env.ts';
import { createLogger } from '../config/log.ts';
import { listDirectoryUsers, pagesOfDirectoryUsers, type Store } from '../store/index.ts';
import { loadSettings } from '../sync/applied-settings.ts';
import { deliverMails } from '../sync/mailer.ts';
import { listSyncedDepartments, listSyncedGroups } from '../sync/listing.ts';
import { connectGraph } from '../sync/connect.ts';
import { runSync, type SyncSummary } from '../sync/run.ts';
import { importCommand } from './import.ts';
import { connectionOption, ExitError } from './options.ts';
import { connectionConfigFor, withStore } from './store.ts';
import { printTable } from './table.ts';

/** List commands never create a store. */
const READ_ONLY = { create: false };

export function syncCommands(program: Command): void {
  connectionOption(program.command('sync'))
    .description(
      'Bring the directory in step with Entra ID: a full read the first time (or with --full), then only changes.',
    )
    .option('--full', 're-read everything and reconcile; whatever the source no longer has is disabled')
    .option('--dry-run', 'compute and report the changes; write nothing and advance no delta link')
    .option('--json', 'print the summary as one JSON line (the last line of stdout)')
    .action(async (flags: { full?: boolean; dryRun?: boolean; json?: boolean; connection: string }) => {
      const config = await connectionConfigFor(flags.connection);
      for (const warning of config.warnings) process.stderr.write(`usersync: ${warning}\n`);
      const logger = createLogger();
      await withStore(async (store) => {
        try {
          await syncOnce(store, config);
        } finally {
          // Mails the run queued (welcome mails, reports) go out now; a mail server that is down never fails the run.
          await deliverQueued(store, flags.connection, logger);
        }
      });
      async function syncOnce(store: Parameters<Parameters<typeof withStore>[0]>[0], config: ConnectionConfig) {
        const http = connectGraph(config, { logger });
        const progress = !flags.json && process.stderr.isTTY;
        const summary = await runSync(
          { store, http },
          {
            connectionId: flags.connection,
            full: flags.full,
            dryRun: flags.dryRun,
            photoSweepHours: envNumber('USERSYNC_PHOTO_SWEEP_HOURS'),
            maxDisablePercent: envNumber('USERSYNC_MAX_DISABLE_PERCENT', 'a percentage from 0 to 100', 100),
            logger,
            onWait: (holder) =>
              process.stderr.write(
                `usersync: waiting for the sync already running (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'})…\n`,
              ),
            onInterrupted: (runs) => {
              for (const r of runs)
                process.stderr.write(
                  `usersync: run ${r.id} (pid ${r.pid ?? '?'} on ${r.host ?? '?'}, started ${r.started_at ?? '?'}) stopped without finishing; it is now marked failed, and this run resumes its work.\n`,
                );
            },
            // A dry run is the test sync: every change it would make, as it is decided.
            onChange: flags.dryRun
              ? (c) =>
                  process.stdout.write(
                    flags.json
                      ? `${JSON.stringify({ change: { object: c.objectType, id: c.objectId, label: c.label ?? null, action: c.action, changes: c.changes ?? [] } })}\n`
                      : `would ${(VERB[c.action] ?? c.action).padEnd(7)} ${c.objectType} ${c.label ?? c.objectId}${(c.changes ?? []).length > 0 ? `: ${(c.changes ?? []).map((f) => `${f.field} ${show(f.from)} → ${show(f.to)}`).join('; ')}` : ''}\n`,
                  )
              : undefined,
            onProgress: progress
              ? (p) => process.stderr.write(`\r${p.phase}: ${p.done.toLocaleString('en')}   `)
              : undefined,
          },
        );
        if (progress) process.stderr.write('\r\x1b[K');
        if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else process.stdout.write(describe(summary));
        if (summary.held) throw heldExit(summary.held, summary.dryRun);
      }
    });

  const users = program.command('users').description("The directory's users.");
  importCommand(users);
  connectionOption(users.command('list'))
    .description('Every directory user, disabled ones too.')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        if (flags.json) {
          // Streamed a page at a time: the whole directory is never held in memory.
          let first = true;
          process.stdout.write('[');
          for await (const page of pagesOfDirectoryUsers(store.db, flags.connection)) {
            const text = page.map((u) => JSON.stringify(u)).join(',');
            await write(first ? text : `,${text}`);
            first = false;
          }
          process.stdout.write(']\n');
          return;
        }
        const list = await listDirectoryUsers(store.db, flags.connection);
        printTable(
          list.map((u) => ({
            loginAccount: u.loginAccount,
            name: u.name,
            department: u.department,
            jobTitle: u.jobTitle,
            lineManager: u.lineManager,
            status: u.status,
          })),
          `${list.length} users`,
        );
      }, READ_ONLY),
    );

  const groups = program.command('groups').description("The directory's groups.");
  connectionOption(groups.command('list'))
    .description('Every group with its direct user members.')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        const list = await listSyncedGroups(store, flags.connection);
        if (flags.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else
          printTable(
            list.map((g) => ({
              name: g.name,
              type: g.type,
              members: g.members.length,
              // groups.map in the settings: which app group receives the members.
              ...(list.some((x) => x.appGroup !== x.name) ? { 'app group': g.appGroup } : {}),
              id: g.externalId,
            })),
            `${list.length} groups`,
          );
      }, READ_ONLY),
    );

  const departments = program.command('departments').description("The directory's departments.");
  connectionOption(departments.command('list'))
    .description('Every department with its members.')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        const list = await listSyncedDepartments(store, flags.connection);
        if (flags.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else
          printTable(
            list.map((d) => ({ name: d.name, members: d.members.length })),
            `${list.length} departments`,
          );
      }, READ_ONLY),
    );
}

function envNumber(name: string, what = 'a number of hours, 0 or more', max = Infinity): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > max) throw new Error(`${name} must be ${what} (got "${raw}").`);
  return value;
}

async function deliverQueued(store: Store, conn: string, logger: ReturnType<typeof createLogger>): Promise<void> {
  const url = process.env.USERSYNC_SMTP_URL;
  if (!url) return;
  try {
    const { settings } = await loadSettings(store.db, conn);
    const result = await deliverMails(store, conn, url, { from: settings.email?.from, log: logger });
    if (result.failed > 0 || result.left > 0)
      process.stderr.write(
        `usersync: ${result.failed + result.left} mail${result.failed + result.left === 1 ? '' : 's'} could not be sent now (see \`usersync runs show\`); they stay queued and are retried by the next runs.\n`,
      );
  } catch (error) {
    process.stderr.write(`usersync: mails were not sent (${(error as Error).message}); they stay queued.\n`);
  }
}

/** Exit 3 with one line: how many leavers wait, why, and the commands that decide them. */
function heldExit(held: NonNullable<SyncSummary['held']>, dryRun: boolean): ExitError {
  const n = held.disable + held.remove;
  return new ExitError(
    dryRun
      ? `${n} leavers would be held (${held.reason}; the deletion threshold is safety.deletionThreshold in the settings); a real run would apply everything else and hold them.`
      : `${n} leavers held, none applied (${held.reason}; the deletion threshold is safety.deletionThreshold in the settings); everything else was synced. Review them with \`usersync held\`, then \`usersync approve --all\` or \`usersync discard --all\`.`,
    3,
  );
}

export function describe(s: SyncSummary): string {
  const u = s.users;
  const lines = [
    `Sync ${s.dryRun ? '(dry run, nothing written) ' : ''}${s.status === 'held' ? 'succeeded, leavers held' : s.status}: ${s.mode} read${s.fellBackToFull ? ' (the stored delta link was refused, so everything was re-read)' : ''} in ${(s.durationMs / 1000).toFixed(1)} s, ${s.graphRequests} Graph requests`,
    `  users        ${u.created} created, ${u.updated} updated, ${u.disabled} disabled, ${u.removed} removed, ${u.unchanged} unchanged`,
    `  groups       ${s.groups.created} created, ${s.groups.updated} updated, ${s.groups.removed} removed`,
    `  departments  ${s.departments.created} created`,
  ];
  if (s.settings.reapplied)
    lines.push(`  settings     version ${s.settings.version} applied to every user from the store (no re-read)`);
  if (s.settings.reread) lines.push(`  settings     every user was read again: ${s.settings.reread}`);
  if (u.errors > 0) {
    lines.push(
      `  errors       ${u.errors} user${u.errors === 1 ? '' : 's'} skipped (mapping failed; retried next run):`,
    );
    for (const e of s.errors.slice(0, 10))
      lines.push(`    ${e.loginAccount ?? e.externalId}  ${e.field}: ${e.message}`);
    if (u.errors > 10) lines.push(`    … and ${u.errors - 10} more (sync --json lists the first ${s.errors.length})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes to stdout, waiting when the pipe is full. */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

function show(v: unknown): string {
  return v === null || v === undefined ? '—' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** A dry run's change lines: "would create user …", "would hold user …". */
const VERB: Record<string, string> = {
  created: 'create',
  updated: 'update',
  disabled: 'disable',
  enabled: 'enable',
  left: 'disable',
  removed: 'remove',
  held: 'hold',
  added: 'add',
};
