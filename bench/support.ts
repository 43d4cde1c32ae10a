import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fetch, type Agent } from 'undici';

export const CLI = fileURLToPath(new URL('../bin/usersync.js', import.meta.url));

export interface EmulatorProcess {
  child: ChildProcess;
  info: {
    authorityHost: string;
    graphUrl: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    ca: string;
  };
  startMs: number;
  stop: () => Promise<void>;
}

/** Starts `usersync emulator` in its own process and waits for its JSON line. */
export async function spawnEmulator(args: string[]): Promise<EmulatorProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--max-old-space-size=4096', CLI, 'emulator', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const startMs = performance.now() - started;
  return {
    child,
    info: JSON.parse(line),
    startMs,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Resident memory of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function table(rows: Record<string, string | number>[]): string {
  const headers = Object.keys(rows[0]);
  const cells = rows.map((r) => headers.map((h) => String(r[h])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.map(line)].join('\n');
}

/** A Graph token for the emulator's app (client credentials with its secret). */
export async function graphToken(info: EmulatorProcess['info'], dispatcher: Agent): Promise<string> {
  const res = await fetch(`${info.authorityHost}/${info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: info.clientId,
      client_secret: info.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`token request answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
