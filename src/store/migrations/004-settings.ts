import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// Each connection's settings document, and every version it had: who changed it, when, and the whole document.
export function settingsMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('settings_versions')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('settings_versions_pk', ['connection_id', 'version'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('settings_versions').execute();
    },
  };
}
