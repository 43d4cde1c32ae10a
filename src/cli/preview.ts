import type { Command } from 'commander';
import { StoreError, type Store } from '../store/index.ts';
import { connectGraph } from '../sync/connect.ts';
import { previewUser, type Preview } from '../sync/preview.ts';
import { connectionOption } from './options.ts';
import { connectionConfigFor, openConfiguredStore } from './store.ts';
import { formatTable, showValue } from './table.ts';

// `usersync preview UPN|ID`: provision on demand without writing. Reads one user from Graph (one request, plus the
// user's groups when scope.groups is set), applies the connection's scope and mapping, and shows the record they
// produce and how it differs from the stored one.

export function previewCommand(program: Command): void {
  connectionOption(program.command('preview'))
    .description(
      'Provision on demand without writing: read one user from Graph, say whether they are in scope and why, and show the record the settings produce and its difference from the stored one.',
    )
    .argument('<user>', "the user's userPrincipalName or object id")
    .option('--json', 'print the preview as one JSON object')
    .action(async (user: string, flags: { json?: boolean; connection: string }) => {
      const store = await openExisting();
      try {
        const http = connectGraph(await connectionConfigFor(flags.connection));
        const preview = await previewUser(http, store, flags.connection, user);
        process.stdout.write(flags.json ? `${JSON.stringify(preview)}\n` : describe(preview));
      } finally {
        await store?.close();
      }
    });
}

/** The store if there is one: a preview before the first sync compares with nothing. */
async function openExisting(): Promise<Store | null> {
  try {
    return await openConfiguredStore({ create: false });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'STORE_MISSING') return null;
    throw error;
  }
}

function describe(p: Preview): string {
  const lines: string[] = [];
  const who = p.record?.loginAccount ?? p.stored?.loginAccount ?? p.externalId;
  lines.push(p.inScope ? `${who} is in scope.` : `${who} is out of scope: ${p.reason}.`);
  if (p.error)
    lines.push(
      `The mapping fails for this user at ${p.error.field}: ${p.error.message}. A sync skips them and retries next run.`,
    );
  if (p.record) {
    const action = !p.stored
      ? p.inScope
        ? 'A sync would create this user.'
        : 'A sync would not create this user.'
      : p.changes.length === 0
        ? 'A sync would change nothing.'
        : `A sync would change ${p.changes.length} field${p.changes.length === 1 ? '' : 's'}:`;
    lines.push(action);
  }
  let out = `${lines.join('\n')}\n`;
  if (p.record && p.stored && p.changes.length > 0) {
    out +=
      formatTable(
        p.changes.map((c) => ({ field: c.field, stored: showValue(c.from), 'would be': showValue(c.to) })),
        '',
        100,
      ).trimEnd() + '\n';
  }
  if (p.record) {
    out += '\nThe record the settings produce:\n';
    out +=
      formatTable(
        Object.entries(p.record)
          .filter(([k]) => k !== 'custom')
          .map(([field, value]) => ({ field, value: showValue(value) }))
          .concat(
            Object.entries(p.record.custom).map(([field, value]) => ({
              field: `custom.${field}`,
              value: showValue(value),
            })),
          ),
        '',
        100,
      ).trimEnd() + '\n';
  }
  return `${out}\n${p.graphRequests} Graph request${p.graphRequests === 1 ? '' : 's'}; nothing was written.\n`;
}
