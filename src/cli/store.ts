import { loadStoreConfig } from '../config/env.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Opens the store of USERSYNC_DATA / DATABASE_URL for one command and closes it after. Read commands pass
 * `create: false`: with no store yet they say how to make one instead of leaving an empty one behind.
 */
export async function withStore<T>(fn: (store: Store) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const store = await openConfiguredStore(options);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The store USERSYNC_DATA / DATABASE_URL select. */
export function openConfiguredStore(options: { create?: boolean } = {}): Promise<Store> {
  const { dataDir, databaseUrl } = loadStoreConfig();
  return openStore({ dataDir, databaseUrl: databaseUrl ?? undefined, create: options.create });
}
