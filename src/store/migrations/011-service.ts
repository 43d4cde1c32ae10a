import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// The service (issue 11): connections with their credentials (encrypted) and schedule; admins, their sessions, API
// tokens and one-time sign-in links (only hashes of tokens are stored); the admin actions trail; who asked for a run
// and how, and a stop request a running run honours at its next page.
export function serviceMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => text(c).primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('credential_kind', 'text', (c) => c.notNull())
        .addColumn('credential', 'text', (c) => c.notNull())
        .addColumn('credential_info', 'text', (c) => c.notNull())
        .addColumn('authority_host', 'text')
        .addColumn('graph_url', 'text')
        .addColumn('schedule', 'text', (c) => c.notNull())
        .addColumn('next_run_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('connections_due').on('connections').columns(['next_run_at']).execute();

      await db.schema
        .createTable('admins')
        .addColumn('id', 'text', (c) => text(c).primaryKey())
        .addColumn('email', 'text', (c) => text(c).notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'text')
        .execute();
      await db.schema
        .createTable('admin_sessions')
        .addColumn('token_hash', 'text', (c) => text(c).primaryKey())
        .addColumn('admin_id', 'text', (c) => text(c).notNull())
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => text(c).primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => text(c).notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('sign_in_links')
        .addColumn('token_hash', 'text', (c) => text(c).primaryKey())
        .addColumn('admin_id', 'text', (c) => text(c).notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();

      let actions = db.schema.createTable('admin_actions');
      actions =
        dialect === 'postgres'
          ? actions.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : actions.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
      await actions
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text')
        .addColumn('target', 'text')
        .addColumn('detail', 'text')
        .execute();

      await db.schema
        .alterTable('runs')
        .addColumn('trigger', 'text', (c) => c.notNull().defaultTo('cli'))
        .execute();
      await db.schema.alterTable('runs').addColumn('requested_by', 'text').execute();
      await db.schema.alterTable('runs').addColumn('queued_at', 'text').execute();
      await db.schema
        .alterTable('runs')
        .addColumn('full_read', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('runs')
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // A dry run's changes (the test sync's per-object diff), as JSON; null for other runs.
      await db.schema.alterTable('runs').addColumn('changes', 'text').execute();
      await db.schema.alterTable('runs').addColumn('progress', 'text').execute();
      await db.schema.createIndex('runs_status').on('runs').columns(['status', 'queued_at']).execute();
      // The events feed reads a connection's audit trail in order.
      await db.schema.createIndex('audit_connection_seq').on('audit').columns(['connection_id', 'seq']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('audit_connection_seq').execute();
      await db.schema.dropIndex('runs_status').execute();
      for (const col of [
        'progress',
        'changes',
        'cancel_requested',
        'full_read',
        'queued_at',
        'requested_by',
        'trigger',
      ])
        await db.schema.alterTable('runs').dropColumn(col).execute();
      for (const table of ['admin_actions', 'sign_in_links', 'api_tokens', 'admin_sessions', 'admins', 'connections'])
        await db.schema.dropTable(table).execute();
    },
  };
}
