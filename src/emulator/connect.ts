import type { INetworkModule } from '@azure/msal-node';
import type { Logger } from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import { loadConnectionConfig, type ConnectionConfig } from '../config/env.ts';
import type { FetchLike, GraphHttp } from '../entra/http.ts';
import { connectGraph } from '../sync/connect.ts';
import { caNetworkClient } from './auth/ca-network-client.ts';
import type { Emulator } from './server.ts';

/**
 * Graph clients for an emulator this process started. The process started before the emulator made its CA, so fetch
 * (undici) and msal trust it explicitly; the CLI uses NODE_EXTRA_CA_CERTS. `graphFor` makes a client of any
 * connection to it (the demo's service); `networkClient` is msal's, for sign-in flows.
 */
export function emulatorClients(emulator: Emulator): {
  graphFor: (config: ConnectionConfig, logger?: Logger) => GraphHttp;
  networkClient: INetworkModule;
  close: () => Promise<void>;
} {
  const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  const fetch: FetchLike = (url, init) => undiciFetch(url, { ...init, dispatcher }) as ReturnType<FetchLike>;
  const networkClient = caNetworkClient(emulator.caPem);
  return {
    graphFor: (config, logger) => connectGraph(config, { fetch, networkClient, logger }),
    networkClient,
    close: () => dispatcher.close(),
  };
}

/** usersync's Graph client for the emulator's own app and tenant. */
export function connectToEmulator(emulator: Emulator): { http: GraphHttp; close: () => Promise<void> } {
  const clients = emulatorClients(emulator);
  return { http: clients.graphFor(loadConnectionConfig(emulator.env())), close: clients.close };
}
