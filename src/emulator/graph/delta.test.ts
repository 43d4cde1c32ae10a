import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTenant, type Tenant } from '../tenant/tenant.ts';
import { deltaPage, type DeltaOptions, type DeltaRequest, type DeltaResource } from './delta.ts';
import type { GraphResult } from './respond.ts';

// Delta rounds walked the way a client walks them: follow nextLinks until the deltaLink, merge by id.

const BASE = 'https://127.0.0.1:8443';
const DAY = 24 * 3600 * 1000;

const DEFAULTS: Record<DeltaResource, string[]> = {
  users: [
    'businessPhones',
    'displayName',
    'givenName',
    'id',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
  ],
  groups: [
    'id',
    'displayName',
    'description',
    'groupTypes',
    'mail',
    'mailEnabled',
    'mailNickname',
    'securityEnabled',
    'visibility',
  ],
};
const SELECTABLE: Record<DeltaResource, string[]> = {
  users: [...DEFAULTS.users, 'accountEnabled', 'department', 'companyName', 'manager', 'photo'],
  groups: [...DEFAULTS.groups, 'members', 'owners'],
};
const NAV = new Set(['manager', 'photo', 'members', 'owners']);

/** A minimal stand-in for schema.ts: validates names, projects exactly the selection (unset → null). */
function stubRequest(resource: DeltaResource, query: string | URLSearchParams, preferMinimal = false): DeltaRequest {
  return {
    resource,
    graphBase: BASE,
    query: typeof query === 'string' ? new URLSearchParams(query) : query,
    preferMinimal,
    select: (raw) => {
      if (raw === null || raw === '') return { ok: true, props: null };
      const props: string[] = [];
      for (const name of raw.split(',').map((s) => s.trim())) {
        const known = SELECTABLE[resource].find((p) => p.toLowerCase() === name.toLowerCase());
        if (!known)
          return {
            ok: false,
            status: 400,
            code: 'Request_BadRequest',
            message: `Could not find a property named '${name}'.`,
          };
        if (!props.includes(known)) props.push(known);
      }
      return { ok: true, props: props.includes('id') ? props : [...props, 'id'], requested: props };
    },
    project: (res, entity, props) => {
      const out: Record<string, unknown> = {};
      for (const name of props ?? DEFAULTS[res]) if (!NAV.has(name)) out[name] = entity[name] ?? null;
      out.id = entity.id;
      return out;
    },
  };
}

function makeOptions(
  overrides: Partial<DeltaOptions> = {},
): DeltaOptions & { clock: { now: number; generation: number } } {
  const clock = { now: Date.UTC(2025, 0, 1), generation: 0 };
  return {
    pageSize: 200,
    membersPerPage: 1000,
    tokenLifetimeMs: 7 * DAY,
    now: () => clock.now,
    generation: () => clock.generation,
    ...overrides,
    clock,
  };
}

type Body = {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: Record<string, any>[];
};

function ok(result: GraphResult): Body {
  assert.equal(result.status, 200, JSON.stringify(result.body));
  return result.body as Body;
}

function errorCode(result: GraphResult): string {
  return (result.body as { error: { code: string } }).error.code;
}

/** The query a link carries (what a client sends when it follows it verbatim). */
function linkQuery(link: string): URLSearchParams {
  const url = new URL(link);
  assert.equal(url.origin, BASE);
  assert.match(url.pathname, /^\/v1\.0\/(users|groups)\/delta$/);
  return url.searchParams;
}

interface Round {
  pages: Body[];
  items: Record<string, any>[];
  deltaLink: string;
}

/** Walks one round from `query` (first request or a deltaLink's query); `between` runs after each non-final page. */
function walk(
  tenant: Tenant,
  resource: DeltaResource,
  query: string | URLSearchParams,
  options: DeltaOptions,
  opts: { minimal?: boolean; between?: (page: number) => void } = {},
): Round {
  const pages: Body[] = [];
  let q: string | URLSearchParams = query;
  for (let n = 0; n < 10_000; n++) {
    const body = ok(deltaPage(tenant, stubRequest(resource, q, opts.minimal), options));
    pages.push(body);
    if (body['@odata.deltaLink']) {
      assert.equal(body['@odata.nextLink'], undefined);
      return { pages, items: pages.flatMap((p) => p.value), deltaLink: body['@odata.deltaLink'] };
    }
    assert.ok(body['@odata.nextLink'], 'a page without deltaLink has a nextLink');
    assert.match(body['@odata.nextLink']!, /\/delta\?\$skiptoken=[A-Za-z0-9_-]+$/);
    opts.between?.(n);
    q = linkQuery(body['@odata.nextLink']!);
  }
  throw new Error('round did not end');
}

