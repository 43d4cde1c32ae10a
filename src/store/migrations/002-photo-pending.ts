import type { Kysely, Migration } from 'kysely';

// Per-resource round modes, and photo checks. Photos are not in Graph's users delta: a user written by a run is marked here and the mark is
// cleared in the same transaction as the photo it fetched, so a run killed in between loses nothing.
export const photoPendingMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('directory_users')
      .addColumn('photo_pending', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // A resumed round must know whether it was a full read (which reconciles at its end) or a change round.
    await db.schema.alterTable('sync_state').addColumn('users_round_mode', 'text').execute();
    await db.schema.alterTable('sync_state').addColumn('groups_round_mode', 'text').execute();
    // A photo sweep in progress: the last user id it finished (its transactions commit this), so a killed sweep resumes.
    await db.schema.alterTable('sync_state').addColumn('photo_sweep_after', 'text').execute();
    await db.schema
      .createIndex('directory_users_photo_pending')
      .on('directory_users')
      .columns(['connection_id', 'photo_pending'])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('directory_users_photo_pending').execute();
    await db.schema.alterTable('sync_state').dropColumn('users_round_mode').execute();
    await db.schema.alterTable('sync_state').dropColumn('groups_round_mode').execute();
    await db.schema.alterTable('sync_state').dropColumn('photo_sweep_after').execute();
    await db.schema.alterTable('directory_users').dropColumn('photo_pending').execute();
  },
};
