import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectToEmulator } from '../emulator/connect.ts';
import type { Emulator } from '../emulator/server.ts';
import { listDepartments, listDirectoryGroups, listDirectoryUsers, openStore } from '../store/index.ts';
import { runSync } from '../sync/run.ts';
import { describe } from './sync.ts';
import { printTable } from './table.ts';

// `npm start`: a sync of the emulated demo tenant into a fresh directory, a few changes made in
// "Entra", an incremental sync that picks them up, and the commands to keep exploring.

/** Returns the demo's store folder, which the caller removes when the emulator stops (its tenant is gone with it). */
export async function runDemo(emulator: Emulator): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'usersync-demo-'));
  const store = await openStore({ dataDir });
  const { http, close } = connectToEmulator(emulator);
  const out = (text: string) => process.stdout.write(text);
  try {
    out(
      `usersync demo — ${emulator.tenant.userCount()} users and ${emulator.tenant.groupCount()} groups of ${emulator.tenant.spec.domain}, served by the emulator at ${emulator.graphUrl}\n\n`,
    );
    out('1. First sync: a full read of the tenant into an empty directory.\n');
    out(describe(await runSync({ store, http })));
    const users = await listDirectoryUsers(store.db, 'default');
    printTable(
      users.slice(0, 12).map((u) => ({
        loginAccount: u.loginAccount,
        name: u.name,
        department: u.department,
        jobTitle: u.jobTitle,
        lineManager: u.lineManager,
        status: u.status,
      })),
      `… ${users.length} users in the directory`,
    );
    const groups = await listDirectoryGroups(store.db, 'default');
    printTable(
      groups.slice(0, 6).map((g) => ({ name: g.name, type: g.type, members: g.members.length })),
      `… ${groups.length} groups`,
    );
    out(`${(await listDepartments(store.db, 'default')).length} departments\n\n`);

    const t = emulator.tenant;
    const hire = t.createUser({
      userPrincipalName: 'new.hire@contoso.com',
      displayName: 'New Hire',
      givenName: 'New',
      surname: 'Hire',
      department: 'Research',
      jobTitle: 'Scientist',
      mail: 'new.hire@contoso.com',
    });
    t.setManager(hire.id, t.userIdOf(1));
    t.updateUser(t.userIdOf(5), { department: 'Strategy', jobTitle: 'Head of Strategy' });
    t.updateUser(t.userIdOf(6), { accountEnabled: false });
    t.deleteUser(t.userIdOf(7));
    t.setPhoto(t.userIdOf(8), 'generate');
    t.addMember(t.group(1).id, hire.id);
    out(
      '2. Meanwhile in Entra: a new hire (with a manager and a group), a department change, an account disabled,\n   a user deleted, a new photo. The second sync reads only the changes:\n',
    );
    out(describe(await runSync({ store, http })));
    const after = await listDirectoryUsers(store.db, 'default');
    const shown = new Set([hire.id, t.userIdOf(5), t.userIdOf(6), t.userIdOf(7)]);
    printTable(
      after
        .filter((u) => shown.has(u.externalId))
        .map((u) => ({
          loginAccount: u.loginAccount,
          department: u.department,
          jobTitle: u.jobTitle,
          lineManager: u.lineManager,
          status: u.status,
        })),
      '',
    );

    const env = { ...emulator.env(), USERSYNC_DATA: dataDir };
    out(
      `\n3. Go on from a shell (the emulator keeps running until Ctrl+C):\n${Object.entries(env)
        .map(([k, v]) => `  export ${k}='${v}'`)
        .join('\n')}\n`,
    );
    out(`  npx usersync sync            # picks up whatever changed
  npx usersync users list --json
  npx usersync groups list
  curl -s --cacert "$NODE_EXTRA_CA_CERTS" -X PATCH -H 'content-type: application/json' \\
    -d '{"jobTitle":"Astronaut"}' "$USERSYNC_GRAPH_URL/_emulator/users/${t.user(9).userPrincipalName}"   # change something in "Entra"

docs/emulator.md describes the emulator and its control API; docs/how-sync-works.md the sync.\n`);
  } finally {
    await store.close();
    await close();
  }
  return dataDir;
}
