import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// The built-in directory, its sync state, run records and run locks.
// On PostgreSQL text columns use the "C" collation so ordering (and thus every list the
// CLI prints) is byte order, identical to SQLite's BINARY.

export function directoryMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';

  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('directory_users')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('external_id', 'text', (c) => text(c).notNull())
        .addColumn('login_account', 'text', text)
        .addColumn('name', 'text', text)
        .addColumn('email', 'text', text)
        .addColumn('first_name', 'text', text)
        .addColumn('last_name', 'text', text)
        .addColumn('user_type', 'text', text)
        .addColumn('job_title', 'text', text)
        .addColumn('department', 'text', text)
        .addColumn('manager_external_id', 'text', text)
        .addColumn('country', 'text', text)
        .addColumn('office_location', 'text', text)
        .addColumn('city', 'text', text)
        .addColumn('mobile_phone', 'text', text)
        .addColumn('postal_code', 'text', text)
        .addColumn('company_name', 'text', text)
        .addColumn('employee_no', 'text', text)
        .addColumn('fax_number', 'text', text)
        .addColumn('account_enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('source_state', 'text', (c) => text(c).notNull().defaultTo('present'))
        .addColumn('status', 'text', (c) => text(c).notNull().defaultTo('active'))
        .addColumn('custom_fields', 'text', (c) => text(c).notNull().defaultTo('{}'))
        .addColumn('fingerprint', 'text', (c) => text(c).notNull().defaultTo(''))
        .addColumn('seen_round', 'text', text)
        .addColumn('created_at', 'text', (c) => text(c).notNull())
        .addColumn('updated_at', 'text', (c) => text(c).notNull())
        .addPrimaryKeyConstraint('directory_users_pk', ['connection_id', 'external_id'])
        .execute();
      await db.schema
        .createIndex('directory_users_login_account')
        .on('directory_users')
        .columns(['connection_id', 'login_account', 'external_id'])
        .execute();
      await db.schema
        .createIndex('directory_users_department')
        .on('directory_users')
        .columns(['connection_id', 'department'])
        .execute();
      await db.schema
        .createIndex('directory_users_manager')
        .on('directory_users')
        .columns(['connection_id', 'manager_external_id'])
        .execute();

      await db.schema
        .createTable('directory_groups')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('external_id', 'text', (c) => text(c).notNull())
        .addColumn('name', 'text', text)
        .addColumn('type', 'text', (c) => text(c).notNull())
        .addColumn('source_state', 'text', (c) => text(c).notNull().defaultTo('present'))
        .addColumn('fingerprint', 'text', (c) => text(c).notNull().defaultTo(''))
        .addColumn('seen_round', 'text', text)
        .addColumn('created_at', 'text', (c) => text(c).notNull())
        .addColumn('updated_at', 'text', (c) => text(c).notNull())
        .addPrimaryKeyConstraint('directory_groups_pk', ['connection_id', 'external_id'])
        .execute();

      await db.schema
        .createTable('group_members')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('group_external_id', 'text', (c) => text(c).notNull())
        .addColumn('member_external_id', 'text', (c) => text(c).notNull())
        .addColumn('member_kind', 'text', (c) => text(c).notNull())
        .addColumn('seen_round', 'text', text)
        .addPrimaryKeyConstraint('group_members_pk', ['connection_id', 'group_external_id', 'member_external_id'])
        // SQLite: the primary key is the table (no second copy of every membership in a rowid index).
        .$call((t) => (dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t))
        .execute();
      // Which groups a user is in (user removed, membership clean-up).
      await db.schema
        .createIndex('group_members_member')
        .on('group_members')
        .columns(['connection_id', 'member_external_id'])
        .execute();

      await db.schema
        .createTable('departments')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('name', 'text', (c) => text(c).notNull())
        .addColumn('created_at', 'text', (c) => text(c).notNull())
        .addColumn('created_run_id', 'text', text)
        .addPrimaryKeyConstraint('departments_pk', ['connection_id', 'name'])
        .execute();

      await db.schema
        .createTable('photos')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('external_id', 'text', (c) => text(c).notNull())
        .addColumn('sha256', 'text', (c) => text(c).notNull())
        .addColumn('content_type', 'text', text)
        .addColumn('bytes', blob, (c) => c.notNull())
        .addColumn('etag', 'text', text)
        .addColumn('updated_at', 'text', (c) => text(c).notNull())
        .addPrimaryKeyConstraint('photos_pk', ['connection_id', 'external_id'])
        .execute();

      await db.schema
        .createTable('sync_state')
        .addColumn('connection_id', 'text', (c) => text(c).primaryKey())
        .addColumn('users_delta_link', 'text', text)
        .addColumn('users_next_link', 'text', text)
        .addColumn('groups_delta_link', 'text', text)
        .addColumn('groups_next_link', 'text', text)
        .addColumn('round_id', 'text', text)
        .addColumn('round_mode', 'text', text)
        .addColumn('last_photo_sweep_at', 'text', text)
        .addColumn('updated_at', 'text', text)
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => text(c).primaryKey())
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('mode', 'text', (c) => text(c).notNull())
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => text(c).notNull())
        .addColumn('started_at', 'text', text)
        .addColumn('finished_at', 'text', text)
        .addColumn('duration_ms', 'integer')
        .addColumn('summary', 'text', text)
        .addColumn('graph_requests', 'integer')
        .addColumn('error', 'text', text)
        .addColumn('fell_back_to_full', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('runs_connection_started')
        .on('runs')
        .columns(['connection_id', 'started_at'])
        .execute();

      await db.schema
        .createTable('locks')
        .addColumn('name', 'text', (c) => text(c).primaryKey())
        .addColumn('owner', 'text', (c) => text(c).notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('host', 'text', (c) => text(c).notNull())
        .addColumn('acquired_at', 'text', (c) => text(c).notNull())
        .addColumn('heartbeat_at', 'text', (c) => text(c).notNull())
        .execute();
    },

    async down(db: Kysely<any>) {
      for (const table of [
        'locks',
        'runs',
        'sync_state',
        'photos',
        'departments',
        'group_members',
        'directory_groups',
        'directory_users',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
