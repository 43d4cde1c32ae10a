import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';

// Microsoft's own SDKs against the emulator, unchanged: each flows file runs in its own Node process whose
// environment is what a user sets (the connection values, and NODE_EXTRA_CA_CERTS for the emulator's CA), and
// drives the emulator's control API over HTTP for its rounds of changes and faults. A flow that fails fails here,
// with the SDK's own output.

const FLOWS = [
  { name: '@microsoft/microsoft-graph-client 3 with @azure/identity', file: 'graph-client.flows.ts', tests: 9 },
  { name: '@microsoft/msgraph-sdk (Kiota) with @azure/identity', file: 'kiota.flows.ts', tests: 9 },
];

describe("Microsoft's Graph SDKs against the emulator", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ users: 120, groups: 10, seed: 'sdk', deltaPageSize: 40 });
  });
  after(async () => {
    await emulator?.stop();
  });

  for (const flow of FLOWS) {
    it(`${flow.name}: every flow passes`, async () => {
      const file = fileURLToPath(new URL(flow.file, import.meta.url));
      const child = spawn(process.execPath, ['--test-reporter=spec', file], {
        // The runner's own NODE_TEST_CONTEXT would make the child report to it in its binary protocol.
        env: { ...process.env, ...emulator.env(), NODE_OPTIONS: '', NODE_TEST_CONTEXT: undefined },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`ℹ pass ${flow.tests}\\n`), output);
      assert.match(output, /ℹ fail 0\n/, output);
    });
  }
});
