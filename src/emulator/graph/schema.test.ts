import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  contextUrl,
  defaultProperties,
  findProperty,
  parseSelect,
  projectEntity,
  resourceDef,
  type Resource,
  type SelectContext,
} from './schema.ts';

const EXT = 'extension_5bfc8fdacfc943a9a6de214ea9d15fdb_linkedInProfile';
const extensionNames = new Set([EXT]);

describe('catalogue', () => {
  const USER_NAMES = [
    'id',
    'userPrincipalName',
    'displayName',
    'givenName',
    'surname',
    'mail',
    'mailNickname',
    'jobTitle',
    'department',
    'companyName',
    'employeeId',
    'employeeType',
    'employeeHireDate',
    'officeLocation',
    'city',
    'state',
    'country',
    'postalCode',
    'streetAddress',
    'usageLocation',
    'mobilePhone',
    'businessPhones',
    'faxNumber',
    'preferredLanguage',
    'userType',
    'accountEnabled',
    'createdDateTime',
    'creationType',
    'externalUserState',
    'otherMails',
    'proxyAddresses',
    'onPremisesSyncEnabled',
    'onPremisesImmutableId',
    'onPremisesSamAccountName',
    'onPremisesUserPrincipalName',
    'onPremisesLastSyncDateTime',
    'onPremisesExtensionAttributes',
    'employeeOrgData',
    'identities',
    'deletedDateTime',
    'manager',
    'aboutMe',
    'birthday',
    'hireDate',
    'interests',
    'mySite',
    'pastProjects',
    'preferredName',
    'responsibilities',
    'schools',
    'skills',
    'mailboxSettings',
  ];
  const GROUP_NAMES = [
    'id',
    'displayName',
    'description',
    'mail',
    'mailNickname',
    'mailEnabled',
    'securityEnabled',
    'groupTypes',
    'visibility',
    'proxyAddresses',
    'createdDateTime',
    'onPremisesSyncEnabled',
    'membershipRule',
    'membershipRuleProcessingState',
    'deletedDateTime',
    'members',
    'owners',
  ];

  const cases: Array<[Resource, string[]]> = [
    ['user', USER_NAMES],
    ['group', GROUP_NAMES],
  ];
  for (const [resource, names] of cases) {
    it(`${resource}: serves every listed property with its exact casing`, () => {
      const served = new Set(resourceDef(resource).properties.map((p) => p.name));
      for (const name of names) assert.ok(served.has(name), name);
    });
  }

  it('user defaults are the 11 of §2.2', () => {
    assert.deepEqual(
      new Set(defaultProperties('user')),
      new Set([
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
      ]),
    );
  });

  it('group defaults are every served non-navigation property', () => {
    const defaults = new Set(defaultProperties('group'));
    for (const name of GROUP_NAMES) assert.equal(defaults.has(name), name !== 'members' && name !== 'owners', name);
  });

  it('collections, collection-unreadable and navigation flags', () => {
    const user = (n: string) => findProperty('user', n)!;
    for (const n of ['businessPhones', 'otherMails', 'proxyAddresses', 'identities', 'skills'])
      assert.ok(user(n).collection, n);
    for (const n of [
      'aboutMe',
      'birthday',
      'hireDate',
      'interests',
      'mySite',
      'pastProjects',
      'preferredName',
      'responsibilities',
      'schools',
      'skills',
      'mailboxSettings',
    ])
      assert.ok(user(n).collectionUnreadable, n);
    assert.equal(user('manager').kind, 'navigation');
    assert.ok(findProperty('group', 'groupTypes')!.collection);
  });

  const lookups: Array<[string, string | null]> = [
    ['DISPLAYNAME', 'displayName'],
    ['userprincipalname', 'userPrincipalName'],
    [EXT.toUpperCase(), EXT],
    ['extension_00000000000000000000000000000000_other', null],
    ['nope', null],
  ];
  for (const [input, expected] of lookups) {
    it(`findProperty('${input}') → ${expected}`, () => {
      assert.equal(findProperty('user', input, extensionNames)?.name ?? null, expected);
    });
  }
});

