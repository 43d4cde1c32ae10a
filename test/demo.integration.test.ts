import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCli } from './support/cli.ts';

// `npm start` (the hidden `usersync demo`): the README's first command must do something real offline — sync the demo
// tenant, pick up changes, apply a settings document (its wave of leavers held, then approved) — and stop cleanly.

describe('npm start (usersync demo)', () => {
  it('syncs the demo tenant, applies the settings with their hold approved, and stops cleanly on SIGTERM', async () => {
    const demo = startCli(['demo'], { ...process.env, USERSYNC_LOG_LEVEL: '' });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      demo.child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('4. Go on from a shell')) resolve();
      });
      demo.child.once('exit', (code) => reject(new Error(`the demo exited early (${code}): ${out}`)));
    });
    demo.child.kill('SIGTERM');
    const result = await demo.result;
    assert.equal(result.code, 0, result.stderr);
    assert.match(out, /1\. First sync: a full read/);
    assert.match(out, /Sync succeeded: full read .*\n {2}users {8}200 created/);
    assert.match(out, /2\. Meanwhile in Entra/);
    assert.match(out, /3\. Settings: only the members of/);
    assert.match(out, /leavers held/);
    assert.match(out, /approved: \d+ leavers disabled/);
    assert.match(out, /i:0#\.f\|membership\|/);
    assert.match(out, /groups now synced: the scope groups/);
  });
});
