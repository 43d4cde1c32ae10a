import { connectEmulator } from '../../src/emulator/remote.ts';

// What an SDK flow file gets from the suite that started the emulator: the connection values a user would configure
// (tenant, app, secret, authority host, Graph URL) and the emulator's control API. The process trusts the emulator's
// CA through NODE_EXTRA_CA_CERTS, as a user's would; nothing else is configured.

export function emulatorEnv() {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the SDK flows through test/sdk/sdk.integration.test.ts`);
    return value;
  };
  const graphUrl = need('USERSYNC_GRAPH_URL');
  return {
    tenantId: need('AZURE_TENANT_ID'),
    clientId: need('AZURE_CLIENT_ID'),
    clientSecret: need('AZURE_CLIENT_SECRET'),
    authorityHost: need('AZURE_AUTHORITY_HOST'),
    graphUrl,
    /** The emulator's host name, without the port: what both SDKs' lists of token-receiving hosts compare. */
    graphHostname: new URL(graphUrl).hostname,
    control: connectEmulator(graphUrl),
  };
}

/** Reads every page of a delta round with `get(link)`, from `first`; the items and the deltaLink. */
export async function deltaRound(
  first: string,
  get: (link: string) => Promise<{ value?: Record<string, unknown>[]; nextLink?: string; deltaLink?: string }>,
): Promise<{ items: Record<string, unknown>[]; deltaLink: string; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let link: string | undefined = first;
  let pages = 0;
  for (;;) {
    const page = await get(link!);
    pages++;
    items.push(...(page.value ?? []));
    if (page.deltaLink) return { items, deltaLink: page.deltaLink, pages };
    if (!page.nextLink) throw new Error('a delta page without nextLink or deltaLink');
    link = page.nextLink;
  }
}