describe('parseSelect', () => {
  const ok: Array<[string, Resource, string | null, SelectContext, string[] | null, string[] | null]> = [
    ['absent', 'user', null, 'collection', null, null],
    ['empty', 'user', '', 'collection', null, null],
    ['id kept in place', 'user', 'id,displayName', 'collection', ['id', 'displayName'], ['id', 'displayName']],
    [
      'id appended',
      'user',
      'displayName,accountEnabled',
      'collection',
      ['displayName', 'accountEnabled', 'id'],
      ['displayName', 'accountEnabled'],
    ],
    [
      'case-insensitive, canonical casing',
      'user',
      'DISPLAYNAME, userprincipalname ,OnPremisesExtensionAttributes',
      'delta',
      ['displayName', 'userPrincipalName', 'onPremisesExtensionAttributes', 'id'],
      ['displayName', 'userPrincipalName', 'onPremisesExtensionAttributes'],
    ],
    ['duplicates collapse', 'user', 'mail,Mail,MAIL', 'collection', ['mail', 'id'], ['mail']],
    [
      'navigation selectable (delta tracking)',
      'user',
      'displayName,manager',
      'delta',
      ['displayName', 'manager', 'id'],
      ['displayName', 'manager'],
    ],
    ['extension, any casing', 'user', EXT.toLowerCase(), 'collection', [EXT, 'id'], [EXT]],
    [
      'collection-unreadable on a single user',
      'user',
      'skills,aboutMe',
      'single',
      ['skills', 'aboutMe', 'id'],
      ['skills', 'aboutMe'],
    ],
    [
      'group members',
      'group',
      'displayName,members',
      'delta',
      ['displayName', 'members', 'id'],
      ['displayName', 'members'],
    ],
  ];
  for (const [name, resource, raw, context, props, requested] of ok) {
    it(`ok: ${name}`, () => {
      const r = parseSelect(resource, raw, { extensionNames, context });
      assert.deepEqual(r, { ok: true, props, requested });
    });
  }

  const errors: Array<[string, Resource, string, SelectContext, number, string, string]> = [
    [
      'unknown property',
      'user',
      'id,foo',
      'collection',
      400,
      'Request_BadRequest',
      "Could not find a property named 'foo' on type 'microsoft.graph.user'.",
    ],
    [
      'unknown on groups',
      'group',
      'Bar',
      'single',
      400,
      'Request_BadRequest',
      "Could not find a property named 'Bar' on type 'microsoft.graph.group'.",
    ],
    [
      'extension not defined by the tenant',
      'user',
      'extension_00000000000000000000000000000000_x',
      'collection',
      400,
      'Request_BadRequest',
      "Could not find a property named 'extension_00000000000000000000000000000000_x' on type 'microsoft.graph.user'.",
    ],
    [
      'skills in a collection',
      'user',
      'id,skills',
      'collection',
      501,
      'NotImplemented',
      'This operation target is not yet supported.',
    ],
    [
      'aboutMe in delta',
      'user',
      'aboutMe',
      'delta',
      501,
      'NotImplemented',
      'This operation target is not yet supported.',
    ],
    [
      'mailboxSettings in a collection',
      'user',
      'mailboxSettings',
      'collection',
      501,
      'NotImplemented',
      'This operation target is not yet supported.',
    ],
    [
      'unknown wins over 501',
      'user',
      'skills,foo',
      'collection',
      400,
      'Request_BadRequest',
      "Could not find a property named 'foo' on type 'microsoft.graph.user'.",
    ],
    [
      'empty term',
      'user',
      'id,,displayName',
      'collection',
      400,
      'Request_BadRequest',
      "Term 'id,,displayName' is not valid in a $select or $expand expression.",
    ],
    [
      'sub-property path',
      'user',
      'onPremisesExtensionAttributes/extensionAttribute1',
      'collection',
      400,
      'Request_BadRequest',
      "Term 'onPremisesExtensionAttributes/extensionAttribute1' is not valid in a $select or $expand expression.",
    ],
  ];
  for (const [name, resource, raw, context, status, code, message] of errors) {
    it(`error: ${name}`, () => {
      assert.deepEqual(parseSelect(resource, raw, { extensionNames, context }), { ok: false, status, code, message });
    });
  }
});

