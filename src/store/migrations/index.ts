import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../db.ts';
import { directoryMigration } from './001-directory.ts';
import { photoPendingMigration } from './002-photo-pending.ts';
import { runProcessMigration } from './003-run-process.ts';
import { settingsMigration } from './004-settings.ts';
import { runErrorMigration } from './005-run-error.ts';
import { sourceMirrorMigration } from './006-source-mirror.ts';
import { leaversMigration } from './007-leavers.ts';
import { auditMigration } from './008-audit.ts';
import { outboxMigration } from './009-outbox.ts';
import { appMembershipsMigration } from './010-app-memberships.ts';
import { serviceMigration } from './011-service.ts';
import { consoleMigration } from './012-console.ts';

// Migrations run in name order; never rename or edit one that has shipped — add the next.
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-directory': directoryMigration(dialect),
        '002-photo-pending': photoPendingMigration,
        '003-run-process': runProcessMigration,
        '004-settings': settingsMigration(dialect),
        '005-run-error': runErrorMigration,
        '006-source-mirror': sourceMirrorMigration(dialect),
        '007-leavers': leaversMigration(dialect),
        '008-audit': auditMigration(dialect),
        '009-outbox': outboxMigration(dialect),
        '010-app-memberships': appMembershipsMigration(dialect),
        '011-service': serviceMigration(dialect),
        '012-console': consoleMigration,
      };
    },
  };
}
