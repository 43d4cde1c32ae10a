import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../../src/emulator/server.ts';
import type { Target } from './targets.ts';

// Runs the real `usersync` command in a child process, as a user or script would.

export const CLI = fileURLToPath(new URL('../../bin/usersync.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of the contract pointing at `emulator` and a store target; `extra` overrides. */
export function cliEnv(
  emulator: Emulator,
  target: Target,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const options = target.options();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulator.env(),
    USERSYNC_DATA: options.dataDir,
    DATABASE_URL: options.databaseUrl,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Starts the command; `stdin`, when given, is its standard input, else it has none. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const result = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { child, result };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).result;
}

/** Runs the command with `stdin` as its standard input (the NDJSON and `-` forms). */
export function runCliWithStdin(args: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env, stdin).result;
}

/** The JSON on the last non-empty line of stdout. */
export function lastJson(out: string): any {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
