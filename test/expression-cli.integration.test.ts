import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { runCli, runCliWithStdin } from './support/cli.ts';

// `usersync expression` and `usersync scope test` as the contract gives them: one expression against --input or a user
// read live from the emulator, and NDJSON lines on stdin answered line by line.

describe('usersync expression', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ users: 20, seed: 'expression-cli' });
  });
  after(() => emulator.stop());

  it('evaluates one expression against --input and prints {"value": …}', async () => {
    const run = await runCli(
      ['expression', 'Join(" ", [givenName], [surname])', '--input', '{"givenName":"Ada","surname":"Lovelace"}'],
      process.env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '{"value":"Ada Lovelace"}\n');
    const withConnection = await runCli(['expression', 'ToUpper("a")', '--connection', 'emea'], process.env);
    assert.equal(withConnection.stdout, '{"value":"A"}\n', 'every command takes --connection');
    const ignored = await runCli(['expression', 'IgnoreFlowIfNullOrEmpty([department])', '--input', '{}'], process.env);
    assert.equal(ignored.stdout, '{"value":null,"ignored":true}\n');
  });

  it('reads the user live with --user, asking Graph for the properties the expression needs', async () => {
    const user = emulator.tenant.user(3);
    const env = { ...process.env, ...emulator.env() };
    const run = await runCli(
      [
        'expression',
        'Join("|", ToLower([userPrincipalName]), [objectId], [department])',
        '--user',
        user.userPrincipalName as string,
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      value: [String(user.userPrincipalName).toLowerCase(), user.id, user.department].filter(Boolean).join('|'),
    });
  });

  it('answers NDJSON lines in order: values, ignored flows and errors, without stopping', async () => {
    const lines = [
      { expression: 'ToUpper([a])', input: { a: 'x' } },
      { expression: 'IgnoreFlowIfNullOrEmpty([z])', input: {} },
      { expression: 'Left([a]', input: {} },
      { expression: 'CDate([d])', input: { d: 'soon' } },
      { expression: 'Switch([s], "other", "1", "one")', input: { s: '1' } },
    ].map((l) => JSON.stringify(l));
    const run = await runCliWithStdin(['expression', '-'], `${lines.join('\n')}\nnot json\n`, process.env);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(out[0], { value: 'X' });
    assert.deepEqual(out[1], { value: null, ignored: true });
    assert.match(out[2].error, /a comma or \) was expected in Left\(…\) at character 9/);
    assert.match(out[3].error, /^CDate: expected a date, got "soon" at character 7/);
    assert.deepEqual(out[4], { value: 'one' });
    assert.match(out[5].error, /^line 6 is not JSON/);
  });

  it('a bad expression or input is one line on stderr, exit 1', async () => {
    const unknown = await runCli(['expression', 'Joinn(",", [a])'], process.env);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'usersync: expression: unknown function "Joinn" at character 1: did you mean "Join"?\n',
    );
    const input = await runCli(['expression', '[a]', '--input', '[1]'], process.env);
    assert.equal(input.code, 1);
    assert.match(input.stderr, /^usersync: --input must be a JSON object/);
  });
});

describe('usersync scope test', () => {
  it('answers {"inScope"} per NDJSON line, and {"error"} naming the path for a bad filter', async () => {
    const sales = [[{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }]];
    const lines = [
      { filters: sales, input: { department: 'Sales' } },
      { filters: sales, input: { department: 'Legal' } },
      {
        filters: [
          [{ attribute: 'accountEnabled', operator: 'is true' }],
          [{ attribute: 'userType', operator: 'EQUALS', value: 'Guest' }],
        ],
        input: { accountEnabled: false, userType: 'Guest' },
      },
      { filters: [[{ attribute: 'department', operator: 'EQUAL', value: 'Sales' }]], input: {} },
      { filters: [[{ attribute: 'jobTitle', operator: 'IS NULL', value: 'x' }]], input: {} },
    ].map((l) => JSON.stringify(l));
    const run = await runCliWithStdin(['scope', 'test', '-'], `${lines.join('\n')}\n`, process.env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [
        { inScope: true },
        { inScope: false },
        { inScope: true },
        { error: 'filters[0][0].operator: unknown operator "EQUAL"; did you mean "EQUALS"?' },
        { error: 'filters[0][0].value: IS NULL takes no value; leave "value" out' },
      ],
    );
  });
});
