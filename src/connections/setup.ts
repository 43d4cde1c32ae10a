import { UsersyncError } from '../core/errors.ts';
import { requireValidSettings, type Settings } from '../core/settings.ts';
import { parseSchedule, type Schedule } from '../jobs/schedule.ts';
import { getSettings, recordAdminAction, updateConnection, type Store } from '../store/index.ts';
import { requireConnection, saveConnectionSettings, setSchedule, viewOf } from './connections.ts';

// The setup wizard's draft of a connection: the step the admin is on, the settings and the schedule being set up.
// It is kept in the store, so the wizard can be left and resumed from any browser; nothing it holds applies until
// the admin finishes it (a test sync runs the draft without writing). Finishing saves the settings as a new version
// and sets the schedule.

export const SETUP_STEPS = [
  'auto-sync',
  'who',
  'filters',
  'fields',
  'groups',
  'lifecycle',
  'emails',
  'test-sync',
  'schedule',
  'done',
] as const;
export type SetupStep = (typeof SETUP_STEPS)[number];

export interface SetupDraft {
  step: SetupStep;
  settings: Settings;
  schedule: Schedule;
  /** The last test sync of this draft, to show its diff when the wizard is resumed. */
  testRunId: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
  completedAt: string | null;
}

/** The stored draft, or a new one that starts from the connection's current settings and schedule. */
export async function getSetup(store: Store, id: string): Promise<SetupDraft> {
  const row = await requireConnection(store, id);
  if (row.setup) return JSON.parse(row.setup) as SetupDraft;
  const current = await getSettings(store.db, id);
  return {
    step: SETUP_STEPS[0],
    settings: (current?.document ?? {}) as Settings,
    schedule: viewOf(row).schedule,
    testRunId: null,
    updatedAt: null,
    updatedBy: null,
    completedAt: null,
  };
}

/**
 * Saves the draft after checking it whole: an invalid settings document or schedule changes nothing, and every path
 * at fault is named (`settings.scope.groups.0`, `schedule.timeZone`).
 */
export async function saveSetup(
  store: Store,
  id: string,
  input: { step: SetupStep; settings: unknown; schedule: unknown; testRunId?: string | null },
  actor: string,
): Promise<SetupDraft> {
  const before = await getSetup(store, id);
  const settings = requireValidSettings(input.settings, 'settings.');
  const draft: SetupDraft = {
    step: input.step,
    settings,
    schedule: parseSchedule(input.schedule),
    testRunId: input.testRunId === undefined ? before.testRunId : input.testRunId,
    updatedAt: new Date().toISOString(),
    updatedBy: actor,
    completedAt: before.completedAt,
  };
  await updateConnection(store.db, id, { setup: JSON.stringify(draft) });
  return draft;
}

/** Finishes the wizard: the draft's settings become the next version, and its schedule the connection's. */
export async function completeSetup(store: Store, id: string, actor: string): Promise<SetupDraft> {
  const draft = await getSetup(store, id);
  if (draft.updatedAt === null)
    throw new UsersyncError('setup_not_started', `the setup of connection "${id}" has no draft to finish`, {
      hint: 'save the wizard once with PUT /api/v1/connections/{id}/setup, then finish it',
    });
  await saveConnectionSettings(store, id, draft.settings as Record<string, unknown>, actor, { by: 'setup wizard' });
  await setSchedule(store, id, draft.schedule, actor);
  const done: SetupDraft = { ...draft, step: 'done', completedAt: new Date().toISOString() };
  await updateConnection(store.db, id, { setup: JSON.stringify(done) });
  await recordAdminAction(store.db, { actor, action: 'setup.completed', connectionId: id });
  return done;
}
