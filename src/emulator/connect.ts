import { Agent, fetch as undiciFetch } from 'undici';
import { loadConnectionConfig } from '../config/env.ts';
import type { FetchLike, GraphHttp } from '../entra/http.ts';
import { connectGraph } from '../sync/connect.ts';
import { caNetworkClient } from './auth/ca-network-client.ts';
import type { Emulator } from './server.ts';

/**
 * usersync's Graph client pointed at an emulator this process started. The process started before the
 * emulator made its CA, so fetch (undici) and msal trust it explicitly; the CLI uses NODE_EXTRA_CA_CERTS.
 */
export function connectToEmulator(emulator: Emulator): { http: GraphHttp; close: () => Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  const fetch: FetchLike = (url, init) => undiciFetch(url, { ...init, dispatcher }) as ReturnType<FetchLike>;
  const http = connectGraph(loadConnectionConfig(emulator.env()), {
    fetch,
    networkClient: caNetworkClient(emulator.caPem),
  });
  return { http, close: () => dispatcher.close() };
}