const next = (round: Round) => linkQuery(round.deltaLink);
const byId = (items: Record<string, any>[]) => {
  const map = new Map<string, Record<string, any>[]>();
  for (const item of items) map.set(item.id, [...(map.get(item.id) ?? []), item]);
  return map;
};
const only = (items: Record<string, any>[], id: string) => {
  const found = items.filter((i) => i.id === id);
  assert.equal(found.length, 1, `exactly one item for ${id}: ${JSON.stringify(found)}`);
  return found[0];
};
const userId = (t: Tenant, i: number) => t.userIdOf(i);
const memberIds = (t: Tenant, g: number) => [...t.groupMembers(g)].map((m) => m.ref.id).sort();

/** Merges delta items into a client-side copy, as the sync does. */
class Mirror {
  readonly objects = new Map<string, Record<string, any>>();
  apply(items: Record<string, any>[]): void {
    for (const item of items) {
      if (item['@removed']) {
        this.objects.delete(item.id);
        continue;
      }
      const record = this.objects.get(item.id) ?? { members: new Set<string>(), manager: null };
      for (const [k, v] of Object.entries(item)) {
        if (k === 'manager@delta') for (const e of v) record.manager = e['@removed'] ? null : e.id;
        else if (k === 'members@delta')
          for (const e of v) {
            if (e['@removed']) record.members.delete(e.id);
            else record.members.add(e.id);
          }
        else record[k] = v;
      }
      this.objects.set(item.id, record);
    }
  }
}

const USER_SELECT = '$select=displayName,accountEnabled,department,userPrincipalName,manager';

describe('users delta: initial round', () => {
  it('returns every live user exactly once across pages, then a deltaLink', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-initial' });
    const options = makeOptions({ pageSize: 7 });
    const round = walk(t, 'users', USER_SELECT, options);
    assert.equal(round.pages.length, Math.ceil(60 / 7));
    for (const page of round.pages) {
      assert.ok(page.value.length <= 7);
      assert.equal(
        page['@odata.context'],
        `${BASE}/v1.0/$metadata#users(displayName,accountEnabled,department,userPrincipalName)`,
      );
    }
    assert.match(round.deltaLink, /^https:\/\/127\.0\.0\.1:8443\/v1\.0\/users\/delta\?\$deltatoken=[A-Za-z0-9_-]+$/);
    assert.deepEqual(round.items.map((u) => u.id).sort(), [...t.liveUsers()].map((i) => userId(t, i)).sort());
    for (const i of t.liveUsers()) {
      const item = only(round.items, userId(t, i));
      const user = t.user(i);
      assert.equal(item['@odata.type'], undefined, 'items of /users carry no @odata.type');
      assert.deepEqual(
        Object.keys(item)
          .filter((k) => k !== 'manager@delta')
          .sort(),
        ['accountEnabled', 'department', 'displayName', 'id', 'userPrincipalName'],
      );
      assert.equal(item.displayName, user.displayName);
      assert.equal(item.department, user.department ?? null);
      const manager = t.managerIndex(i);
      if (manager === undefined) assert.equal(item['manager@delta'], undefined);
      else
        assert.deepEqual(item['manager@delta'], [{ '@odata.type': '#microsoft.graph.user', id: userId(t, manager) }]);
    }
  });

  it('without $select returns the default properties and no manager@delta', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-defaults' });
    const round = walk(t, 'users', '', makeOptions());
    assert.equal(round.pages[0]['@odata.context'], `${BASE}/v1.0/$metadata#users`);
    assert.equal(round.items.length, 60);
    for (const item of round.items) {
      assert.equal(item['manager@delta'], undefined);
      assert.ok(
        Object.keys(item).every((k) => DEFAULTS.users.includes(k)),
        Object.keys(item).join(),
      );
    }
  });

  it('ends an empty change round with [] and a new deltaLink', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-empty' });
    const options = makeOptions();
    const first = walk(t, 'users', USER_SELECT, options);
    const second = walk(t, 'users', next(first), options);
    assert.equal(second.pages.length, 1);
    assert.deepEqual(second.items, []);
    assert.notEqual(second.deltaLink, first.deltaLink);
    const third = walk(t, 'users', next(second), options);
    assert.deepEqual(third.items, []);
  });
});

