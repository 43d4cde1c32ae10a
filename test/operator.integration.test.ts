import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { openStore } from '../src/store/index.ts';
import { CLI, cliEnv, lastJson, runCli, startCli } from './support/cli.ts';
import { assertDirectoryMatches } from './support/sync.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// What an operator gets wrong, and what a damaged disk does, answered in one line that names the path and the fix
// (issue 8): damaged stores are refused before anything is written, backups are online and restorable, read
// commands never create a store, and usage mistakes suggest the closest valid word.

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${stderr}`);
  assert.match(lines[0], /^usersync: /);
  return lines[0];
};

describe('operator mistakes and damaged stores (SQLite)', () => {
  let emulator: Emulator;
  let target: Target;
  let root: string;
  before(async () => {
    target = sqliteTarget();
    await target.setup();
    root = mkdtempSync(join(tmpdir(), 'usersync-operator-'));
    emulator = await startEmulator({ users: 400, groups: 12, seed: 'operator', deltaPageSize: 50 });
    const first = await runCli(['sync', '--json'], cliEnv(emulator, target));
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await emulator.stop();
    await target.teardown();
    rmSync(root, { recursive: true, force: true });
  });
  const store = () => join(target.options().dataDir!, 'usersync.db');
  const env = (extra: Record<string, string | undefined> = {}) => cliEnv(emulator, target, extra);
  /** A folder holding a copy of the good store, damaged by `damage`. */
  const damaged = (name: string, damage: (file: string) => void) => {
    const dir = join(root, name);
    mkdirSync(dir);
    const file = join(dir, 'usersync.db');
    copyFileSync(store(), file);
    damage(file);
    return { dir, file };
  };

  for (const [kind, damage] of [
    [
      '16 KB of garbage in the middle',
      (file: string) => {
        const bytes = readFileSync(file);
        const middle = Math.floor(bytes.length / 2 / 16384) * 16384;
        for (let i = 0; i < 16384; i++) bytes[middle + i] = (i * 131 + 7) & 0xff;
        writeFileSync(file, bytes);
      },
    ],
    ['truncated to half', (file: string) => truncateSync(file, Math.floor(statSync(file).size / 2))],
    [
      'not a database',
      (file: string) => writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(500)),
    ],
  ] as const) {
    it(`a store ${kind}: sync refuses it, writes nothing and says which file and what to do`, async () => {
      const { dir, file } = damaged(kind.replace(/\W+/g, '-'), damage);
      const before = sha256(file);
      emulator.tenant.updateUser(emulator.tenant.user(3).id, { jobTitle: `Seen after damage ${kind}` });
      for (const args of [
        ['sync', '--json'],
        ['sync', '--full', '--json'],
        ['sync', '--dry-run', '--json'],
      ]) {
        const run = await runCli(args, env({ USERSYNC_DATA: dir }));
        assert.equal(run.code, 1, `${args.join(' ')} fails`);
        const line = oneLine(run.stderr);
        assert.ok(line.includes(file), `names the file: ${line}`);
        assert.match(line, /is damaged/);
        assert.match(line, /Restore it from a backup/);
        assert.match(line, /move it aside .* run `usersync sync`/);
        assert.equal(run.stdout, '', 'no summary');
      }
      assert.equal(sha256(file), before, 'not a byte was written');
      assert.deepEqual(readdirSync(dir), ['usersync.db'], 'no journal was started beside it');
    });
  }

  it('backup copies the store while a sync runs; the copy restores a damaged store and the next run continues from it', async () => {
    const copy = join(root, 'backup-1.db');
    emulator.tenant.updateUser(emulator.tenant.user(5).id, { jobTitle: 'During backup' });
    emulator.faults.update({ slowRatio: 1, slowMs: 200 });
    try {
      const sync = startCli(['sync', '--json'], env());
      const backup = await runCli(['backup', copy, '--json'], env());
      assert.equal(backup.code, 0, backup.stderr);
      const result = lastJson(backup.stdout);
      assert.equal(result.file, copy);
      assert.equal(result.source, store());
      assert.equal(result.bytes, statSync(copy).size);
      assert.ok(result.users >= 400, `${result.users} users in the copy`);
      assert.equal((await sync.result).code, 0);
    } finally {
      emulator.faults.reset();
    }

    const again = await runCli(['backup', copy], env());
    assert.equal(again.code, 1);
    assert.match(oneLine(again.stderr), /already exists: usersync backup never overwrites a file/);

    // Disaster: the live store is damaged. Move it aside, put the backup in its place, run.
    const bytes = readFileSync(store());
    bytes.fill(0x5a, 8192, 8192 + 32768);
    writeFileSync(store(), bytes);
    const refused = await runCli(['sync', '--json'], env());
    assert.equal(refused.code, 1);
    const aside = join(root, 'damaged-aside');
    mkdirSync(aside);
    for (const name of readdirSync(dirname(store()))) renameSync(join(dirname(store()), name), join(aside, name));
    copyFileSync(copy, store());
    emulator.tenant.updateUser(emulator.tenant.user(6).id, { jobTitle: 'After restore' });
    const resumed = await runCli(['sync', '--json'], env());
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(lastJson(resumed.stdout).mode, 'delta', 'the restored delta link carries on');
    const restored = await openStore(target.options());
    try {
      await assertDirectoryMatches(restored, emulator);
    } finally {
      await restored.close();
    }
  });

  it('list commands on a folder with no store say so and create nothing', async () => {
    const empty = join(root, 'nothing-here');
    for (const args of [
      ['users', 'list', '--json'],
      ['groups', 'list'],
      ['departments', 'list', '--json'],
      ['backup', join(root, 'b.db')],
    ]) {
      const run = await runCli(args, env({ USERSYNC_DATA: empty }));
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(
        oneLine(run.stderr),
        `usersync: No directory exists at ${empty} yet (no usersync.db there): run \`usersync sync\` to create it, or point USERSYNC_DATA at the folder that holds it.`,
      );
      assert.equal(run.stdout, '');
    }
    assert.equal(existsSync(empty), false, 'no folder was created');
  });

  it('USERSYNC_DATA naming a file is a folder mistake, said so', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    for (const args of [['sync'], ['users', 'list']]) {
      const run = await runCli(args, env({ USERSYNC_DATA: file }));
      assert.equal(run.code, 1);
      assert.equal(
        oneLine(run.stderr),
        `usersync: USERSYNC_DATA points at ${file}, which is a file; it must be a folder (usersync keeps usersync.db in it): point USERSYNC_DATA at a folder, or move the file away.`,
      );
    }
  });

  it('a store the process may not write, or cannot open, names the path, the permission and the user', async () => {
    // As root every file is writable: run the command as nobody (uid 65534) instead.
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? 'nobody (uid 65534)' : new RegExp(`\\(uid ${process.getuid?.()}\\)`);
    const run = (args: string[], dir: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], {
          env: env({ USERSYNC_DATA: dir }),
          stdio: ['ignore', 'ignore', 'pipe'],
          ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        });
        let stderr = '';
        child.stderr!.on('data', (d) => {
          stderr += d;
        });
        void once(child, 'exit').then(([code]) => resolve({ code: code as number | null, stderr }));
      });
    const readOnly = join(root, 'read-only');
    mkdirSync(readOnly);
    copyFileSync(store(), join(readOnly, 'usersync.db'));
    chmodSync(join(readOnly, 'usersync.db'), 0o444);
    chmodSync(readOnly, 0o555);
    const locked = join(root, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    if (asRoot) {
      chmodSync(root, 0o755);
      chownSync(locked, 0, 0);
    } else chmodSync(locked, 0o000);
    try {
      const ro = await run(['sync', '--json'], readOnly);
      assert.equal(ro.code, 1);
      const roLine = ro.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('NODE_EXTRA_CA_CERTS'))
        .join('\n');
      assert.ok(roLine.includes(join(readOnly, 'usersync.db')), roLine);
      assert.match(roLine, /cannot be written by/);
      if (typeof user === 'string') assert.ok(roLine.includes(user), roLine);
      else assert.match(roLine, user);
      assert.match(roLine, /needs write permission on the file and on its folder/);

      const shut = await run(['sync', '--json'], join(locked, 'data'));
      assert.equal(shut.code, 1);
      const shutLine = shut.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('NODE_EXTRA_CA_CERTS'))
        .join('\n');
      assert.ok(shutLine.includes(join(locked, 'data')), shutLine);
      assert.match(shutLine, /cannot be (created|opened) by/);
      assert.match(shutLine, /write permission|writable/);
    } finally {
      chmodSync(readOnly, 0o755);
      chmodSync(locked, 0o755);
    }
  });

  it('usage mistakes get one line with the closest valid word; the usage only with --help', async () => {
    const cases: [string[], string][] = [
      [['sync', '--ful'], "usersync: unknown option '--ful'; did you mean `--full`?"],
      [['synk'], "usersync: unknown command 'synk'; did you mean `sync`?"],
      [['users', 'lst'], "usersync: unknown command 'lst'; did you mean `list`?"],
      [['sync', '--everything'], "usersync: unknown option '--everything'; `usersync sync --help` lists what it takes"],
      [['backup'], "usersync: missing required argument 'file'; `usersync backup --help` lists what it takes"],
      [
        ['emulator', '--port', 'x'],
        "usersync: option '--port <port>' argument 'x' is invalid. --port must be a whole number from 0 to 65535",
      ],
    ];
    for (const [args, expected] of cases) {
      const run = await runCli(args, env());
      assert.equal(run.code, 2, args.join(' '));
      assert.equal(oneLine(run.stderr), expected);
      assert.equal(run.stdout, '');
    }
    const help = await runCli(['sync', '--help'], env());
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: usersync sync \[options\]/);
    assert.match(help.stdout, /--full/);
    const group = await runCli(['users'], env());
    assert.equal(group.code, 1, 'a group without its subcommand shows its help and fails');
    assert.match(group.stderr, /^Usage: usersync users/);
    assert.doesNotMatch(group.stderr, /usersync: /);
  });

  it('a NODE_EXTRA_CA_CERTS that does not exist is said once, by usersync, with the fix', async () => {
    const run = await runCli(['users', 'list', '--json'], env({ NODE_EXTRA_CA_CERTS: join(root, 'no-such-ca.pem') }));
    assert.equal(run.code, 0);
    assert.equal(
      oneLine(run.stderr),
      `usersync: NODE_EXTRA_CA_CERTS points at ${join(root, 'no-such-ca.pem')}, which does not exist; it is ignored: set it to the PEM file of the CA that signs Graph's certificate (the emulator prints it as "ca"), or unset it.`,
    );
  });

  it('the emulator removes its temporary folder when stopped with SIGTERM', async () => {
    const emu = startCli(['emulator', '--users', '10'], env());
    const line = await new Promise<string>((resolve) => {
      let out = '';
      emu.child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
    });
    const ca = JSON.parse(line).ca as string;
    assert.ok(existsSync(ca), 'the CA file exists while it runs');
    emu.child.kill('SIGTERM');
    const result = await emu.result;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(dirname(ca)), false, `${dirname(ca)} is gone`);
  });
});

const pgSkip = await postgresUnreachable();
describe('operator mistakes (PostgreSQL)', { skip: pgSkip }, () => {
  let target: Target;
  before(async () => {
    target = postgresTarget();
    await target.setup();
  });
  after(() => target.teardown());

  it('list commands on an empty database say so and create no table; backup points at pg_dump', async () => {
    const env = { ...process.env, DATABASE_URL: target.options().databaseUrl };
    const run = await runCli(['users', 'list', '--json'], env);
    assert.equal(run.code, 1);
    assert.match(
      oneLine(run.stderr),
      /^usersync: No usersync directory exists in the PostgreSQL database postgres:\/\/.+ yet: run `usersync sync` to create it/,
    );
    const client = new pg.Client({ connectionString: target.options().databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
      );
      assert.equal(rows[0].n, 0, 'no table was created');
    } finally {
      await client.end();
    }
    const backup = await runCli(['backup', 'x.db'], env);
    assert.equal(backup.code, 1);
    assert.match(
      oneLine(backup.stderr),
      /DATABASE_URL selects PostgreSQL: back it up with pg_dump, e\.g\. `pg_dump --format=custom --file usersync\.dump "\$DATABASE_URL"`/,
    );
  });
});
