import { loadConnectionConfig, loadStoreConfig, type ConnectionConfig } from '../config/env.ts';
import { connectionConfigOf } from '../connections/connections.ts';
import { serviceApp } from '../connections/consent.ts';
import { loadSecretBox } from '../secrets/box.ts';
import { getConnection, openStore, type Store } from '../store/index.ts';

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

const CREDENTIAL_VARIABLES = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
];

/**
 * A command's connection to Entra: the AZURE_* variables; or, when none of them is set, the connection `--connection`
 * names in the store (one the service made, its credential opened with the store's secret key). Checked before the
 * command opens (or creates) its store, so a missing variable still fails first and leaves nothing behind.
 */
export async function connectionConfigFor(
  connectionId: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectionConfig> {
  if (CREDENTIAL_VARIABLES.some((v) => env[v]?.trim())) return loadConnectionConfig(env);
  const { dataDir, databaseUrl } = loadStoreConfig(env);
  let store: Store;
  try {
    store = await openStore({ dataDir, databaseUrl: databaseUrl ?? undefined, create: false });
  } catch {
    // No store (or none readable): the variables' own error says what to set.
    return loadConnectionConfig(env);
  }
  try {
    const row = await getConnection(store.db, connectionId);
    if (row) return connectionConfigOf(row, loadSecretBox({ env, dataDir }), serviceApp(env));
  } finally {
    await store.close();
  }
  return loadConnectionConfig(env);
}