describe('users delta: change rounds', () => {
  it('reports every kind of change as documented', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-changes' });
    const options = makeOptions({ pageSize: 5 });
    const first = walk(t, 'users', USER_SELECT, options);
    const [renamed, unselected, disabled, upn, dept, photo, soft, hard, restored] = [
      21, 22, 23, 24, 25, 28, 29, 30, 31,
    ];
    const withManager = [...t.liveUsers()].filter((i) => t.managerIndex(i) !== undefined && i > 31);
    const [managed, unmanaged] = withManager;
    // a user soft-deleted in an earlier round, restored in this one
    t.deleteUser(userId(t, restored));
    const mid = walk(t, 'users', next(first), options);
    assert.deepEqual(only(mid.items, userId(t, restored)), {
      id: userId(t, restored),
      '@removed': { reason: 'changed' },
    });

    const created = t.createUser({
      userPrincipalName: 'new.person@contoso.com',
      displayName: 'New Person',
      accountEnabled: true,
    });
    t.updateUser(userId(t, renamed), { displayName: 'Renamed Person' });
    t.updateUser(userId(t, unselected), { jobTitle: 'Chief Unselected Officer' });
    t.updateUser(userId(t, disabled), { accountEnabled: false });
    t.updateUser(userId(t, upn), { userPrincipalName: 'renamed.upn@contoso.com' });
    t.updateUser(userId(t, dept), { department: 'Brand New Department' });
    const oldManager = t.managerIndex(managed)!;
    const newManager = [...t.liveUsers()].find((i) => i !== oldManager && i !== managed && i < 10)!;
    t.setManager(userId(t, managed), userId(t, newManager));
    const removedManager = t.managerIndex(unmanaged)!;
    t.setManager(userId(t, unmanaged), null);
    t.setPhoto(userId(t, photo), 'generate');
    t.deleteUser(userId(t, soft));
    t.deleteUser(userId(t, hard), true);
    t.restoreUser(userId(t, restored));
    const tmp = t.createUser({ userPrincipalName: 'temp@contoso.com', displayName: 'Temp' });
    t.deleteUser(tmp.id, true);
    const round = walk(t, 'users', next(mid), options);

    const ids = round.items.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, 'each changed user once');
    const expected = [created.id, renamed, disabled, upn, dept, managed, unmanaged, soft, hard, restored].map((x) =>
      typeof x === 'string' ? x : userId(t, x),
    );
    assert.deepEqual([...ids].sort(), [...expected, tmp.id].sort());
    assert.ok(!ids.includes(userId(t, unselected)), 'unselected property change does not surface');
    assert.ok(!ids.includes(userId(t, photo)), 'photo change does not surface');

    // create: all selected properties; never-set department omitted
    assert.deepEqual(only(round.items, created.id), {
      id: created.id,
      displayName: 'New Person',
      accountEnabled: true,
      userPrincipalName: 'new.person@contoso.com',
    });
    // updates carry all selected properties, changed or not
    const r = only(round.items, userId(t, renamed));
    assert.equal(r.displayName, 'Renamed Person');
    assert.equal(r.userPrincipalName, t.user(renamed).userPrincipalName);
    assert.equal(r.accountEnabled, t.user(renamed).accountEnabled);
    assert.equal(r['manager@delta'], undefined, 'manager@delta only when the manager changed');
    assert.equal(only(round.items, userId(t, disabled)).accountEnabled, false);
    assert.equal(only(round.items, userId(t, upn)).userPrincipalName, 'renamed.upn@contoso.com');
    assert.equal(only(round.items, userId(t, dept)).department, 'Brand New Department');
    assert.deepEqual(only(round.items, userId(t, managed))['manager@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: userId(t, newManager) },
    ]);
    assert.deepEqual(only(round.items, userId(t, unmanaged))['manager@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: userId(t, removedManager), '@removed': { reason: 'deleted' } },
    ]);
    assert.deepEqual(only(round.items, userId(t, soft)), { id: userId(t, soft), '@removed': { reason: 'changed' } });
    assert.deepEqual(only(round.items, userId(t, hard)), { id: userId(t, hard), '@removed': { reason: 'deleted' } });
    assert.deepEqual(only(round.items, tmp.id), { id: tmp.id, '@removed': { reason: 'deleted' } });
    const back = only(round.items, userId(t, restored));
    assert.equal(back['@removed'], undefined);
    assert.equal(back.displayName, t.user(restored).displayName);
    assert.equal(back.userPrincipalName, t.user(restored).userPrincipalName);
    if (t.managerIndex(restored) !== undefined)
      assert.deepEqual(back['manager@delta'], [
        { '@odata.type': '#microsoft.graph.user', id: userId(t, t.managerIndex(restored)!) },
      ]);

    // restored, then deleted again in one window → @removed
    t.deleteUser(userId(t, restored));
    const again = walk(t, 'users', next(round), options);
    assert.deepEqual(again.items, [{ id: userId(t, restored), '@removed': { reason: 'changed' } }]);
    t.restoreUser(userId(t, restored));
    t.deleteUser(userId(t, restored));
    const third = walk(t, 'users', next(again), options);
    assert.deepEqual(third.items, [{ id: userId(t, restored), '@removed': { reason: 'changed' } }]);
  });

  it('tracks the manager only when it is selected', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-manager' });
    const options = makeOptions();
    const first = walk(t, 'users', '$select=displayName,department', options);
    assert.ok(first.items.every((i) => i['manager@delta'] === undefined));
    const i = [...t.liveUsers()].find((u) => u > 10 && t.managerIndex(u) !== undefined)!;
    t.setManager(userId(t, i), null);
    t.setManager(userId(t, 40), userId(t, 3));
    const round = walk(t, 'users', next(first), options);
    assert.deepEqual(round.items, []);
  });

  it('reports only changed properties with Prefer: return=minimal', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-minimal' });
    const options = makeOptions();
    const first = walk(t, 'users', USER_SELECT, options);
    const m = [...t.liveUsers()].find((u) => u > 10 && t.managerIndex(u) !== undefined)!;
    t.updateUser(userId(t, 12), { department: 'Minimal' });
    t.updateUser(userId(t, 13), { department: null, accountEnabled: false });
    t.updateUser(userId(t, 14), { jobTitle: 'not selected' });
    t.setManager(userId(t, m), null);
    const created = t.createUser({ userPrincipalName: 'min@contoso.com', displayName: 'Min', department: 'D' });
    const round = walk(t, 'users', next(first), options, { minimal: true });
    assert.deepEqual(only(round.items, userId(t, 12)), { id: userId(t, 12), department: 'Minimal' });
    assert.deepEqual(only(round.items, userId(t, 13)), { id: userId(t, 13), department: null, accountEnabled: false });
    assert.equal(round.items.filter((x) => x.id === userId(t, 14)).length, 0);
    const managerOnly = only(round.items, userId(t, m));
    assert.deepEqual(Object.keys(managerOnly).sort(), ['id', 'manager@delta']);
    assert.equal(managerOnly['manager@delta'][0]['@removed'].reason, 'deleted');
    assert.deepEqual(only(round.items, created.id), {
      id: created.id,
      displayName: 'Min',
      accountEnabled: true,
      department: 'D',
      userPrincipalName: 'min@contoso.com',
    });
  });

  it('serves "sync from now" with $deltatoken=latest', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-latest' });
    const options = makeOptions();
    t.updateUser(userId(t, 5), { displayName: 'Before Latest' });
    const latest = ok(deltaPage(t, stubRequest('users', `${USER_SELECT}&$deltatoken=latest`), options));
    assert.deepEqual(latest.value, []);
    assert.ok(latest['@odata.deltaLink']);
    assert.equal(latest['@odata.nextLink'], undefined);
    assert.equal(
      latest['@odata.context'],
      `${BASE}/v1.0/$metadata#users(displayName,accountEnabled,department,userPrincipalName)`,
    );
    t.updateUser(userId(t, 6), { displayName: 'After Latest' });
    const round = walk(t, 'users', linkQuery(latest['@odata.deltaLink']!), options);
    assert.deepEqual(
      round.items.map((i) => i.id),
      [userId(t, 6)],
    );
    assert.deepEqual(
      Object.keys(round.items[0])
        .filter((k) => k !== 'manager@delta')
        .sort(),
      ['accountEnabled', 'department', 'displayName', 'id', 'userPrincipalName'],
    );
  });

  it('reports a change made between pages of a round in the next round', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-between' });
    const options = makeOptions({ pageSize: 10 });
    const first = walk(t, 'users', USER_SELECT, options, {
      between: (page) => {
        if (page === 0) {
          t.updateUser(userId(t, 2), { department: 'Changed Early' });
          t.updateUser(userId(t, 50), { department: 'Changed Late' });
        }
        if (page === 2) t.deleteUser(userId(t, 55));
      },
    });
    const ids = first.items.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes(userId(t, 2)) && ids.includes(userId(t, 50)));
    assert.ok(!ids.includes(userId(t, 55)), 'deleted before its page was served');
    const second = walk(t, 'users', next(first), options);
    assert.equal(only(second.items, userId(t, 2)).department, 'Changed Early');
    assert.equal(only(second.items, userId(t, 50)).department, 'Changed Late');
    assert.deepEqual(only(second.items, userId(t, 55)), { id: userId(t, 55), '@removed': { reason: 'changed' } });

    // the same during a change round: its pages stay consistent, the late change comes next round
    for (let i = 10; i < 40; i++) t.updateUser(userId(t, i), { department: `Dept ${i}` });
    const third = walk(t, 'users', next(second), options, {
      between: () => t.updateUser(userId(t, 11), { department: 'Moved Again' }),
    });
    assert.equal(third.pages.length, 3);
    assert.deepEqual(
      third.items.map((i) => i.id).sort(),
      Array.from({ length: 30 }, (_, k) => userId(t, 10 + k)).sort(),
    );
    const fourth = walk(t, 'users', next(third), options);
    assert.deepEqual(
      fourth.items.map((i) => [i.id, i.department]),
      [[userId(t, 11), 'Moved Again']],
    );
  });

  it('keeps a mirrored copy equal to the tenant through random changes', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-mirror' });
    const options = makeOptions({ pageSize: 4 });
    const mirror = new Mirror();
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const isManager = (i: number) => [...t.liveUsers()].some((u) => t.managerIndex(u) === i);
    const mutate = () => {
      const live = [...t.liveUsers()];
      const i = live[rnd(live.length)];
      switch (rnd(6)) {
        case 0:
          t.updateUser(userId(t, i), { department: `D${rnd(5)}` });
          break;
        case 1:
          t.updateUser(userId(t, i), { displayName: `Name ${rnd(1000)}` });
          break;
        case 2: {
          const m = live[rnd(live.length)];
          if (m !== i) t.setManager(userId(t, i), rnd(3) === 0 ? null : userId(t, m));
          break;
        }
        case 3:
          if (!isManager(i)) t.deleteUser(userId(t, i), rnd(2) === 0);
          break;
        case 4: {
          const gone = t.softDeletedUsers();
          if (gone.length > 0) t.restoreUser(userId(t, gone[0].index));
          break;
        }
        case 5:
          t.createUser({ userPrincipalName: `u${rnd(1e9)}@contoso.com`, displayName: 'Created' });
          break;
      }
    };
    let query: string | URLSearchParams = USER_SELECT;
    for (let round = 0; round < 6; round++) {
      const result = walk(t, 'users', query, options, {
        between: () => {
          mutate();
          mutate();
        },
      });
      mirror.apply(result.items);
      query = next(result);
      for (let k = 0; k < 8; k++) mutate();
    }
    // a final quiet round catches up with everything
    mirror.apply(walk(t, 'users', query, options).items);
    const live = [...t.liveUsers()];
    assert.deepEqual([...mirror.objects.keys()].sort(), live.map((i) => userId(t, i)).sort());
    for (const i of live) {
      const got = mirror.objects.get(userId(t, i))!;
      const user = t.user(i);
      for (const p of ['displayName', 'department', 'accountEnabled', 'userPrincipalName'])
        assert.equal(got[p] ?? null, user[p] ?? null, `${p} of ${i}`);
      const m = t.managerIndex(i);
      assert.equal(got.manager, m === undefined ? null : userId(t, m), `manager of ${i}`);
    }
  });
});

