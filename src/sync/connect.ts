import type { INetworkModule } from '@azure/msal-node';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/env.ts';
import { createGraphHttp, type FetchLike, type GraphHttp } from '../entra/http.ts';
import { createTokenProvider } from '../entra/token.ts';

/**
 * The Graph client of one connection. `fetch` and `networkClient` are for callers that trust a CA the
 * process did not start with (tests, the demo); everyone else uses the global fetch and NODE_EXTRA_CA_CERTS.
 */
export function connectGraph(
  config: ConnectionConfig,
  options: { fetch?: FetchLike; networkClient?: INetworkModule; maxInFlight?: number; logger?: Logger } = {},
): GraphHttp {
  const tokens = createTokenProvider(config, { networkClient: options.networkClient });
  return createGraphHttp({
    graphUrl: config.graphUrl,
    getToken: (o) => tokens.getToken(o),
    fetch: options.fetch,
    maxInFlight: options.maxInFlight,
    logger: options.logger,
  });
}
