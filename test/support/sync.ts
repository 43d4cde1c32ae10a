import assert from 'node:assert/strict';
import { connectToEmulator } from '../../src/emulator/connect.ts';
import type { Emulator } from '../../src/emulator/server.ts';
import {
  listDepartments,
  listDirectoryGroups,
  listDirectoryUsers,
  openStore,
  type Store,
} from '../../src/store/index.ts';
import { runSync, type SyncOptions, type SyncSummary } from '../../src/sync/run.ts';
import { expectedDepartments, expectedGroups, expectedUsers } from './expected.ts';
import type { Target } from './targets.ts';

// In-process sync against a running emulator: the same code path as `usersync sync`.

export interface SyncHarness {
  store: Store;
  sync: (options?: SyncOptions) => Promise<SyncSummary>;
  close: () => Promise<void>;
}

export async function syncHarness(emulator: Emulator, target: Target): Promise<SyncHarness> {
  const store = await openStore(target.options());
  const { http, close } = connectToEmulator(emulator);
  return {
    store,
    sync: (options) => runSync({ store, http }, options),
    close: async () => {
      await store.close();
      await close();
    },
  };
}

/** The directory equals the source: every live user, group and department as the emulator holds them. */
export async function assertDirectoryMatches(
  store: Store,
  emulator: Emulator,
  connectionId = 'default',
): Promise<void> {
  const tenant = emulator.tenant;
  const users = await listDirectoryUsers(store.db, connectionId);
  const expected = expectedUsers(tenant);
  const byId = new Map(users.map((u) => [u.externalId, u]));
  for (const [id, user] of expected) assert.deepEqual(byId.get(id), user, `directory user ${user.loginAccount}`);
  for (const user of users) {
    if (!expected.has(user.externalId))
      assert.equal(user.status, 'disabled', `${user.loginAccount} left the source, so it must be disabled`);
  }
  assert.deepEqual(await listDirectoryGroups(store.db, connectionId), expectedGroups(tenant));
  const departments = new Map((await listDepartments(store.db, connectionId)).map((d) => [d.name, d.members]));
  for (const [name, members] of expectedDepartments(tenant))
    assert.deepEqual(departments.get(name), members, `department ${name}`);
  for (const [name, members] of departments)
    if (!expectedDepartments(tenant).has(name))
      assert.deepEqual(members, [], `department ${name} has no source members`);
}
