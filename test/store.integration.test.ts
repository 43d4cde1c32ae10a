import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  acquireRunLock,
  appendAudit,
  auditPage,
  purgeAudit,
  addMembers,
  countUsers,
  deletePhoto,
  ensureDepartments,
  finishRun,
  getGroupFingerprints,
  getGroupsByIds,
  getPhoto,
  getPhotoEtags,
  getRun,
  getSyncState,
  getUserFingerprints,
  getUsersByIds,
  groupsNotSeen,
  insertRun,
  closeInterruptedRuns,
  listDepartments,
  listDirectoryGroups,
  listDirectoryUsers,
  pagesOfDirectoryUsers,
  listGroupMembers,
  listRuns,
  markGroupsSeen,
  markUsersSeen,
  missingDepartments,
  openStore,
  removeMembers,
  removeMembersNotSeen,
  runLockName,
  saveSyncState,
  setGroupStates,
  setRunStatus,
  setUserStates,
  StoreError,
  transaction,
  upsertGroups,
  upsertPhoto,
  upsertUsers,
  usersNotSeen,
  type DirectoryGroupInput,
  type DirectoryUserInput,
  type OpenStoreOptions,
  type Store,
} from '../src/store/index.ts';

// One suite, run against the embedded SQLite store and against PostgreSQL.
import { postgresTarget, postgresUnreachable, sqliteTarget, type Target } from './support/targets.ts';

const STORE_MODULE = pathToFileURL(fileURLToPath(new URL('../src/store/index.ts', import.meta.url))).href;

let nextConnection = 0;
const newConnection = () => `conn-${process.pid}-${++nextConnection}`;

function user(id: string, fields: Partial<DirectoryUserInput> = {}): DirectoryUserInput {
  return {
    external_id: id,
    login_account: `${id}@contoso.com`,
    name: `User ${id}`,
    email: `${id}@contoso.com`,
    first_name: 'First',
    last_name: 'Last',
    user_type: 'Member',
    job_title: null,
    department: null,
    manager_external_id: null,
    country: null,
    office_location: null,
    city: null,
    mobile_phone: null,
    postal_code: null,
    company_name: null,
    employee_no: null,
    fax_number: null,
    account_enabled: true,
    source_state: 'present',
    status: 'active',
    fingerprint: `fp-${id}`,
    ...fields,
  };
}

function group(id: string, fields: Partial<DirectoryGroupInput> = {}): DirectoryGroupInput {
  return {
    external_id: id,
    name: `Group ${id}`,
    type: 'security',
    source_state: 'present',
    fingerprint: `fp-${id}`,
    ...fields,
  };
}

const pad = (i: number) => String(i).padStart(5, '0');

/** Starts a process that takes the run lock and keeps it until killed. */
async function lockInChild(
  options: OpenStoreOptions,
  connectionId: string,
): Promise<{ pid: number; kill(): Promise<void> }> {
  const code = `
    const { openStore, acquireRunLock } = await import(${JSON.stringify(STORE_MODULE)});
    const store = await openStore(JSON.parse(process.argv[1]));
    await acquireRunLock(store, process.argv[2], { heartbeatMs: 100 });
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(options), connectionId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock child exited (${code}) before locking: ${stderr}`)));
  });
  return {
    pid: child.pid!,
    async kill() {
      child.kill('SIGKILL');
      await exited; // reaped: its pid no longer answers process.kill(pid, 0)
    },
  };
}

