import { Agent, fetch as undiciFetch } from 'undici';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.ts';

// Integration-test access to a real emulator over HTTPS. Node's own fetch reads NODE_EXTRA_CA_CERTS only at
// start-up, so tests trust the emulator's freshly generated CA through an undici Agent instead.

export interface GraphReply {
  status: number;
  headers: Headers;
  body: any;
  bytes: Buffer;
}

export interface TestEmulator {
  emulator: Emulator;
  token: (secret?: string) => Promise<string>;
  /** GET (or other) a Graph path such as `/v1.0/users` or an absolute nextLink, with a valid token unless given one. */
  graph: (
    pathOrUrl: string,
    init?: { method?: string; headers?: Record<string, string>; body?: unknown; token?: string | null },
  ) => Promise<GraphReply>;
  raw: (
    url: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string; redirect?: 'manual' },
  ) => Promise<GraphReply>;
  stop: () => Promise<void>;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ users: 40, groups: 6, seed: 'test', ...options });
  const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  let cached: string | undefined;

  const raw: TestEmulator['raw'] = async (url, init = {}) => {
    const res = await undiciFetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      dispatcher,
      redirect: init.redirect ?? 'follow',
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const body =
      type.includes('json') && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8');
    return { status: res.status, headers: res.headers as unknown as Headers, body, bytes };
  };

  const token: TestEmulator['token'] = async (secret = emulator.clientSecret) => {
    const res = await raw(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: emulator.clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  };

  const graph: TestEmulator['graph'] = async (pathOrUrl, init = {}) => {
    const bearer = init.token === undefined ? (cached ??= await token()) : init.token;
    const headers: Record<string, string> = {
      ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      ...init.headers,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${emulator.graphUrl}${pathOrUrl}`;
    return raw(url, {
      method: init.method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  };

  return {
    emulator,
    token,
    graph,
    raw,
    stop: async () => {
      await dispatcher.close();
      await emulator.stop();
    },
  };
}

/** Follows @odata.nextLink to the end and returns every item. */
export async function readAll(t: TestEmulator, path: string, headers?: Record<string, string>): Promise<any[]> {
  const items: any[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await t.graph(next, { headers });
    if (res.status !== 200) throw new Error(`${next}: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.value);
    next = res.body['@odata.nextLink'];
  }
  return items;
}