describe('groups delta', () => {
  const GROUP_SELECT = '$select=displayName,description,groupTypes,mailEnabled,securityEnabled,members';

  it('lists every group with its current members in the first round', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups' });
    const empty = t.createGroup({ displayName: 'Nobody Here', kind: 'security' });
    const options = makeOptions({ pageSize: 3 });
    const round = walk(t, 'groups', GROUP_SELECT, options);
    assert.equal(
      round.pages[0]['@odata.context'],
      `${BASE}/v1.0/$metadata#groups(displayName,description,groupTypes,mailEnabled,securityEnabled)`,
    );
    assert.deepEqual(round.items.map((g) => g.id).sort(), [...t.liveGroups()].map((g) => t.groupIdOf(g)).sort());
    for (const g of t.liveGroups()) {
      const item = only(round.items, t.groupIdOf(g));
      assert.equal(item.displayName, t.group(g).displayName);
      assert.equal(item['@odata.type'], undefined);
      if (g === t.groupIndexOf(empty.id)) {
        assert.equal(item['members@delta'], undefined);
        continue;
      }
      assert.deepEqual(item['members@delta'].map((m: any) => m.id).sort(), memberIds(t, g));
      for (const m of item['members@delta']) assert.deepEqual(Object.keys(m).sort(), ['@odata.type', 'id']);
    }
  });

  it('includes members@delta without $select and not when members is unselected', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-default' });
    const options = makeOptions();
    const all = walk(t, 'groups', '', options);
    assert.equal(all.pages[0]['@odata.context'], `${BASE}/v1.0/$metadata#groups`);
    assert.ok(all.items.every((g) => Array.isArray(g['members@delta'])));
    const noMembers = walk(t, 'groups', '$select=displayName', options);
    assert.ok(noMembers.items.every((g) => g['members@delta'] === undefined));
    t.addMember(t.groupIdOf(2), userId(t, 59));
    assert.deepEqual(walk(t, 'groups', next(noMembers), options).items, [], 'membership untracked');
  });

  it('reports group and membership changes', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-changes' });
    const options = makeOptions({ pageSize: 2 });
    const first = walk(t, 'groups', GROUP_SELECT, options);

    const m365 = t.createGroup({ displayName: 'New Team', kind: 'microsoft365' });
    t.addMember(m365.id, userId(t, 7));
    const security = t.createGroup({ displayName: 'New Security', kind: 'security' });
    t.updateGroup(t.groupIdOf(1), { displayName: 'Renamed Group' });
    const added = [...t.liveUsers()].find((i) => !memberIds(t, 2).includes(userId(t, i)))!;
    t.addMember(t.groupIdOf(2), userId(t, added));
    const removed = [...t.groupMembers(3)][0].ref;
    t.removeMember(t.groupIdOf(3), removed.id);
    const leaver = [...t.groupMembers(5)].map((m) => m.ref).find((r) => r.kind === 'user')!;
    const leaverGroups = t.userGroups(leaver.index);
    t.deleteUser(leaver.id);
    t.addMember(t.groupIdOf(4), t.groupIdOf(5));
    // added and removed again inside the window: no net change
    t.addMember(t.groupIdOf(2), userId(t, 0) === removed.id ? userId(t, 1) : t.groupIdOf(3));
    t.removeMember(t.groupIdOf(2), userId(t, 0) === removed.id ? userId(t, 1) : t.groupIdOf(3));
    const round = walk(t, 'groups', next(first), options);
    const notLeaver = (entries: any[]) => entries.filter((m) => m.id !== leaver.id);

    const team = only(round.items, m365.id);
    assert.equal(team.displayName, 'New Team');
    assert.deepEqual(team.groupTypes, ['Unified']);
    assert.deepEqual(team['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: userId(t, 7) }]);
    const sec = only(round.items, security.id);
    assert.equal(sec['members@delta'], undefined, 'a new group without members omits members@delta');
    const renamed = only(round.items, t.groupIdOf(1));
    assert.equal(renamed.displayName, 'Renamed Group');
    assert.equal(renamed.description, t.group(1).description, 'all selected properties');
    assert.equal(renamed['members@delta'], undefined, 'membership unchanged');
    const g2 = only(round.items, t.groupIdOf(2));
    assert.deepEqual(notLeaver(g2['members@delta']), [
      { '@odata.type': '#microsoft.graph.user', id: userId(t, added) },
    ]);
    assert.deepEqual(notLeaver(only(round.items, t.groupIdOf(3))['members@delta']), [
      { '@odata.type': `#microsoft.graph.${removed.kind}`, id: removed.id, '@removed': { reason: 'deleted' } },
    ]);
    for (const g of leaverGroups) {
      const item = byId(round.items).get(t.groupIdOf(g))!;
      assert.ok(
        item.some((i) =>
          i['members@delta']?.some((m: any) => m.id === leaver.id && m['@removed']?.reason === 'deleted'),
        ),
        `leaver removed from group ${g}`,
      );
    }
    assert.deepEqual(notLeaver(only(round.items, t.groupIdOf(4))['members@delta']), [
      { '@odata.type': '#microsoft.graph.group', id: t.groupIdOf(5) },
    ]);

    // deletions: Microsoft 365 soft (changed), security permanent (deleted)
    t.deleteGroup(m365.id);
    t.deleteGroup(security.id);
    const deletions = walk(t, 'groups', next(round), options);
    assert.deepEqual(only(deletions.items, m365.id), { id: m365.id, '@removed': { reason: 'changed' } });
    assert.deepEqual(only(deletions.items, security.id), { id: security.id, '@removed': { reason: 'deleted' } });
    // restore brings the group back with its properties and all its members
    t.restoreGroup(m365.id);
    const restore = walk(t, 'groups', next(deletions), options);
    const back = only(restore.items, m365.id);
    assert.equal(back.displayName, 'New Team');
    assert.deepEqual(back['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: userId(t, 7) }]);
  });

  it('reports membership only with minimal properties under Prefer: return=minimal', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-minimal' });
    const options = makeOptions();
    const first = walk(t, 'groups', GROUP_SELECT, options);
    const outsider = [...t.liveUsers()].find((i) => !memberIds(t, 2).includes(userId(t, i)))!;
    t.addMember(t.groupIdOf(2), userId(t, outsider));
    t.updateGroup(t.groupIdOf(3), { description: 'minimal' });
    const round = walk(t, 'groups', next(first), options, { minimal: true });
    assert.deepEqual(only(round.items, t.groupIdOf(2)), {
      id: t.groupIdOf(2),
      'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: userId(t, outsider) }],
    });
    assert.deepEqual(only(round.items, t.groupIdOf(3)), { id: t.groupIdOf(3), description: 'minimal' });
  });

  it('splits large groups across pages (membersPerPage = 1) and the slices merge to the members', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-split' });
    const options = makeOptions({ pageSize: 3, membersPerPage: 1 });
    const round = walk(t, 'groups', GROUP_SELECT, options);
    const total = [...t.liveGroups()].reduce((n, g) => n + memberIds(t, g).length, 0);
    assert.equal(round.pages.length, total);
    for (const page of round.pages) {
      assert.ok(page.value.length <= 3);
      assert.ok(page.value.reduce((n, g) => n + (g['members@delta']?.length ?? 0), 0) <= 1);
    }
    const grouped = byId(round.items);
    for (const g of t.liveGroups()) {
      const slices = grouped.get(t.groupIdOf(g))!;
      assert.equal(slices.length, memberIds(t, g).length, 'the group reappears once per slice');
      for (const s of slices) assert.equal(s.displayName, t.group(g).displayName, 'same properties on every slice');
      assert.deepEqual(slices.flatMap((s) => s['members@delta'].map((m: any) => m.id)).sort(), memberIds(t, g));
    }
    // change round with a large net membership change is split too
    const outsiders = [...t.liveUsers()].filter((i) => !memberIds(t, 4).includes(userId(t, i))).slice(0, 5);
    for (const i of outsiders) t.addMember(t.groupIdOf(4), userId(t, i));
    const changes = walk(t, 'groups', next(round), makeOptions({ pageSize: 3, membersPerPage: 2 }));
    assert.equal(changes.pages.length, 3);
    assert.deepEqual(
      changes.items.flatMap((s) => s['members@delta'].map((m: any) => m.id)).sort(),
      outsiders.map((i) => userId(t, i)).sort(),
    );
  });

  it('keeps member slices whole when membership changes between pages', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-shift' });
    const team = t.createGroup({ displayName: 'Churn', kind: 'security' });
    for (let i = 10; i < 20; i++) t.addMember(team.id, userId(t, i));
    const options = makeOptions({ pageSize: 50, membersPerPage: 3 });
    const mirror = new Mirror();
    const first = walk(t, 'groups', `$filter=id eq '${team.id}'&$select=displayName,members`, options, {
      between: (page) => {
        if (page === 0) {
          t.removeMember(team.id, userId(t, 10));
          t.removeMember(team.id, userId(t, 11));
        }
        if (page === 1) {
          t.removeMember(team.id, userId(t, 14));
          t.addMember(team.id, userId(t, 30));
        }
      },
    });
    mirror.apply(first.items);
    const expected = memberIds(t, t.groupIndexOf(team.id)!);
    for (const id of expected.filter((id) => id !== userId(t, 30)))
      assert.ok(mirror.objects.get(team.id)!.members.has(id), `${id} sent in the first round`);
    mirror.apply(walk(t, 'groups', next(first), options).items);
    assert.deepEqual([...mirror.objects.get(team.id)!.members].sort(), expected);
  });

  it('keeps a mirrored membership equal to the tenant through random changes', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-groups-mirror' });
    const options = makeOptions({ pageSize: 2, membersPerPage: 7 });
    const mirror = new Mirror();
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const mutate = () => {
      const groups = [...t.liveGroups()];
      const g = groups[rnd(groups.length)];
      const users = [...t.liveUsers()];
      const u = users[rnd(users.length)];
      const members = memberIds(t, g);
      switch (rnd(5)) {
        case 0:
          if (!members.includes(userId(t, u))) t.addMember(t.groupIdOf(g), userId(t, u));
          break;
        case 1:
          if (members.length > 0) t.removeMember(t.groupIdOf(g), members[rnd(members.length)]);
          break;
        case 2:
          t.deleteUser(userId(t, u), rnd(2) === 0);
          break;
        case 3: {
          const gone = t.softDeletedUsers();
          if (gone.length > 0) t.restoreUser(userId(t, gone[rnd(gone.length)].index));
          break;
        }
        case 4:
          t.updateGroup(t.groupIdOf(g), { description: `d${rnd(100)}` });
          break;
      }
    };
    let query: string | URLSearchParams = GROUP_SELECT;
    for (let round = 0; round < 5; round++) {
      const result = walk(t, 'groups', query, options, { between: () => mutate() });
      mirror.apply(result.items);
      query = next(result);
      for (let k = 0; k < 10; k++) mutate();
    }
    mirror.apply(walk(t, 'groups', query, options).items);
    for (const g of t.liveGroups()) {
      const got = mirror.objects.get(t.groupIdOf(g))!;
      assert.deepEqual([...got.members].sort(), memberIds(t, g), `members of group ${g}`);
      assert.equal(got.description, t.group(g).description);
    }
  });
});

