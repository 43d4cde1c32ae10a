import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// Mails wait in the store until the mail server takes them: queued with the change that causes them (a welcome mail in
// the transaction that creates the user), sent after the run, retried with backoff while the server is down. A run
// never waits on the mail server.
export function outboxMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => text(c).primaryKey())
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('run_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text', (c) => c.notNull())
        .addColumn('html_body', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('outbox_run').on('outbox').columns(['run_id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('outbox').execute();
    },
  };
}
