import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// The audit trail: every change a run applied to the directory (and every decision on held leavers), in order, with
// the fields before → after. `seq` orders it; retention (audit.retentionDays) deletes the oldest rows a slice at a time.
export function auditMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      let table = db.schema.createTable('audit');
      table =
        dialect === 'postgres'
          ? table.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
      await table
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('run_id', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => text(c).notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('changes', 'text')
        .execute();
      await db.schema.createIndex('audit_object').on('audit').columns(['connection_id', 'object_id', 'seq']).execute();
      await db.schema.createIndex('audit_run').on('audit').columns(['run_id', 'seq']).execute();
      await db.schema.createIndex('audit_at').on('audit').columns(['connection_id', 'at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('audit').execute();
    },
  };
}
