import type { Command } from 'commander';
import { allHeld, approveHeld, discardHeld, type HeldLeaver } from '../sync/held.ts';
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
        const rows: HeldLeaver[] = [];
        for await (const page of allHeld(store, flags.connection)) rows.push(...page);
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
      const counts = await approveHeld(store, conn, ids, whoAmI());
      if (counts === null) return null;
      const n = counts.disabled + counts.removed + counts.updated;
      return `Approved: ${n} leaver${n === 1 ? '' : 's'} applied (${counts.disabled} disabled, ${counts.removed} removed${counts.updated ? `, ${counts.updated} already disabled in Entra` : ''}).`;
    },
  );

  decision(
    program,
    'discard',
    'Drop held leavers: the users stay as they are; a later full read decides afresh.',
    async (store, conn, ids) => {
      const n = await discardHeld(store, conn, ids, whoAmI());
      if (n === null) return null;
      return `Discarded: ${n} held leaver${n === 1 ? '' : 's'} dropped; they stay in the directory as they were.`;
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
  ) => Promise<string | null>,
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
        const said = await run(store, flags.connection, flags.all ? undefined : ids);
        process.stdout.write(`${said ?? 'No leavers are held.'}\n`);
      }, READ_ONLY);
    });
}
