import type { Kysely, Migration } from 'kysely';

// A failed run keeps its error in the product's one shape: the code to branch on, and the hint and context as JSON,
// beside the message (`error`), so the history and the API say what the command line said.
export const runErrorMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('runs').addColumn('error_code', 'text').execute();
    await db.schema.alterTable('runs').addColumn('error_detail', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('runs').dropColumn('error_detail').execute();
    await db.schema.alterTable('runs').dropColumn('error_code').execute();
  },
};
