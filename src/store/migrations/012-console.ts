import type { Kysely, Migration } from 'kysely';

// The console (issue 12): the setup wizard's draft per connection (resumable from any browser), the draft settings a
// test sync runs with, how often Graph throttled each run (the dashboard's charts), and the one-time codes that let
// the first admin be created in the browser.
export const consoleMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connections').addColumn('setup', 'text').execute();
    await db.schema.alterTable('runs').addColumn('draft_settings', 'text').execute();
    await db.schema.alterTable('runs').addColumn('throttled', 'integer').execute();
    await db.schema
      .createTable('setup_codes')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('setup_codes').execute();
    await db.schema.alterTable('runs').dropColumn('throttled').execute();
    await db.schema.alterTable('runs').dropColumn('draft_settings').execute();
    await db.schema.alterTable('connections').dropColumn('setup').execute();
  },
};
