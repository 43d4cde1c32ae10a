import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// Leavers wait here for the policy: a run records every user who leaves (deleted in Entra, gone from a full read, out
// of scope) as `pending` instead of applying it; at the end of the run the deletion threshold applies them all or
// holds them all (`held`) for an administrator. A user the directory removed (lifecycle.onLeave "remove") keeps their
// row, marked `removed_at`, so a return brings back the same record.
export function leaversMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('leavers')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('external_id', 'text', (c) => text(c).notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('since', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('leavers_pk', ['connection_id', 'external_id'])
        .execute();
      await db.schema.alterTable('directory_users').addColumn('removed_at', 'text').execute();
      // Finding accounts that did not come from Entra (source_state 'local') must not scan the directory every run.
      await db.schema
        .createIndex('directory_users_source_state')
        .on('directory_users')
        .columns(['connection_id', 'source_state'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('directory_users_source_state').execute();
      await db.schema.alterTable('directory_users').dropColumn('removed_at').execute();
      await db.schema.dropTable('leavers').execute();
    },
  };
}
