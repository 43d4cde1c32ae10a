import { loadStoreConfig } from '../config/env.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Opens the store of USERSYNC_DATA / DATABASE_URL for one command and closes it after. Read commands pass
 * `create: false`: with no store yet they say how to make one instead of leaving an empty one behind.
 */
export async function withStore<T>(fn: (store: Store) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const { dataDir, databaseUrl } = loadStoreConfig();
  const store = await openStore({ dataDir, databaseUrl: databaseUrl ?? undefined, create: options.create });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
