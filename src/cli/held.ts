import type { Command } from 'commander';
import type { Settings } from '../core/settings.ts';
import {
  acquireRunLock,
  appendAudit,
  countLeavers,
  deleteLeavers,
  getUsersByIds,
  leaversPage,
  type Leaver,
} from '../store/index.ts';
import { loadSettings } from '../sync/applied-settings.ts';
import { applyLeavers } from '../sync/leavers.ts';
import { storeWriter } from '../sync/writer.ts';
import { connectionOption, ExitError, whoAmI } from './options.ts';
import { withStore } from './store.ts';
import { printTable } from './table.ts';

// Held leavers: `usersync held` lists them, `approve` applies them as lifecycle.onLeave says, `discard` drops the hold
// (the users stay; a later full read decides afresh). Approving and discarding hold the connection's run lock, so
// they never interleave with a sync.

const READ_ONLY = { create: false };

export function heldCommands(program: Command): void {
  connectionOption(program.command('held'))
    .description('Leavers held by the deletion threshold: who, why (deleted, missing, out of scope) and since when.')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; connection: string }) =>
      withStore(async (store) => {
        const rows: (Leaver & { loginAccount: string | null; name: string | null })[] = [];
        for (let after = ''; ;) {
          const page = await leaversPage(store.db, flags.connection, 'held', after, 1000);
          if (page.length === 0) break;
          const users = new Map(
            (
              await getUsersByIds(
                store.db,
                flags.connection,
                page.map((l) => l.externalId),
              )
            ).map((u) => [u.external_id, u]),
          );
          for (const l of page)
            rows.push({
              ...l,
              loginAccount: users.get(l.externalId)?.login_account ?? null,
              name: users.get(l.externalId)?.name ?? null,
            });
          after = page[page.length - 1].externalId;
        }
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify(rows.map((r) => ({ externalId: r.externalId, loginAccount: r.loginAccount, name: r.name, reason: r.reason, since: r.since, runId: r.runId })))}\n`,
          );
          return;
        }
        printTable(
          rows.map((r) => ({
            loginAccount: r.loginAccount,
            name: r.name,
            why: r.reason.replace(/_/g, ' '),
            since: r.since,
          })),
          rows.length === 0
            ? 'No leavers are held.'
            : `${rows.length} held leavers. Apply them with \`usersync approve --all\` (or by id), or drop the hold with \`usersync discard --all\`.`,
        );
      }, READ_ONLY),
    );

  decision(
    program,
    'approve',
    'Apply held leavers as lifecycle.onLeave says (disable, or remove).',
    async (store, conn, ids) => {
      const { settings } = await loadSettings(store.db, conn);
      const onLeave = onLeaveOf(settings);
      const writer = storeWriter(store, conn, { runId: null, actor: whoAmI() });
      const counts = await applyLeavers(store, conn, writer, { status: 'held', onLeave, ids });
      const n = counts.disabled + counts.removed + counts.updated;
      return `Approved: ${n} leaver${n === 1 ? '' : 's'} applied (${counts.disabled} disabled, ${counts.removed} removed${counts.updated ? `, ${counts.updated} already disabled in Entra` : ''}).`;
    },
  );

  decision(
    program,
    'discard',
    'Drop held leavers: the users stay as they are; a later full read decides afresh.',
    async (store, conn, ids) => {
      const chosen: string[] = [];
      for (let after = ''; ;) {
        const page = await leaversPage(store.db, conn, 'held', after, 1000, ids);
        if (page.length === 0) break;
        chosen.push(...page.map((l) => l.externalId));
        after = page[page.length - 1].externalId;
        if (ids) break;
      }
      await store.db.transaction().execute(async (trx) => {
        await appendAudit(
          trx,
          conn,
          chosen.map((id) => ({ objectType: 'user', objectId: id, action: 'discarded' })),
          { runId: null, actor: whoAmI() },
        );
        await deleteLeavers(trx, conn, chosen);
      });
      return `Discarded: ${chosen.length} held leaver${chosen.length === 1 ? '' : 's'} dropped; they stay in the directory as they were.`;
    },
  );
}

function decision(
  program: Command,
  name: string,
  description: string,
  run: (
    store: Parameters<Parameters<typeof withStore>[0]>[0],
    conn: string,
    ids: string[] | undefined,
  ) => Promise<string>,
): void {
  connectionOption(program.command(name))
    .description(description)
    .argument('[ids...]', 'the held users, by object id (see `usersync held`)')
    .option('--all', 'every held leaver')
    .action(async (ids: string[], flags: { all?: boolean; connection: string }) => {
      if (!flags.all && ids.length === 0)
        throw new ExitError(
          `say which held leavers: \`usersync ${name} --all\`, or their ids (\`usersync held\` lists them)`,
          2,
        );
      if (flags.all && ids.length > 0) throw new ExitError(`give either --all or ids, not both`, 2);
      await withStore(async (store) => {
        const lock = await acquireRunLock(store, flags.connection, { waitMs: 10 * 60_000 });
        try {
          const held = await countLeavers(store.db, flags.connection, 'held');
          if (held === 0) {
            process.stdout.write('No leavers are held.\n');
            return;
          }
          process.stdout.write(`${await run(store, flags.connection, flags.all ? undefined : ids)}\n`);
        } finally {
          await lock.release();
        }
      }, READ_ONLY);
    });
}

function onLeaveOf(settings: Settings): 'disable' | 'remove' {
  return settings.lifecycle?.onLeave === 'remove' ? 'remove' : 'disable';
}