describe('delta tokens and options', () => {
  it('expires every token on a generation bump and after the lifetime', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-expiry' });
    const options = makeOptions({ pageSize: 20 });
    const first = walk(t, 'users', USER_SELECT, options);
    const page = ok(deltaPage(t, stubRequest('users', USER_SELECT), options));
    const skip = linkQuery(page['@odata.nextLink']!);
    options.clock.generation++;
    for (const q of [next(first), skip]) {
      const result = deltaPage(t, stubRequest('users', q), options);
      assert.equal(result.status, 400);
      assert.equal(errorCode(result), 'syncStateNotFound');
      assert.equal(
        (result.body as any).error.message,
        'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
      );
    }
    const fresh = walk(t, 'users', USER_SELECT, options);
    options.clock.now += 7 * DAY - 1;
    assert.equal(deltaPage(t, stubRequest('users', next(fresh)), options).status, 200);
    options.clock.now += 2;
    assert.equal(errorCode(deltaPage(t, stubRequest('users', next(fresh)), options)), 'syncStateNotFound');
  });

  it('answers garbled and foreign tokens with syncStateNotFound', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-garbled' });
    const options = makeOptions({ pageSize: 20 });
    const round = walk(t, 'users', USER_SELECT, options);
    const token = next(round).get('$deltatoken')!;
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    for (const q of [
      `$deltatoken=${flipped}`,
      `$deltatoken=${token.slice(0, -4)}`,
      '$deltatoken=not-a-token!',
      '$skiptoken=',
      `$skiptoken=${token}`,
      '$deltatoken=latest2',
    ]) {
      const result = deltaPage(t, stubRequest('users', q), options);
      assert.equal(result.status, 400, q);
      assert.equal(errorCode(result), 'syncStateNotFound', q);
    }
    assert.equal(
      errorCode(deltaPage(t, stubRequest('groups', `$deltatoken=${token}`), options)),
      'syncStateNotFound',
      'a users token on groups',
    );
  });

  it('rejects $expand and $orderby, ignores $top, validates $select', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-options' });
    const options = makeOptions({ pageSize: 20 });
    for (const q of ['$expand=manager', '$orderby=displayName', '$select=displayName&$expand=members']) {
      const result = deltaPage(t, stubRequest('users', q), options);
      assert.equal(result.status, 400, q);
      assert.equal(errorCode(result), 'Request_UnsupportedQuery');
    }
    const top = ok(deltaPage(t, stubRequest('users', '$top=2&$select=displayName'), options));
    assert.equal(top.value.length, 20, '$top is ignored');
    assert.equal(errorCode(deltaPage(t, stubRequest('users', '$select=nonsense'), options)), 'Request_BadRequest');
  });

  it("keeps the first request's options when a link is sent with $select again", () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-reselect' });
    const options = makeOptions({ pageSize: 20 });
    const page = ok(deltaPage(t, stubRequest('users', '$select=displayName'), options));
    const q = linkQuery(page['@odata.nextLink']!);
    q.set('$select', 'department,mail');
    const second = ok(deltaPage(t, stubRequest('users', q), options));
    assert.equal(second['@odata.context'], `${BASE}/v1.0/$metadata#users(displayName)`);
    assert.ok(second.value.every((u) => Object.keys(u).sort().join() === 'displayName,id'));
  });

  it('restricts both rounds to $filter=id eq … ids', () => {
    const t = createTenant({ users: 60, groups: 6, seed: 'delta-filter' });
    const options = makeOptions({ pageSize: 2 });
    const picked = [3, 17, 41].map((i) => userId(t, i));
    const filter = `$filter=${picked.map((id) => `id eq '${id}'`).join(' or ')}&${USER_SELECT}`;
    const first = walk(t, 'users', filter, options);
    assert.deepEqual(first.items.map((i) => i.id).sort(), [...picked].sort());
    t.updateUser(picked[0], { department: 'Filtered' });
    t.updateUser(userId(t, 4), { department: 'Not Filtered' });
    t.deleteUser(picked[2]);
    const round = walk(t, 'users', next(first), options);
    assert.deepEqual(round.items.map((i) => i.id).sort(), [picked[0], picked[2]].sort());
    assert.equal(only(round.items, picked[0]).department, 'Filtered');
    assert.deepEqual(only(round.items, picked[2])['@removed'], { reason: 'changed' });

    const groups = walk(t, 'groups', `$filter=id eq '${t.groupIdOf(2)}'`, options);
    assert.deepEqual(
      groups.items.map((g) => g.id),
      [t.groupIdOf(2)],
    );

    for (const bad of [
      "$filter=displayName eq 'x'",
      "$filter=id eq '1' and id eq '2'",
      '$filter=id eq 5',
      `$filter=${Array.from({ length: 51 }, (_, k) => `id eq '${k}'`).join(' or ')}`,
    ]) {
      const result = deltaPage(t, stubRequest('users', bad), options);
      assert.equal(result.status, 400, bad);
      assert.equal(errorCode(result), 'Request_UnsupportedQuery', bad);
    }
    assert.equal(
      deltaPage(
        t,
        stubRequest('users', `$filter=${Array.from({ length: 50 }, (_, k) => `id eq '${k}'`).join(' or ')}`),
        options,
      ).status,
      200,
    );
  });
});
