import type { Command } from 'commander';
import {
  auditPage,
  getRun,
  listRuns,
  runMails,
  usersWithLoginAccounts,
  type AuditRecord,
  type Run,
  type Store,
} from '../store/index.ts';
import { connectionOption, ExitError } from './options.ts';
import { withStore } from './store.ts';
import { printTable, showValue } from './table.ts';

// Run history and the audit trail: `usersync runs list`, `usersync runs show ID` (the summary, the errors and every
// object the run changed), `usersync audit UPN|ID` (one user's whole history).

const READ_ONLY = { create: false };
const PAGE = 5000;

export function historyCommands(program: Command): void {
  const runs = program.command('runs').description("The connection's sync runs.");
  connectionOption(runs.command('list'))
    .description('The latest runs, newest first: when, mode, status, counts, Graph requests.')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many (default 50)', (v) => Number(v))
    .action(async (flags: { json?: boolean; limit?: number; connection: string }) =>
      withStore(async (store) => {
        const list = await listRuns(store.db, flags.connection, flags.limit ?? 50);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(list.map(runJson))}\n`);
          return;
        }
        printTable(
          list.map((r) => {
            const users = (r.summary as { users?: Record<string, number> } | null)?.users;
            return {
              started: r.started_at,
              run: r.id,
              mode: r.mode,
              status: r.status,
              users: users
                ? `+${users.created} ~${users.updated} -${users.disabled + users.removed}${users.errors ? ` !${users.errors}` : ''}`
                : '',
              requests: r.graph_requests,
              seconds: r.duration_ms === null ? '' : (r.duration_ms / 1000).toFixed(1),
              error: r.failure?.message ?? '',
            };
          }),
          `${list.length} runs (users: +created ~updated -disabled or removed !errors). \`usersync runs show RUN\` shows what one changed.`,
        );
      }, READ_ONLY),
    );

  connectionOption(runs.command('show'))
    .description('One run: its summary, its errors, and every object it changed with the fields before → after.')
    .argument('<run>', 'the run id (see `usersync runs list`)')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        const run = await getRun(store.db, id);
        if (!run || run.connection_id !== flags.connection)
          throw new ExitError(
            `no run ${id} in connection "${flags.connection}"; \`usersync runs list\` shows the runs`,
            1,
          );
        const changes = await allAudit(store, { connectionId: flags.connection, runId: id });
        const mails = (await runMails(store.db, id)).map((m) => ({
          kind: m.kind,
          to: m.to,
          subject: m.subject,
          status: m.status,
          attempts: m.attempts,
          lastError: m.lastError,
          sentAt: m.sentAt,
        }));
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...runJson(run), changes: changes.map(auditJson), mails })}\n`);
          return;
        }
        process.stdout.write(
          `Run ${run.id}: ${run.mode}, ${run.status}, started ${run.started_at}, ${run.duration_ms ?? '?'} ms, ${run.graph_requests ?? '?'} Graph requests\n`,
        );
        if (run.failure) process.stdout.write(`Failed: ${run.failure.message}\n`);
        const errors = (run.summary as { errors?: { loginAccount: string; field: string; message: string }[] } | null)
          ?.errors;
        for (const e of errors ?? []) process.stdout.write(`  error  ${e.loginAccount}  ${e.field}: ${e.message}\n`);
        printTable(changes.map(auditRow), `${changes.length} changes`);
        for (const m of mails)
          process.stdout.write(
            `  mail  ${m.kind} to ${m.to.join(', ')}: ${m.status}${m.status === 'queued' && m.attempts > 0 ? ` (${m.attempts} attempts; ${m.lastError})` : ''}\n`,
          );
      }, READ_ONLY),
    );

  connectionOption(program.command('audit'))
    .description("One user's whole history: every change any run or decision made to them, oldest first.")
    .argument('<user>', "the user's login account (userPrincipalName) or object id")
    .option('--json', 'print JSON')
    .action(async (user: string, flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        const id = await userId(store, flags.connection, user);
        const entries = await allAudit(store, { connectionId: flags.connection, objectId: id });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(entries.map(auditJson))}\n`);
          return;
        }
        printTable(entries.map(auditRow), `${entries.length} entries for ${user}${id !== user ? ` (${id})` : ''}`);
      }, READ_ONLY),
    );
}

async function userId(store: Store, conn: string, user: string): Promise<string> {
  if (!user.includes('@')) return user;
  const holders = await usersWithLoginAccounts(store.db, conn, [user], { presentOnly: false });
  return holders.get(user.toLowerCase())?.[0]?.id ?? user;
}

async function allAudit(store: Store, filter: Parameters<typeof auditPage>[1]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (let after = 0; ;) {
    const page = await auditPage(store.db, filter, after, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1].seq;
  }
}

function runJson(r: Run) {
  return {
    id: r.id,
    connectionId: r.connection_id,
    mode: r.mode,
    status: r.status,
    dryRun: r.dry_run,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    graphRequests: r.graph_requests,
    summary: r.summary,
    failure: r.failure,
  };
}

function auditJson(a: AuditRecord) {
  return {
    at: a.at,
    runId: a.runId,
    actor: a.actor,
    object: a.objectType,
    id: a.objectId,
    action: a.action,
    changes: a.changes ?? [],
  };
}

function auditRow(a: AuditRecord) {
  return {
    at: a.at,
    object: `${a.objectType} ${a.objectId}`,
    action: a.action,
    by: a.actor,
    changes: (a.changes ?? []).map((c) => `${c.field}: ${showValue(c.from)} → ${showValue(c.to)}`).join('; '),
  };
}
