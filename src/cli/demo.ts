import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectToEmulator } from '../emulator/connect.ts';
import type { Emulator } from '../emulator/server.ts';
import { listDepartments, listDirectoryGroups, listDirectoryUsers, openStore, saveSettings } from '../store/index.ts';
import { applyLeavers } from '../sync/leavers.ts';
import { listSyncedGroups } from '../sync/listing.ts';
import { storeWriter } from '../sync/writer.ts';
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

    // 3. Settings: scope to two groups and add a custom field; the next run applies them from the store, no re-read.
    const scopeGroups = [...groups].sort((a, b) => a.members.length - b.members.length).slice(1, 3);
    const settings = {
      scope: { groups: scopeGroups.map((g) => g.externalId) },
      mapping: { custom: { claims: { preset: 'claimsAccount' } } },
      groups: { sync: 'scope' },
    };
    await saveSettings(store.db, 'default', settings, 'demo');
    out(
      `\n3. Settings: only the members of "${scopeGroups[0].name}" and "${scopeGroups[1].name}" are synced, with a custom field "claims"\n   (SharePoint's claims account). The next sync applies them to every user from what the store holds:\n`,
    );
    out(`${JSON.stringify(settings, null, 2).replace(/^/gm, '   ')}\n`);
    const applied = await runSync({ store, http });
    out(describe(applied));
    if (applied.held) {
      const n = applied.held.disable + applied.held.remove;
      out(
        `   ${n} users leave the scope at once: more than the deletion threshold allows in one run, so they are held, not\n   disabled (a broken filter must never disable a company). An administrator approves them with\n   \`usersync approve --all\`; the demo does so now:\n`,
      );
      const counts = await applyLeavers(
        store,
        'default',
        storeWriter(store, 'default', { runId: null, actor: 'demo' }),
        {
          status: 'held',
          onLeave: 'disable',
        },
      );
      out(`   approved: ${counts.disabled + counts.updated} leavers disabled, kept in the directory\n`);
    }
    const scoped = await listDirectoryUsers(store.db, 'default');
    const inScope = scoped.filter((u) => u.status === 'active');
    printTable(
      inScope
        .slice(0, 8)
        .map((u) => ({ loginAccount: u.loginAccount, department: u.department, claims: u.custom.claims })),
      `… ${inScope.length} active users; the ${scoped.length - inScope.length} others are kept, disabled (out of scope)`,
    );
    printTable(
      (await listSyncedGroups(store, 'default')).map((g) => ({ name: g.name, members: g.members.length })),
      'groups now synced: the scope groups (groups.sync "scope")',
    );

    const env = { ...emulator.env(), USERSYNC_DATA: dataDir };
    out(
      `\n4. Go on from a shell (the emulator keeps running until Ctrl+C):\n${Object.entries(env)
        .map(([k, v]) => `  export ${k}='${v}'`)
        .join('\n')}\n`,
    );
    out(`  npx usersync sync            # picks up whatever changed
  npx usersync users list --json
  npx usersync groups list
  npx usersync config show     # the settings above; edit and apply with: npx usersync config set FILE
  npx usersync preview ${t.user(9).userPrincipalName}   # what the settings make of one user
  npx usersync runs list       # the run history; npx usersync audit USER for one user's history
  curl -s --cacert "$NODE_EXTRA_CA_CERTS" -X PATCH -H 'content-type: application/json' \\
    -d '{"jobTitle":"Astronaut"}' "$USERSYNC_GRAPH_URL/_emulator/users/${t.user(9).userPrincipalName}"   # change something in "Entra"

docs/mapping.md walks through scope and mapping; docs/emulator.md describes the emulator and its control API;\ndocs/how-sync-works.md the sync.\n`);
  } finally {
    await store.close();
    await close();
  }
  return dataDir;
}
