import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../db.ts';

// Memberships the application has that did not come from Entra (imported with `usersync users import`, later set
// through the API): a user in an app group. lifecycle.removeUnmanagedMemberships removes those of synced app groups.
export function appMembershipsMigration(dialect: StoreDialect): Migration {
  const text = (col: ColumnDefinitionBuilder) => (dialect === 'postgres' ? col.modifyEnd(sql`collate "C"`) : col);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('app_memberships')
        .addColumn('connection_id', 'text', (c) => text(c).notNull())
        .addColumn('app_group', 'text', (c) => text(c).notNull())
        .addColumn('member_external_id', 'text', (c) => text(c).notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('app_memberships_pk', ['connection_id', 'app_group', 'member_external_id'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('app_memberships').execute();
    },
  };
}