describe('projectEntity', () => {
  const stored: Record<string, unknown> = {
    id: 'u1',
    displayName: 'Ada Lovelace',
    userPrincipalName: 'ada@contoso.com',
    givenName: 'Ada',
    businessPhones: ['+44 20 1234'],
    accountEnabled: true,
    department: null,
    onPremisesExtensionAttributes: { extensionAttribute1: 'E1234' },
    employeeOrgData: { costCenter: 'CC-1' },
    proxyAddresses: ['SMTP:ada@contoso.com'],
    [EXT]: 'ada-l',
    secretInternalField: 'never leaks',
  };

  it('defaults: exactly the 11 default properties, unset → null, collections → []', () => {
    const out = projectEntity('user', { id: 'u2', displayName: 'Bob' }, null);
    assert.deepEqual(out, {
      businessPhones: [],
      displayName: 'Bob',
      givenName: null,
      id: 'u2',
      jobTitle: null,
      mail: null,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: null,
      userPrincipalName: null,
    });
  });

  it('selected properties only, in order; navigation omitted; complex shapes filled', () => {
    const out = projectEntity('user', stored, [
      'accountEnabled',
      'department',
      'otherMails',
      'onPremisesExtensionAttributes',
      'employeeOrgData',
      'manager',
      EXT,
      'id',
    ]);
    const attributes: Record<string, unknown> = {};
    for (let i = 1; i <= 15; i++) attributes[`extensionAttribute${i}`] = null;
    attributes.extensionAttribute1 = 'E1234';
    assert.deepEqual(out, {
      accountEnabled: true,
      department: null,
      otherMails: [],
      onPremisesExtensionAttributes: attributes,
      employeeOrgData: { division: null, costCenter: 'CC-1' },
      [EXT]: 'ada-l',
      id: 'u1',
    });
    assert.deepEqual(Object.keys(out), [
      'accountEnabled',
      'department',
      'otherMails',
      'onPremisesExtensionAttributes',
      'employeeOrgData',
      EXT,
      'id',
    ]);
  });

  it('unset onPremisesExtensionAttributes is still an object of nulls; unset employeeOrgData is null', () => {
    const out = projectEntity('user', { id: 'u3' }, [
      'onPremisesExtensionAttributes',
      'employeeOrgData',
      'identities',
      'id',
    ]);
    assert.equal(Object.keys(out.onPremisesExtensionAttributes as object).length, 15);
    assert.ok(Object.values(out.onPremisesExtensionAttributes as object).every((v) => v === null));
    assert.equal(out.employeeOrgData, null);
    assert.deepEqual(out.identities, []);
  });

  it('unset directory extensions are omitted', () => {
    assert.deepEqual(projectEntity('user', { id: 'u4' }, [EXT, 'id']), { id: 'u4' });
  });

  it('returns copies, not the stored arrays/objects', () => {
    const out = projectEntity('user', stored, ['proxyAddresses', 'id']);
    (out.proxyAddresses as string[]).push('smtp:x@y');
    assert.deepEqual(stored.proxyAddresses, ['SMTP:ada@contoso.com']);
  });

  it('groups: defaults include groupTypes/proxyAddresses as [], exclude members/owners', () => {
    const out = projectEntity(
      'group',
      { id: 'g1', displayName: 'Team', mailEnabled: false, securityEnabled: true },
      null,
    );
    assert.deepEqual(out.groupTypes, []);
    assert.deepEqual(out.proxyAddresses, []);
    assert.equal(out.description, null);
    assert.equal(out.securityEnabled, true);
    assert.ok(!('members' in out) && !('owners' in out));
  });
});

describe('contextUrl', () => {
  const cases: Array<[string, string, string, string[] | null, 'collection' | 'entity', string]> = [
    [
      'collection',
      'https://graph.microsoft.com',
      'users',
      null,
      'collection',
      'https://graph.microsoft.com/v1.0/$metadata#users',
    ],
    [
      'collection with $select',
      'https://localhost:8443',
      'users',
      ['id', 'displayName'],
      'collection',
      'https://localhost:8443/v1.0/$metadata#users(id,displayName)',
    ],
    [
      'entity',
      'https://graph.microsoft.com/',
      'users',
      null,
      'entity',
      'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
    ],
    [
      'entity with $select',
      'https://graph.microsoft.com',
      'users',
      ['displayName', 'mail', 'id'],
      'entity',
      'https://graph.microsoft.com/v1.0/$metadata#users(displayName,mail,id)/$entity',
    ],
    [
      'groups, base already versioned',
      'https://graph.microsoft.com/v1.0',
      'groups',
      [],
      'collection',
      'https://graph.microsoft.com/v1.0/$metadata#groups',
    ],
  ];
  for (const [name, base, set, props, kind, expected] of cases) {
    it(name, () => assert.equal(contextUrl(base, set, props, kind), expected));
  }
});