function storeSuite(dialect: 'sqlite' | 'postgres', target: Target) {
  let store: Store;
  const opened: Store[] = [];
  const open = async () => {
    const s = await openStore(target.options());
    opened.push(s);
    return s;
  };

  before(async () => {
    await target.setup();
    store = await open();
  });

  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    await target.teardown();
  });

  it('opens the right dialect and migrates idempotently on reopen', async () => {
    assert.equal(store.dialect, dialect);
    const conn = newConnection();
    await upsertUsers(store.db, conn, [user('a')]);
    const again = await open();
    assert.equal(again.dialect, dialect);
    const migrations = await again.db
      .selectFrom('kysely_migration' as any)
      .select('name' as any)
      .execute();
    assert.deepEqual(
      migrations.map((m: any) => m.name),
      [
        '001-directory',
        '002-photo-pending',
        '003-run-process',
        '004-settings',
        '005-run-error',
        '006-source-mirror',
        '007-leavers',
        '008-audit',
        '009-outbox',
        '010-app-memberships',
        '011-service',
        '012-console',
      ],
    );
    assert.equal(await countUsers(again.db, conn), 1);
    await again.close();
    opened.splice(opened.indexOf(again), 1);
  });

  describe('users', () => {
    it('round-trips every field, with booleans and custom fields decoded', async () => {
      const conn = newConnection();
      const full = user('u1', {
        job_title: 'Engineer',
        department: 'R&D',
        country: 'NL',
        office_location: 'Amsterdam',
        city: 'Amsterdam',
        mobile_phone: '+31 6',
        postal_code: '1011',
        company_name: 'Contoso',
        employee_no: 'E1',
        fax_number: '+31 20',
        user_type: 'Guest',
        account_enabled: false,
        custom_fields: { costCenter: 'CC-1', level: 3 },
      });
      await upsertUsers(store.db, conn, [full, user('u2')]);
      const [u1, u2] = (await getUsersByIds(store.db, conn, ['u2', 'u1', 'nope'])).sort((a, b) =>
        a.external_id.localeCompare(b.external_id),
      );
      assert.equal(u1.account_enabled, false);
      assert.deepEqual(u1.custom_fields, { costCenter: 'CC-1', level: 3 });
      assert.equal(u1.employee_no, 'E1');
      assert.equal(u1.fax_number, '+31 20');
      assert.equal(u1.seen_round, null);
      assert.match(u1.created_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal(u2.account_enabled, true);
      assert.deepEqual(u2.custom_fields, {});
      assert.equal((u1 as any).connection_id, undefined);
      assert.equal(await countUsers(store.db, 'another-connection'), 0);
    });

    it('updates on upsert, keeping created_at and the optional fields left undefined', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [user('u1', { seen_round: 'r1', photo_pending: 1, custom_fields: { a: 1 } })]);
      const [before] = await getUsersByIds(store.db, conn, ['u1']);
      await new Promise((r) => setTimeout(r, 5));
      await upsertUsers(store.db, conn, [user('u1', { name: 'Renamed', fingerprint: 'fp2' })]);
      const [after] = await getUsersByIds(store.db, conn, ['u1']);
      assert.equal(after.name, 'Renamed');
      assert.equal(after.fingerprint, 'fp2');
      assert.equal(after.created_at, before.created_at);
      assert.ok(after.updated_at > before.updated_at);
      assert.equal(after.seen_round, 'r1');
      assert.equal(after.photo_pending, 1);
      assert.deepEqual(after.custom_fields, { a: 1 });
      await upsertUsers(store.db, conn, [user('u1', { photo_pending: 0, seen_round: null, custom_fields: {} })]);
      const [cleared] = await getUsersByIds(store.db, conn, ['u1']);
      assert.equal(cleared.photo_pending, 0);
      assert.equal(cleared.seen_round, null);
      assert.deepEqual(cleared.custom_fields, {});
    });

    it('sets states, marks rounds, finds users not seen, counts and fingerprints', async () => {
      const conn = newConnection();
      await upsertUsers(
        store.db,
        conn,
        ['a', 'b', 'c', 'd'].map((id) => user(id)),
      );
      assert.equal(await setUserStates(store.db, conn, ['d'], { source_state: 'deleted', status: 'disabled' }), 1);
      await markUsersSeen(store.db, conn, ['a', 'c'], 'round-1');
      assert.deepEqual(await usersNotSeen(store.db, conn, 'round-1'), ['b']);
      assert.equal(
        await setUserStates(store.db, conn, ['b', 'zzz'], {
          source_state: 'missing',
          status: 'disabled',
          account_enabled: false,
        }),
        1,
      );
      assert.deepEqual(await usersNotSeen(store.db, conn, 'round-1'), []);
      const [b] = await getUsersByIds(store.db, conn, ['b']);
      assert.equal(b.source_state, 'missing');
      assert.equal(b.status, 'disabled');
      assert.equal(b.account_enabled, false);
      assert.equal(await countUsers(store.db, conn), 4);
      assert.equal(await countUsers(store.db, conn, { source_state: 'present' }), 2);
      assert.equal(await countUsers(store.db, conn, { status: 'disabled' }), 2);
      const fps = await getUserFingerprints(store.db, conn, ['a', 'd', 'x']);
      assert.deepEqual(fps.get('a'), {
        fingerprint: 'fp-a',
        source_state: 'present',
        status: 'active',
        seen_round: 'round-1',
      });
      assert.deepEqual(fps.get('d'), {
        fingerprint: 'fp-d',
        source_state: 'deleted',
        status: 'disabled',
        seen_round: null,
      });
      assert.equal(fps.has('x'), false);
    });

    it('pages through the listing in order without skipping or repeating anyone', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [
        user('u-5', { login_account: 'eve@contoso.com' }),
        user('u-1', { login_account: 'dup@contoso.com' }),
        user('u-2', { login_account: 'dup@contoso.com' }),
        user('u-3', { login_account: null }),
        user('u-4', { login_account: null }),
        user('u-6', { login_account: 'amy@contoso.com' }),
        user('u-7', { login_account: 'zed@contoso.com' }),
      ]);
      const paged: string[] = [];
      for await (const page of pagesOfDirectoryUsers(store.db, conn, 2)) {
        assert.ok(page.length <= 2);
        paged.push(...page.map((u) => u.externalId));
      }
      assert.deepEqual(paged, ['u-3', 'u-4', 'u-6', 'u-1', 'u-2', 'u-5', 'u-7']);
      assert.deepEqual(
        (await listDirectoryUsers(store.db, conn)).map((u) => u.externalId),
        paged,
      );
    });

    it('lists users in the contract shape, ordered by loginAccount', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [
        user('u-b', { login_account: 'bob@contoso.com', department: 'Sales', employee_no: '7' }),
        user('u-a', { login_account: 'Alice@contoso.com', status: 'disabled', account_enabled: false }),
        user('u-c', { login_account: 'alice@contoso.com' }),
      ]);
      await upsertPhoto(store.db, conn, {
        externalId: 'u-b',
        sha256: 'f'.repeat(64),
        contentType: 'image/jpeg',
        bytes: new Uint8Array([1, 2]),
        etag: null,
      });
      const list = await listDirectoryUsers(store.db, conn);
      assert.deepEqual(
        list.map((u) => u.loginAccount),
        ['Alice@contoso.com', 'alice@contoso.com', 'bob@contoso.com'],
      );
      assert.deepEqual(Object.keys(list[0]), [
        'externalId',
        'loginAccount',
        'name',
        'email',
        'firstName',
        'lastName',
        'userType',
        'jobTitle',
        'department',
        'lineManager',
        'country',
        'officeLocation',
        'city',
        'mobilePhone',
        'postalCode',
        'companyName',
        'employeeNo',
        'faxNumber',
        'photo',
        'status',
        'custom',
      ]);
      assert.equal(list[0].status, 'disabled');
      assert.deepEqual(list[2], {
        externalId: 'u-b',
        loginAccount: 'bob@contoso.com',
        name: 'User u-b',
        email: 'u-b@contoso.com',
        firstName: 'First',
        lastName: 'Last',
        userType: 'Member',
        jobTitle: null,
        department: 'Sales',
        lineManager: null,
        country: null,
        officeLocation: null,
        city: null,
        mobilePhone: null,
        postalCode: null,
        companyName: null,
        employeeNo: '7',
        faxNumber: null,
        photo: 'f'.repeat(64),
        status: 'active',
        custom: {},
      });
    });

    it('resolves lineManager only while the manager row is present, and fills it in when the manager arrives later', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [user('emp', { manager_external_id: 'boss' })]);
      const lineManager = async () =>
        (await listDirectoryUsers(store.db, conn)).find((u) => u.externalId === 'emp')!.lineManager;
      assert.equal(await lineManager(), null, 'manager outside the synced set');
      await upsertUsers(store.db, conn, [user('boss', { login_account: 'boss@contoso.com' })]);
      assert.equal(await lineManager(), 'boss@contoso.com', 'manager joined later');
      await upsertUsers(store.db, conn, [user('boss', { login_account: 'chief@contoso.com' })]);
      assert.equal(await lineManager(), 'chief@contoso.com', 'manager renamed');
      await setUserStates(store.db, conn, ['boss'], { source_state: 'deleted', status: 'disabled' });
      assert.equal(await lineManager(), null, 'manager deleted in Entra');
      await setUserStates(store.db, conn, ['boss'], { source_state: 'missing' });
      assert.equal(await lineManager(), null, 'manager missing from a full read');
      await setUserStates(store.db, conn, ['boss'], { source_state: 'present', status: 'active' });
      assert.equal(await lineManager(), 'chief@contoso.com', 'manager restored');
    });

    it('handles more than 2,000 users in every bulk function', async () => {
      const conn = newConnection();
      const many = Array.from({ length: 2600 }, (_, i) =>
        user(`m${pad(i)}`, { department: `Dept ${i % 7}`, manager_external_id: i > 0 ? 'm00000' : null }),
      );
      await transaction(store, (trx) => upsertUsers(trx, conn, many));
      assert.equal(await countUsers(store.db, conn), 2600);
      const ids = many.map((u) => u.external_id);
      assert.equal((await getUsersByIds(store.db, conn, ids)).length, 2600);
      assert.equal((await getUserFingerprints(store.db, conn, ids)).size, 2600);
      await transaction(store, (trx) => markUsersSeen(trx, conn, ids.slice(0, 2100), 'r'));
      assert.deepEqual(await usersNotSeen(store.db, conn, 'r'), ids.slice(2100));
      assert.equal(await setUserStates(store.db, conn, ids.slice(100), { status: 'disabled' }), 2500);
      // Re-upsert with a changed field: updates, no duplicates.
      await transaction(store, (trx) =>
        upsertUsers(
          trx,
          conn,
          many.map((u) => ({ ...u, job_title: 'T' })),
        ),
      );
      const list = await listDirectoryUsers(store.db, conn);
      assert.equal(list.length, 2600);
      assert.ok(list.every((u) => u.jobTitle === 'T'));
      assert.equal(list.at(-1)!.lineManager, 'm00000@contoso.com');
      const groupMembers = ids.map((id) => ({ id, kind: 'user' as const }));
      await upsertGroups(store.db, conn, [group('big')]);
      await transaction(store, (trx) => addMembers(trx, conn, 'big', groupMembers, 'r'));
      assert.equal((await listDirectoryGroups(store.db, conn))[0].members.length, 2600);
      assert.equal(await removeMembers(store.db, conn, 'big', ids.slice(0, 2200)), 2200);
      assert.equal((await listGroupMembers(store.db, conn, 'big')).length, 400);
      const names = Array.from({ length: 2300 }, (_, i) => `Unit ${pad(i)}`);
      assert.equal(await ensureDepartments(store.db, conn, names, 'run-1'), 2300);
      assert.equal(await ensureDepartments(store.db, conn, names, 'run-2'), 0);
    });
  });

  describe('groups', () => {
    it('upserts, reads, sets states and finds groups not seen', async () => {
      const conn = newConnection();
      await upsertGroups(store.db, conn, [
        group('g1', { type: 'microsoft365' }),
        group('g2', { seen_round: 'r1' }),
        group('g3'),
      ]);
      await upsertGroups(store.db, conn, [group('g1', { name: 'Renamed', type: 'microsoft365', fingerprint: 'x' })]);
      const [g1] = await getGroupsByIds(store.db, conn, ['g1']);
      assert.equal(g1.name, 'Renamed');
      assert.equal(g1.type, 'microsoft365');
      assert.equal(g1.fingerprint, 'x');
      await markGroupsSeen(store.db, conn, ['g1'], 'r1');
      assert.deepEqual(await groupsNotSeen(store.db, conn, 'r1'), ['g3']);
      assert.equal(await setGroupStates(store.db, conn, ['g3'], { source_state: 'deleted' }), 1);
      assert.deepEqual(await groupsNotSeen(store.db, conn, 'r1'), []);
      const fps = await getGroupFingerprints(store.db, conn, ['g1', 'g3']);
      assert.deepEqual(fps.get('g3'), { fingerprint: 'fp-g3', source_state: 'deleted', seen_round: null });
    });

    it('lists present groups by name with the sorted loginAccounts of present direct user members', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [
        user('u1', { login_account: 'zed@contoso.com' }),
        user('u2', { login_account: 'amy@contoso.com', status: 'disabled', account_enabled: false }),
        user('u3', { login_account: 'gone@contoso.com', source_state: 'deleted', status: 'disabled' }),
        user('u4', { login_account: 'missing@contoso.com', source_state: 'missing', status: 'disabled' }),
      ]);
      await upsertGroups(store.db, conn, [
        group('g-b', { name: 'Beta', type: 'distribution' }),
        group('g-a2', { name: 'Alpha' }),
        group('g-a1', { name: 'Alpha', type: 'mail-enabled-security' }),
        group('g-del', { name: 'Deleted', source_state: 'deleted' }),
      ]);
      await addMembers(store.db, conn, 'g-b', [
        { id: 'u1', kind: 'user' },
        { id: 'u2', kind: 'user' },
        { id: 'u3', kind: 'user' },
        { id: 'u4', kind: 'user' },
        { id: 'g-a1', kind: 'group' },
        { id: 'not-synced', kind: 'user' },
      ]);
      await addMembers(store.db, conn, 'g-del', [{ id: 'u1', kind: 'user' }]);
      assert.deepEqual(await listDirectoryGroups(store.db, conn), [
        { externalId: 'g-a1', name: 'Alpha', type: 'mail-enabled-security', members: [], appGroup: 'Alpha' },
        { externalId: 'g-a2', name: 'Alpha', type: 'security', members: [], appGroup: 'Alpha' },
        {
          externalId: 'g-b',
          name: 'Beta',
          type: 'distribution',
          members: ['amy@contoso.com', 'zed@contoso.com'],
          appGroup: 'Beta',
        },
      ]);
      assert.deepEqual(await listGroupMembers(store.db, conn, 'g-b'), [
        { id: 'g-a1', kind: 'group' },
        { id: 'not-synced', kind: 'user' },
        { id: 'u1', kind: 'user' },
        { id: 'u2', kind: 'user' },
        { id: 'u3', kind: 'user' },
        { id: 'u4', kind: 'user' },
      ]);
      // A member who joins the directory later appears without touching the membership.
      await upsertUsers(store.db, conn, [user('not-synced', { login_account: 'late@contoso.com' })]);
      const beta = (await listDirectoryGroups(store.db, conn)).find((g) => g.externalId === 'g-b')!;
      assert.deepEqual(beta.members, ['amy@contoso.com', 'late@contoso.com', 'zed@contoso.com']);
    });

    it('adds idempotently, removes, and removes members not seen in a round', async () => {
      const conn = newConnection();
      await upsertUsers(
        store.db,
        conn,
        ['a', 'b', 'c'].map((id) => user(id)),
      );
      await upsertGroups(store.db, conn, [group('g1'), group('g2')]);
      await addMembers(store.db, conn, 'g1', [
        { id: 'a', kind: 'user' },
        { id: 'b', kind: 'user' },
        { id: 'a', kind: 'user' },
      ]);
      await addMembers(store.db, conn, 'g1', [{ id: 'a', kind: 'user' }]);
      await addMembers(store.db, conn, 'g2', [{ id: 'c', kind: 'user' }]);
      assert.deepEqual(
        (await listGroupMembers(store.db, conn, 'g1')).map((m) => m.id),
        ['a', 'b'],
      );
      assert.equal(await removeMembers(store.db, conn, 'g1', ['b', 'zzz']), 1);
      assert.deepEqual(
        (await listGroupMembers(store.db, conn, 'g1')).map((m) => m.id),
        ['a'],
      );

      await addMembers(
        store.db,
        conn,
        'g1',
        [
          { id: 'b', kind: 'user' },
          { id: 'c', kind: 'user' },
        ],
        'round-2',
      );
      assert.equal(await removeMembersNotSeen(store.db, conn, ['g1'], 'round-2'), 1, 'a was not seen in round-2');
      assert.deepEqual(
        (await listGroupMembers(store.db, conn, 'g1')).map((m) => m.id),
        ['b', 'c'],
      );
      assert.deepEqual(
        (await listGroupMembers(store.db, conn, 'g2')).map((m) => m.id),
        ['c'],
        'other groups untouched',
      );
    });
  });

  describe('departments', () => {
    it('creates each department once and reports how many were new', async () => {
      const conn = newConnection();
      assert.deepEqual(await missingDepartments(store.db, conn, ['Sales', 'R&D', '', null]), ['Sales', 'R&D']);
      assert.equal(await ensureDepartments(store.db, conn, ['Sales', 'R&D', 'Sales', '', null, undefined], 'run-1'), 2);
      assert.equal(await ensureDepartments(store.db, conn, ['Sales', 'Marketing'], 'run-2'), 1);
      assert.equal(await ensureDepartments(store.db, conn, [], 'run-3'), 0);
      assert.deepEqual(await missingDepartments(store.db, conn, ['Sales', 'Legal']), ['Legal']);
      const rows = await store.db
        .selectFrom('departments')
        .selectAll()
        .where('connection_id', '=', conn)
        .orderBy('name')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.name, r.created_run_id]),
        [
          ['Marketing', 'run-2'],
          ['R&D', 'run-1'],
          ['Sales', 'run-1'],
        ],
      );
    });

    it('lists departments by name with the sorted loginAccounts of present users', async () => {
      const conn = newConnection();
      await ensureDepartments(store.db, conn, ['Sales', 'Empty', 'R&D'], 'run');
      await upsertUsers(store.db, conn, [
        user('s2', { login_account: 'zoe@contoso.com', department: 'Sales' }),
        user('s1', {
          login_account: 'adam@contoso.com',
          department: 'Sales',
          status: 'disabled',
          account_enabled: false,
        }),
        user('s3', {
          login_account: 'old@contoso.com',
          department: 'Sales',
          source_state: 'deleted',
          status: 'disabled',
        }),
        user('r1', { login_account: 'rita@contoso.com', department: 'R&D' }),
        user('n1', { login_account: 'nobody@contoso.com', department: null }),
      ]);
      assert.deepEqual(await listDepartments(store.db, conn), [
        { name: 'Empty', members: [] },
        { name: 'R&D', members: ['rita@contoso.com'] },
        { name: 'Sales', members: ['adam@contoso.com', 'zoe@contoso.com'] },
      ]);
    });
  });

  describe('photos', () => {
    it('round-trips the bytes and keeps the user photo hash and etags in step', async () => {
      const conn = newConnection();
      await upsertUsers(store.db, conn, [user('p1'), user('p2')]);
      const bytes = new Uint8Array(70_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256; // every byte value, NULs included
      await upsertPhoto(store.db, conn, {
        externalId: 'p1',
        sha256: 'a'.repeat(64),
        contentType: 'image/jpeg',
        bytes,
        etag: 'W/"1"',
      });
      const got = await getPhoto(store.db, conn, 'p1');
      assert.ok(got);
      assert.equal(got.contentType, 'image/jpeg');
      assert.equal(got.etag, 'W/"1"');
      assert.equal(got.bytes.length, bytes.length);
      assert.deepEqual(Buffer.from(got.bytes), Buffer.from(bytes));
      assert.equal(
        (await listDirectoryUsers(store.db, conn)).find((u) => u.externalId === 'p1')!.photo,
        'a'.repeat(64),
      );

      const changed = Buffer.from([0xff, 0xd8, 0x00, 0x01]);
      await upsertPhoto(store.db, conn, {
        externalId: 'p1',
        sha256: 'b'.repeat(64),
        contentType: 'image/png',
        bytes: changed,
        etag: 'W/"2"',
      });
      await upsertPhoto(store.db, conn, {
        externalId: 'p2',
        sha256: 'c'.repeat(64),
        contentType: null,
        bytes: new Uint8Array([1]),
        etag: null,
      });
      assert.deepEqual(Buffer.from((await getPhoto(store.db, conn, 'p1'))!.bytes), changed);
      assert.deepEqual(
        await getPhotoEtags(store.db, conn),
        new Map([
          ['p1', 'W/"2"'],
          ['p2', null],
        ]),
      );
      assert.equal(
        (await listDirectoryUsers(store.db, conn)).find((u) => u.externalId === 'p1')!.photo,
        'b'.repeat(64),
      );

      assert.equal(await deletePhoto(store.db, conn, 'p1'), true);
      assert.equal(await deletePhoto(store.db, conn, 'p1'), false);
      assert.equal(await getPhoto(store.db, conn, 'p1'), undefined);
      assert.equal((await listDirectoryUsers(store.db, conn)).find((u) => u.externalId === 'p1')!.photo, null);
      assert.deepEqual([...(await getPhotoEtags(store.db, conn)).keys()], ['p2']);
    });
  });

  describe('audit trail', () => {
    it('appends entries in order, reads them per object and per run, and retention deletes the oldest a slice at a time', async () => {
      const conn = newConnection();
      await appendAudit(
        store.db,
        conn,
        [
          {
            objectType: 'user',
            objectId: 'u1',
            action: 'created',
            changes: [{ field: 'name', from: null, to: 'Ann' }],
          },
          { objectType: 'user', objectId: 'u2', action: 'created' },
        ],
        { runId: 'r1', actor: 'sync' },
      );
      await appendAudit(store.db, conn, [{ objectType: 'user', objectId: 'u1', action: 'held' }], {
        runId: null,
        actor: 'ann@host (command line)',
      });
      const u1 = await auditPage(store.db, { connectionId: conn, objectId: 'u1' }, 0, 100);
      assert.deepEqual(
        u1.map((e) => [e.action, e.actor, e.changes]),
        [
          ['created', 'sync', [{ field: 'name', from: null, to: 'Ann' }]],
          ['held', 'ann@host (command line)', null],
        ],
      );
      assert.equal((await auditPage(store.db, { connectionId: conn, runId: 'r1' }, 0, 100)).length, 2);
      // Everything is older than "tomorrow": a slice of 2 goes first, then the rest.
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
      assert.equal(await purgeAudit(store.db, conn, tomorrow, 2), 2);
      assert.deepEqual(
        (await auditPage(store.db, { connectionId: conn }, 0, 100)).map((e) => e.action),
        ['held'],
      );
      assert.equal(await purgeAudit(store.db, conn, new Date(0).toISOString(), 100), 0, 'nothing is older than 1970');
      assert.equal(await purgeAudit(store.db, conn, tomorrow, 100), 1);
    });
  });

  describe('sync state', () => {
    it('starts empty, saves patches, and clears with null', async () => {
      const conn = newConnection();
      const empty = await getSyncState(store.db, conn);
      assert.deepEqual(empty, {
        connection_id: conn,
        users_delta_link: null,
        users_next_link: null,
        groups_delta_link: null,
        groups_next_link: null,
        round_id: null,
        round_mode: null,
        users_round_mode: null,
        groups_round_mode: null,
        photo_sweep_after: null,
        last_photo_sweep_at: null,
        users_select: null,
        applied_settings_version: null,
        project_after: null,
        read_scope: null,
        updated_at: null,
      });
      await saveSyncState(store.db, conn, {
        users_next_link: 'https://graph/next1',
        round_id: 'r1',
        round_mode: 'full',
      });
      await saveSyncState(store.db, conn, { users_delta_link: 'https://graph/delta', users_next_link: null });
      const state = await getSyncState(store.db, conn);
      assert.equal(state.users_delta_link, 'https://graph/delta');
      assert.equal(state.users_next_link, null);
      assert.equal(state.round_id, 'r1');
      assert.equal(state.round_mode, 'full');
      assert.equal(state.groups_delta_link, null);
      assert.match(state.updated_at!, /^\d{4}-/);
      assert.equal((await getSyncState(store.db, newConnection())).round_id, null);
    });
  });

  describe('runs', () => {
    it('records a run from start to finish and lists the newest first', async () => {
      const conn = newConnection();
      await insertRun(store.db, {
        id: 'run-1',
        connection_id: conn,
        mode: 'full',
        dry_run: false,
        started_at: '2025-01-01T00:00:00.000Z',
      });
      await insertRun(store.db, {
        id: 'run-2',
        connection_id: conn,
        mode: 'delta',
        dry_run: true,
        status: 'queued',
        started_at: '2025-01-02T00:00:00.000Z',
      });
      await insertRun(store.db, {
        id: 'run-3',
        connection_id: conn,
        mode: 'delta',
        dry_run: false,
        started_at: '2025-01-03T00:00:00.000Z',
      });
      await setRunStatus(store.db, 'run-2', 'running');
      const summary = { users: { created: 3, updated: 0 }, departments: { created: 1 } };
      await finishRun(store.db, 'run-2', {
        status: 'succeeded',
        finished_at: '2025-01-02T00:00:01.500Z',
        duration_ms: 1500.4,
        summary,
        graph_requests: 12,
        fell_back_to_full: true,
        mode: 'full',
      });
      await finishRun(store.db, 'run-1', {
        status: 'failed',
        failure: {
          code: 'permission_denied',
          message: 'Graph denied /users (403)',
          hint: 'grant User.Read.All',
          context: { connectionId: conn, object: '/users' },
        },
      });
      const run2 = await getRun(store.db, 'run-2');
      assert.deepEqual(run2, {
        id: 'run-2',
        connection_id: conn,
        mode: 'full',
        dry_run: true,
        status: 'succeeded',
        started_at: '2025-01-02T00:00:00.000Z',
        finished_at: '2025-01-02T00:00:01.500Z',
        duration_ms: 1500,
        summary,
        graph_requests: 12,
        error: null,
        fell_back_to_full: true,
        pid: process.pid,
        host: hostname(),
        failure: null,
        trigger: 'cli',
        requested_by: null,
        queued_at: null,
        full_read: false,
        cancel_requested: false,
        changes: null,
        progress: null,
        draft_settings: null,
        throttled: null,
      });
      const runs = await listRuns(store.db, conn, 2);
      assert.deepEqual(
        runs.map((r) => r.id),
        ['run-3', 'run-2'],
      );
      assert.equal(runs[0].status, 'running');
      assert.equal(runs[0].fell_back_to_full, false);
      const run1 = (await listRuns(store.db, conn, 10)).at(-1)!;
      assert.equal(run1.status, 'failed');
      assert.equal(run1.error, 'Graph denied /users (403)');
      assert.deepEqual(run1.failure, {
        code: 'permission_denied',
        message: 'Graph denied /users (403)',
        hint: 'grant User.Read.All',
        context: { connectionId: conn, object: '/users' },
      });
      assert.ok(run1.finished_at);
    });
  });

  describe('interrupted runs', () => {
    it("closes the connection's runs left running as failed, naming their process and the resumer, and nothing else", async () => {
      const conn = newConnection();
      const other = newConnection();
      await insertRun(store.db, {
        id: `${conn}-dead`,
        connection_id: conn,
        mode: 'full',
        dry_run: false,
        pid: 4242,
        host: 'web-1',
      });
      await insertRun(store.db, { id: `${conn}-done`, connection_id: conn, mode: 'delta', dry_run: false });
      await finishRun(store.db, `${conn}-done`, { status: 'succeeded' });
      await insertRun(store.db, { id: `${other}-live`, connection_id: other, mode: 'delta', dry_run: false });
      await insertRun(store.db, { id: `${conn}-new`, connection_id: conn, mode: 'delta', dry_run: false });
      const closed = await closeInterruptedRuns(store.db, conn, `${conn}-new`, '2026-01-01T00:00:00.000Z');
      assert.deepEqual(
        closed.map((r) => r.id),
        [`${conn}-dead`],
      );
      const dead = (await getRun(store.db, `${conn}-dead`))!;
      assert.equal(dead.status, 'failed');
      assert.equal(dead.finished_at, '2026-01-01T00:00:00.000Z');
      assert.equal(
        dead.error,
        `interrupted: process 4242 on web-1 stopped without finishing; resumed by run ${conn}-new`,
      );
      assert.equal(dead.failure?.code, 'run_interrupted');
      assert.deepEqual(dead.failure?.context, {
        connectionId: conn,
        pid: 4242,
        host: 'web-1',
        resumedBy: `${conn}-new`,
      });
      assert.equal((await getRun(store.db, `${conn}-new`))!.status, 'running', 'the resumer itself is left alone');
      assert.equal(
        (await getRun(store.db, `${other}-live`))!.status,
        'running',
        "another connection's run is left alone",
      );
      assert.equal((await getRun(store.db, `${conn}-done`))!.status, 'succeeded');
      assert.deepEqual(await closeInterruptedRuns(store.db, conn, `${conn}-new`), [], 'a second call finds nothing');
    });
  });

  describe('transactions', () => {
    it('commits together, and rolls everything back when the function throws', async () => {
      const conn = newConnection();
      await transaction(store, async (trx) => {
        await upsertUsers(trx, conn, [user('t1')]);
        await saveSyncState(trx, conn, { users_delta_link: 'd1' });
      });
      await assert.rejects(
        transaction(store, async (trx) => {
          await upsertUsers(trx, conn, [user('t2')]);
          await saveSyncState(trx, conn, { users_delta_link: 'd2' });
          throw new Error('crash mid-page');
        }),
        /crash mid-page/,
      );
      assert.equal(await countUsers(store.db, conn), 1);
      assert.equal((await getSyncState(store.db, conn)).users_delta_link, 'd1');
    });
  });

  describe('run lock', () => {
    it('admits one holder per connection across two stores, naming the holder to the other', async () => {
      const conn = newConnection();
      const other = await open();
      const lock = await acquireRunLock(store, conn, { waitMs: 0 });
      const seen: unknown[] = [];
      await assert.rejects(
        acquireRunLock(other, conn, { waitMs: 300, pollMs: 50, onWait: (h) => seen.push(h) }),
        (error: unknown) => {
          assert.ok(error instanceof StoreError);
          assert.equal(error.code, 'RUN_LOCK_BUSY');
          assert.match(error.message, new RegExp(`connection "${conn}"`));
          assert.match(error.message, new RegExp(`pid ${process.pid} on host ${hostname()} since \\d{4}-`));
          assert.match(error.message, /Wait for it to finish/);
          return true;
        },
      );
      assert.equal(seen.length, 1);
      assert.equal((seen[0] as any).pid, process.pid);
      // A different connection is not blocked.
      const unrelated = await acquireRunLock(other, newConnection(), { waitMs: 0 });
      await unrelated.release();
      await lock.release();
      await lock.release(); // idempotent
      const next = await acquireRunLock(other, conn, { waitMs: 0 });
      await next.release();
    });

    it('waits for the holder to release, then acquires', async () => {
      const conn = newConnection();
      const other = await open();
      const lock = await acquireRunLock(store, conn);
      let waited = 0;
      const started = Date.now();
      setTimeout(() => void lock.release(), 400);
      const second = await acquireRunLock(other, conn, { waitMs: 10_000, pollMs: 50, onWait: () => waited++ });
      assert.equal(waited, 1);
      assert.ok(Date.now() - started >= 350, 'acquired only after the release');
      await assert.rejects(acquireRunLock(store, conn, { waitMs: 0 }), /is in progress/);
      await second.release();
    });

    it('takes over the lock of a killed process', { timeout: 60_000 }, async () => {
      const conn = newConnection();
      const child = await lockInChild(target.options(), conn);
      await assert.rejects(acquireRunLock(store, conn, { waitMs: 0 }), new RegExp(`pid ${child.pid} `));
      await child.kill();
      const started = Date.now();
      const lock = await acquireRunLock(store, conn, { waitMs: 15_000, pollMs: 50 });
      assert.ok(Date.now() - started < 10_000, 'a dead holder does not wait for the staleness timeout');
      await lock.release();
    });

    if (dialect === 'sqlite') {
      it('treats a lock without a recent heartbeat as stale, and a fresh one from another host as held', async () => {
        const conn = newConnection();
        const name = runLockName(conn);
        const now = new Date();
        const row = {
          name,
          owner: 'elsewhere',
          pid: 1,
          host: 'other-host',
          acquired_at: now.toISOString(),
          heartbeat_at: now.toISOString(),
        };
        await store.db.insertInto('locks').values(row).execute();
        await assert.rejects(acquireRunLock(store, conn, { waitMs: 0 }), /pid 1 on host other-host/);
        const old = new Date(now.getTime() - 31_000).toISOString();
        await store.db.updateTable('locks').set({ heartbeat_at: old }).where('name', '=', name).execute();
        const lock = await acquireRunLock(store, conn, { waitMs: 0 });
        await lock.release();
      });

      it('keeps the heartbeat fresh and signals the holder when its lock is taken over', async () => {
        const conn = newConnection();
        const name = runLockName(conn);
        const lock = await acquireRunLock(store, conn, { heartbeatMs: 30 });
        const first = (
          await store.db.selectFrom('locks').select('heartbeat_at').where('name', '=', name).executeTakeFirstOrThrow()
        ).heartbeat_at;
        await new Promise((r) => setTimeout(r, 150));
        const later = (
          await store.db.selectFrom('locks').select('heartbeat_at').where('name', '=', name).executeTakeFirstOrThrow()
        ).heartbeat_at;
        assert.ok(later > first, 'heartbeat refreshed');
        assert.equal(lock.signal.aborted, false);
        await store.db.updateTable('locks').set({ owner: 'usurper' }).where('name', '=', name).execute();
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(lock.signal.aborted, true);
        await lock.release();
        assert.ok(
          await store.db.selectFrom('locks').select('owner').where('name', '=', name).executeTakeFirst(),
          'release leaves the new owner alone',
        );
      });
    }
  });
}

describe('store on SQLite', () => storeSuite('sqlite', sqliteTarget()));

const pgSkip = await postgresUnreachable();
describe('store on PostgreSQL', { skip: pgSkip }, () => storeSuite('postgres', postgresTarget()));
