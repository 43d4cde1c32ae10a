import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

// The emulator as another project uses it: usersync installed in that project's node_modules (where Node does not
// strip TypeScript types by itself), imported as `usersync/emulator`, and run as `usersync-emulator`.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[], cwd: string, until?: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    let out = '';
    const seen = (d: Buffer) => {
      out += d;
      if (until?.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('the emulator from another project', () => {
  let project: string;
  before(() => {
    project = mkdtempSync(join(tmpdir(), 'usersync-consumer-'));
    const installed = join(project, 'node_modules', 'usersync');
    mkdirSync(installed, { recursive: true });
    for (const part of ['package.json', 'emulator.js', 'bin', 'src'])
      cpSync(join(ROOT, part), join(installed, part), { recursive: true });
    // The dependencies usersync brings along (npm would install them beside it).
    symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it("imports startEmulator and connectEmulator from 'usersync/emulator'", async () => {
    writeFileSync(
      join(project, 'app.mjs'),
      `import { startEmulator, connectEmulator } from 'usersync/emulator';
const emulator = await startEmulator({ users: 7, groups: 2, seed: 'consumer' });
const remote = connectEmulator(emulator.graphUrl, { ca: emulator.caPem });
await remote.createUser({ userPrincipalName: 'new@contoso.com', displayName: 'New' });
const info = await remote.info();
await remote.close();
await emulator.stop();
console.log(JSON.stringify({ users: info.users, groups: info.groups }));
`,
    );
    const result = await run(['app.mjs'], project);
    assert.equal(result.code, 0, result.out);
    assert.equal(result.out.trim(), '{"users":8,"groups":2}');
  });

  it('runs usersync-emulator, which prints its connection line', async () => {
    const bin = join(project, 'node_modules', 'usersync', 'bin', 'usersync-emulator.js');
    const result = await run([bin, '--users', '5', '--groups', '1'], project, /Ctrl\+C stops/);
    const line = JSON.parse(result.out.split('\n')[0]) as Record<string, string>;
    assert.deepEqual(Object.keys(line).sort(), [
      'authorityHost',
      'ca',
      'clientId',
      'clientSecret',
      'graphUrl',
      'tenantId',
    ]);
    assert.match(result.out, /usersync emulator: 5 users, 1 groups/);
    assert.doesNotMatch(result.out, /ExperimentalWarning/);
  });
});
