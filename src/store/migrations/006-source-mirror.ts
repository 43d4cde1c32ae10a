import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// The source mirror: what Graph said about every user (the selected properties as JSON, the manager's id), kept apart
// from the directory, which is computed from it through scope → mapping → plan. A settings change is re-applied from
// here without a Graph request. `pending` marks users whose directory record must be computed again (their groups
// changed, or their mapping failed and is retried); the sync state remembers which `$select` the users delta links
// carry, which settings version the directory reflects, how far a re-application of every user has come, and whether
// the links read only the scope groups' members (group-scoped reading) or the whole tenant.
export function sourceMirrorMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('source_users')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('external_id', 'text', (c) => text(c).notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('manager_external_id', 'text', text)
        .addColumn('state', 'text', (c) => text(c).notNull().defaultTo('present'))
        .addColumn('pending', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('seen_round', 'text', text)
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_users_pk', ['connection_id', 'external_id'])
        .execute();
      await db.schema
        .createIndex('source_users_pending')
        .on('source_users')
        .columns(['connection_id', 'pending', 'external_id'])
        .execute();
      await db.schema.alterTable('sync_state').addColumn('users_select', 'text').execute();
      await db.schema.alterTable('sync_state').addColumn('applied_settings_version', 'integer').execute();
      await db.schema.alterTable('sync_state').addColumn('project_after', 'text').execute();
      await db.schema.alterTable('sync_state').addColumn('read_scope', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('sync_state').dropColumn('read_scope').execute();
      await db.schema.alterTable('sync_state').dropColumn('project_after').execute();
      await db.schema.alterTable('sync_state').dropColumn('applied_settings_version').execute();
      await db.schema.alterTable('sync_state').dropColumn('users_select').execute();
      await db.schema.dropTable('source_users').execute();
    },
  };
}
