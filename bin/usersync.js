#!/usr/bin/env node
// usersync runs its TypeScript directly on Node 24 (type stripping). Started by an older Node,
// it re-runs itself with the Node 24 that the project pins as a dependency.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// A small young generation, and for `sync` (whose working set is pages and chunks, never the whole
// directory) an old-generation limit that makes V8 collect early: a 100k-user sync peaks near 200 MB
// instead of 420, at no measurable cost. execve keeps the pid, so signals still reach the sync.
const V8_FLAGS = ['--max-semi-space-size=2', ...(process.argv[2] === 'sync' ? ['--max-old-space-size=256'] : [])];
const major = Number(process.versions.node.split('.')[0]);
// A CA file that cannot be read: say so once, here, instead of Node warning in each process it starts.
const extraCa = process.env.NODE_EXTRA_CA_CERTS;
if (extraCa) {
  let problem;
  try {
    if (!fs.statSync(extraCa).isFile()) problem = 'is not a file';
    else fs.accessSync(extraCa, fs.constants.R_OK);
  } catch (error) {
    problem =
      error.code === 'ENOENT'
        ? 'does not exist'
        : error.code === 'EACCES'
          ? 'cannot be read by this user'
          : `cannot be read (${error.code ?? error.message})`;
  }
  if (problem) {
    process.stderr.write(
      `usersync: NODE_EXTRA_CA_CERTS points at ${extraCa}, which ${problem}; it is ignored: set it to the PEM file of the CA that signs Graph's certificate (the emulator prints it as "ca"), or unset it.\n`,
    );
    delete process.env.NODE_EXTRA_CA_CERTS;
  }
}
if (major >= 24 && typeof process.execve === 'function' && !process.execArgv.includes(V8_FLAGS[0])) {
  // Fewer malloc arenas: SQLite, TLS and V8 otherwise leave tens of MB of fragmented arenas behind.
  process.execve(
    process.execPath,
    [process.execPath, ...V8_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { MALLOC_ARENA_MAX: '2', ...process.env },
  );
}
if (major >= 24) {
  // Installed as a dependency, usersync's TypeScript sits in node_modules, where Node does not strip types.
  if (fileURLToPath(import.meta.url).includes(`${path.sep}node_modules${path.sep}`)) await import('./ts-hooks.js');
  const { run } = await import('../src/cli/main.ts');
  await run(process.argv.slice(2));
} else {
  const require = createRequire(import.meta.url);
  let node;
  try {
    node = require.resolve('node/bin/node');
  } catch {
    console.error(
      `usersync needs Node.js 24 or later (this is ${process.version}). Run \`npm install\` in the usersync folder, or install Node 24.`,
    );
    process.exit(1);
  }
  // No execve before Node 24: run the pinned Node as a child and pass our signals on, so Ctrl+C and
  // `kill` stop the sync too (SIGKILL cannot be passed on; on Node 24 the process is replaced instead).
  const child = spawn(node, [...V8_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { MALLOC_ARENA_MAX: '2', ...process.env },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
}
