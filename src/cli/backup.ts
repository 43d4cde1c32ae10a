import type { Command } from 'commander';
import { connectionOption } from './options.ts';
import { loadStoreConfig } from '../config/env.ts';
import { backupStore, POSTGRES_BACKUP_ADVICE } from '../store/index.ts';
import { withStore } from './store.ts';

export function backupCommand(program: Command): void {
  // --connection is accepted as on every command; the copy holds every connection of the store.
  connectionOption(program.command('backup'))
    .description(
      'Copy the embedded store to FILE while usersync keeps running (a consistent snapshot, checked after copying). PostgreSQL: use pg_dump.',
    )
    .argument('<file>', 'the copy to write; never overwritten')
    .option('--json', 'print {"file","bytes","source","users"} as one JSON line')
    .action(async (file: string, flags: { json?: boolean }) => {
      if (loadStoreConfig().databaseUrl !== null) {
        throw new Error(
          `usersync backup copies the embedded SQLite store, and DATABASE_URL selects PostgreSQL: ${POSTGRES_BACKUP_ADVICE}`,
        );
      }
      const backup = await withStore((store) => backupStore(store, file), { create: false });
      if (flags.json) process.stdout.write(`${JSON.stringify(backup)}\n`);
      else
        process.stdout.write(
          `Backed up ${backup.source} to ${backup.file} (${(backup.bytes / 1e6).toFixed(1)} MB, ${backup.users} directory users); the copy passed SQLite's check.\n`,
        );
    });
}
