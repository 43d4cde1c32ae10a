import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, runCliWithStdin } from './support/cli.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// `usersync config show|set|validate` as the contract gives it, on both stores: JSON or YAML in, every problem as
// `path: message` with exit 2 and nothing changed, versions with who and when, and connections kept apart.

const YAML = `# scope to Sales, and a claims account
scope:
  filters:
    - - attribute: department
        operator: EQUALS
        value: Sales
mapping:
  custom:
    claimsAccount:
      expression: Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))
`;

function configSuite(makeTarget: () => Target) {
  let target: Target;
  let dir: string;
  before(async () => {
    target = makeTarget();
    await target.setup();
    dir = mkdtempSync(join(tmpdir(), 'usersync-config-'));
  });
  after(async () => {
    await target.teardown();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => {
    const options = target.options();
    const e: NodeJS.ProcessEnv = { ...process.env, USERSYNC_DATA: options.dataDir, DATABASE_URL: options.databaseUrl };
    for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
    return e;
  };

  it('set stores a YAML document as version 1; show prints it; an identical set changes nothing', async () => {
    const file = join(dir, 'settings.yaml');
    writeFileSync(file, YAML);
    const set = await runCli(['config', 'set', file], env());
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^Saved the settings of connection "default" as version 1\./);
    const show = await runCli(['config', 'show', '--json'], env());
    assert.deepEqual(JSON.parse(show.stdout), {
      scope: { filters: [[{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }]] },
      mapping: {
        custom: { claimsAccount: { expression: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))' } },
      },
    });
    const yaml = await runCli(['config', 'show'], env());
    assert.match(yaml.stdout, /^scope:\n  filters:\n/);
    const again = await runCli(['config', 'set', file], env());
    assert.match(again.stdout, /already this document \(version 1\); nothing changed/);
  });

  it('an invalid document prints every problem as path: message, exits 2 and changes nothing', async () => {
    const bad = JSON.stringify({
      scope: { filters: [[{ attribute: 'department', operator: 'EQUAL', value: 'Sales' }]], disabledAccounts: 'keep' },
      bogus: 1,
    });
    for (const command of ['set', 'validate']) {
      const run = await runCliWithStdin(['config', command, '-'], bad, env());
      assert.equal(run.code, 2, `${command}: ${run.stderr}`);
      assert.deepEqual(run.stderr.trim().split('\n'), [
        'scope.disabledAccounts: must be "sync" or "skip", got "keep"',
        'bogus: unknown key; the keys here are scope, mapping, departments, groups, lifecycle, email, audit, safety',
        'scope.filters[0][0].operator: unknown operator "EQUAL"; did you mean "EQUALS"?',
        'usersync: the settings are invalid (3 problems above); nothing was changed.',
      ]);
    }
    const show = await runCli(['config', 'show', '--json'], env());
    assert.equal(
      JSON.parse(show.stdout).scope.filters[0][0].operator,
      'EQUALS',
      'the stored settings are as they were',
    );
    const notYaml = await runCliWithStdin(['config', 'validate', '-'], 'scope: [', env());
    assert.equal(notYaml.code, 2);
    assert.match(notYaml.stderr, /^usersync: standard input is not JSON or YAML: /);
    const valid = await runCliWithStdin(['config', 'validate', '-'], '{}', env());
    assert.equal(valid.code, 0);
    assert.equal(valid.stdout, 'The settings are valid.\n');
  });

  it('keeps every version with who and when; connections are kept apart', async () => {
    const set = await runCliWithStdin(['config', 'set', '-'], JSON.stringify({ departments: { sync: false } }), env());
    assert.equal(set.code, 0, set.stderr);
    const history = JSON.parse((await runCli(['config', 'show', '--history', '--json'], env())).stdout) as {
      version: number;
      changedBy: string;
      changedAt: string;
      document: unknown;
    }[];
    assert.deepEqual(
      history.map((v) => v.version),
      [2, 1],
    );
    assert.deepEqual(history[0].document, { departments: { sync: false } });
    assert.match(history[0].changedBy, /@.+ \(command line\)$/);
    assert.ok(Date.parse(history[0].changedAt) >= Date.parse(history[1].changedAt));
    const text = (await runCli(['config', 'show', '--history'], env())).stdout;
    assert.match(
      text,
      /^version 2 .* changed scope\.filters, mapping\.custom, departments\.sync\nversion 1 .* changed scope\.filters, mapping\.custom\n$/,
    );

    const other = await runCli(['config', 'show', '--json', '--connection', 'emea'], env());
    assert.equal(other.stdout, '{}\n', 'another connection has its own (default) settings');
    const badName = await runCli(['config', 'show', '--connection', 'no spaces'], env());
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /--connection must be 1 to 64 letters, digits/);
  });
}

describe('usersync config on SQLite', () => configSuite(sqliteTarget));
const pgSkip = await postgresUnreachable();
describe('usersync config on PostgreSQL', { skip: pgSkip }, () => configSuite(postgresTarget));
