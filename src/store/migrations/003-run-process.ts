import type { Kysely, Migration } from 'kysely';

// Which process ran a run: when a run is killed, the next run of the connection closes it as failed and names that process.
export const runProcessMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('runs').addColumn('pid', 'integer').execute();
    await db.schema.alterTable('runs').addColumn('host', 'text').execute();
    await db.schema.createIndex('runs_connection_status').on('runs').columns(['connection_id', 'status']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('runs_connection_status').execute();
    await db.schema.alterTable('runs').dropColumn('host').execute();
    await db.schema.alterTable('runs').dropColumn('pid').execute();
  },
};
