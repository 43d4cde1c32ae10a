import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Emulator } from '../../src/emulator/server.ts';
import { CLI, cliEnv, runCli, runCliWithStdin } from '../support/cli.ts';
import type { Target } from '../support/targets.ts';

// The API suite drives a real `usersync serve` process over HTTP, as a client would: the server is spawned with the
// contract's environment (the emulator's CA trusted through NODE_EXTRA_CA_CERTS), and everything it logs is kept so
// tests can check that no secret ever appears in it.

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface Server {
  url: string;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** A request with a Bearer token (or none), or a session cookie and CSRF token. */
  request(
    method: string,
    path: string,
    options?: {
      token?: string | null;
      body?: unknown;
      rawBody?: string;
      cookie?: string;
      csrf?: string;
      headers?: Record<string, string>;
    },
  ): Promise<Reply>;
  /** Creates an API token with the CLI (`usersync token create --json`). */
  newToken(name?: string): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const ADMIN_PASSWORD = 'correct horse battery staple';

export async function startServer(
  emulator: Emulator,
  target: Target,
  extra: Record<string, string | undefined> = {},
): Promise<Server> {
  const env = cliEnv(emulator, target, {
    USERSYNC_LOG_LEVEL: 'debug',
    // The service reads connections from its store, never the AZURE_* variables.
    AZURE_TENANT_ID: undefined,
    AZURE_CLIENT_ID: undefined,
    AZURE_CLIENT_SECRET: undefined,
    ...extra,
  });
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /\{"url":"([^"]+)"\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`serve exited:\n${out}`)));
  });
  let defaultToken: string | undefined;
  const server: Server = {
    url,
    child,
    env,
    output: () => out,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token === undefined ? (defaultToken ??= await server.newToken('tests')) : options.token;
      if (token !== null && options.cookie === undefined) headers.authorization = `Bearer ${token}`;
      if (options.cookie) headers.cookie = options.cookie;
      if (options.csrf) headers['x-csrf-token'] = options.csrf;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async newToken(name = 'tests') {
      const result = await runCli(['token', 'create', '--name', name, '--json'], env);
      if (result.code !== 0) throw new Error(`token create failed: ${result.stderr}`);
      return JSON.parse(result.stdout).token as string;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
  return server;
}

export async function createAdmin(
  server: Server,
  email = 'admin@example.com',
  password = ADMIN_PASSWORD,
): Promise<void> {
  const result = await runCliWithStdin(
    ['admin', 'create', '--email', email, '--password-stdin'],
    `${password}\n`,
    server.env,
  );
  if (result.code !== 0) throw new Error(`admin create failed: ${result.stderr}`);
}

/** Signs in; returns the session cookie and CSRF token. */
export async function signIn(
  server: Server,
  email = 'admin@example.com',
  password = ADMIN_PASSWORD,
): Promise<{ cookie: string; csrf: string }> {
  const reply = await server.request('POST', '/api/v1/auth/sign-in', { token: null, body: { email, password } });
  if (reply.status !== 200) throw new Error(`sign-in failed: ${reply.text}`);
  const cookie = reply.headers.get('set-cookie')!.split(';')[0];
  return { cookie, csrf: reply.body.csrfToken };
}

/** The body of POST /connections for the emulator's tenant. */
export function connectionBody(emulator: Emulator, name = 'Contoso'): Record<string, string> {
  const env = emulator.env();
  return {
    name,
    tenantId: env.AZURE_TENANT_ID,
    clientId: env.AZURE_CLIENT_ID,
    clientSecret: env.AZURE_CLIENT_SECRET,
    authorityHost: env.AZURE_AUTHORITY_HOST,
    graphUrl: env.USERSYNC_GRAPH_URL,
  };
}

/** Polls a run until it ends (or `until` says so); returns the run. */
export async function waitForRun(
  server: Server,
  runId: string,
  until: (run: any) => boolean = (run) => !['queued', 'running'].includes(run.status),
  timeoutMs = 60_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await server.request('GET', `/api/v1/runs/${runId}`);
    if (until(reply.body)) return reply.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${reply.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
