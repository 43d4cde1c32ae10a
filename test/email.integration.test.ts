import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startEmulator, type Emulator } from '../src/emulator/server.ts';
import { openStore, saveSettings } from '../src/store/index.ts';
import { cliEnv, runCli } from './support/cli.ts';
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

// Mail against a real SMTP server (smtp-server, parsed with mailparser), on SQLite and PostgreSQL: welcome mails to the
// users a sync creates, reports to administrators (test sync, held leavers), and a mail server that is down: the run
// is not slowed or failed, the mail stays queued and is sent once the server is back, exactly once.

interface Received {
  to: string[];
  subject: string;
  text: string;
}

function smtp(port = 0) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
          });
          callback();
        })
        .catch(callback);
    },
  });
  return {
    received,
    async start(): Promise<number> {
      server.listen(port, '127.0.0.1');
      await once(server.server, 'listening');
      port = (server.server.address() as AddressInfo).port;
      return port;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function emailSuite(makeTarget: () => Target) {
  let emulator: Emulator;
  let target: Target;
  let mailServer: ReturnType<typeof smtp>;
  let port: number;
  const env = () => ({ ...cliEnv(emulator, target), USERSYNC_SMTP_URL: `smtp://127.0.0.1:${port}` });
  const sync = async (...args: string[]) => {
    const run = await runCli(['sync', '--json', ...args], env());
    return { run, summary: JSON.parse(run.stdout.trim().split('\n').pop()!) };
  };

  before(async () => {
    target = makeTarget();
    await target.setup();
    emulator = await startEmulator({ users: 8, groups: 1, seed: 'email' });
    mailServer = smtp();
    port = await mailServer.start();
    const store = await openStore(target.options());
    try {
      await saveSettings(
        store.db,
        'default',
        {
          email: {
            from: 'usersync <noreply@contoso.com>',
            welcome: {
              enabled: true,
              subject: 'Welcome aboard, {{firstName}}',
              text: 'Your login is {{loginAccount}}.',
            },
            reports: { to: ['it-admin@contoso.com'] },
          },
        },
        'test',
      );
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await mailServer.stop();
    await emulator.stop();
    await target.teardown();
  });

  it('a test sync (dry run) mails its report with the changes it would make, and welcomes nobody', async () => {
    const { run } = await sync('--dry-run');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(mailServer.received.length, 1);
    const [report] = mailServer.received;
    assert.deepEqual(report.to, ['it-admin@contoso.com']);
    assert.equal(report.subject, 'usersync: test sync of "default"');
    assert.match(report.text, /Test sync \(nothing was written\) of "default": succeeded/);
    assert.match(report.text, /created user [^\s]+@contoso\.com: loginAccount/);
  });

  it('the first sync welcomes every created user with a mail address, once', async () => {
    mailServer.received.length = 0;
    const { run, summary } = await sync();
    assert.equal(run.code, 0, run.stderr);
    const withMail = [...emulator.tenant.liveUsers()]
      .map((i) => emulator.tenant.user(i))
      .filter((u) => u.mail && u.accountEnabled !== false);
    assert.equal(summary.users.created, 8);
    assert.equal(mailServer.received.length, withMail.length);
    const first = withMail[0];
    const mail = mailServer.received.find((m) => m.to[0] === first.mail)!;
    assert.equal(mail.subject, `Welcome aboard, ${first.givenName}`);
    assert.equal(mail.text.trim(), `Your login is ${first.userPrincipalName}.`);
    await sync();
    assert.equal(mailServer.received.length, withMail.length, 'nobody is welcomed twice');
  });

  it('with the mail server down the run is neither slowed nor failed; the mail is sent once the server is back', async () => {
    await mailServer.stop();
    mailServer.received.length = 0;
    emulator.tenant.createUser({
      userPrincipalName: 'late.hire@contoso.com',
      displayName: 'Late Hire',
      givenName: 'Late',
      mail: 'late.hire@contoso.com',
    });
    const started = Date.now();
    const { run, summary } = await sync();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(summary.users.created, 1);
    assert.ok(Date.now() - started < 20_000, 'the mail server being down costs seconds at most');
    assert.match(run.stderr, /1 mail could not be sent now .*stay queued/);
    const shown = JSON.parse((await runCli(['runs', 'show', summary.runId, '--json'], env())).stdout);
    assert.equal(shown.mails.length, 1);
    assert.equal(shown.mails[0].status, 'queued');
    assert.equal(shown.mails[0].attempts, 1);

    mailServer = smtp(port);
    await mailServer.start();
    // The retry waits its backoff (a minute): a run before then leaves it queued; the test moves the clock instead.
    const store = await openStore(target.options());
    try {
      await store.db
        .updateTable('outbox')
        .set({ next_attempt_at: new Date(0).toISOString() })
        .execute();
    } finally {
      await store.close();
    }
    await sync();
    assert.deepEqual(
      mailServer.received.map((m) => m.to[0]),
      ['late.hire@contoso.com'],
    );
    await sync();
    assert.equal(mailServer.received.length, 1, 'sent exactly once');
    const after = JSON.parse((await runCli(['runs', 'show', summary.runId, '--json'], env())).stdout);
    assert.equal(after.mails[0].status, 'sent');
  });

  it('a failed sync is reported to the administrators with its reason and what to do', async () => {
    mailServer.received.length = 0;
    const email = {
      from: 'usersync <noreply@contoso.com>',
      reports: { to: ['it-admin@contoso.com'], on: ['failed'] },
    };
    const save = async (document: Record<string, unknown>) => {
      const store = await openStore(target.options());
      try {
        await saveSettings(store.db, 'default', document, 'test');
      } finally {
        await store.close();
      }
    };
    // A mapping that fails for every user: the settings are wrong, so the run fails.
    await save({ email, mapping: { fields: { loginAccount: { constant: '' } } } });
    const run = await runCli(['sync', '--json'], env());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /The mapping failed for \d+ of \d+ users/);
    assert.equal(mailServer.received.length, 1);
    const [report] = mailServer.received;
    assert.equal(report.subject, 'usersync: a sync of "default" failed');
    assert.match(report.text, /The mapping failed for/);
    assert.match(report.text, /What to do: check the mapping on one user with `usersync preview USER`/);
    await save({ email: { ...email, reports: { to: ['it-admin@contoso.com'] } } });
  });

  it('held leavers are reported to the administrators', async () => {
    mailServer.received.length = 0;
    // Every user gone at once (an outage, a removed permission): held whatever the numbers.
    const live = [...emulator.tenant.liveUsers()].map((i) => String(emulator.tenant.user(i).id));
    for (const id of live) emulator.tenant.deleteUser(id);
    const { run } = await sync();
    assert.equal(run.code, 3);
    const report = mailServer.received.find((m) => m.to[0] === 'it-admin@contoso.com')!;
    assert.equal(report.subject, 'usersync: leavers of "default" are held for your decision');
    assert.match(report.text, new RegExp(`${live.length} leavers are held \\(every one of the`));
    assert.match(report.text, /usersync approve --all/);
  });
}

describe('email on SQLite', () => emailSuite(sqliteTarget));
describe('email on PostgreSQL', async () => {
  const reason = await postgresUnreachable();
  if (reason) it.skip(reason, () => {});
  else emailSuite(postgresTarget);
});
