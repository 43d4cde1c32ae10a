import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DELTA_FILTER_MAX_IDS,
  parseDeltaFilter,
  parseFilter,
  parseOrderBy,
  parseSearch,
  parseTop,
  searchRequiresConsistencyLevelError,
  type Entity,
} from './filter.ts';
import type { Resource } from './schema.ts';

const EXT = 'extension_5bfc8fdacfc943a9a6de214ea9d15fdb_linkedInProfile';
const extensionNames = new Set([EXT]);

const ADA = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOB = 'bbbbbbbb-0000-4000-8000-000000000002';
const CAROL = 'cccccccc-0000-4000-8000-000000000003';

const USERS: Record<string, Entity> = {
  ada: {
    id: ADA,
    displayName: 'Ada Lovelace',
    givenName: 'Ada',
    userPrincipalName: 'ada@contoso.com',
    mail: 'Ada.Lovelace@contoso.com',
    department: 'Engineering',
    companyName: 'Contoso',
    accountEnabled: true,
    userType: 'Member',
    businessPhones: ['+44 20 1234'],
    proxyAddresses: ['SMTP:ada.lovelace@contoso.com', 'smtp:ada@contoso.onmicrosoft.com'],
    otherMails: ['ada@example.org'],
    identities: [
      { signInType: 'userPrincipalName', issuer: 'contoso.onmicrosoft.com', issuerAssignedId: 'ada@contoso.com' },
    ],
    onPremisesExtensionAttributes: { extensionAttribute1: 'E1234' },
    employeeOrgData: { division: 'R&D', costCenter: 'CC-1' },
    onPremisesSyncEnabled: true,
    createdDateTime: '2021-03-12T10:36:14Z',
    [EXT]: 'ada-l',
  },
  bob: {
    id: BOB,
    displayName: "Bob O'Brien",
    userPrincipalName: 'bob_fabrikam.com#EXT#@contoso.onmicrosoft.com',
    mail: 'bob@fabrikam.com',
    department: null,
    accountEnabled: false,
    userType: 'Guest',
    proxyAddresses: [],
    otherMails: [],
    createdDateTime: '2023-06-01T00:00:00Z',
  },
  carol: {
    id: CAROL,
    displayName: 'Carol Danvers',
    userPrincipalName: 'carol@contoso.com',
    mail: null,
    department: 'sales',
    accountEnabled: true,
    userType: 'Member',
    proxyAddresses: ['SMTP:carol@contoso.com'],
    onPremisesExtensionAttributes: { extensionAttribute1: 'x' },
    onPremisesSyncEnabled: false,
    createdDateTime: '2022-01-01T00:00:00Z',
  },
};

const GROUPS: Record<string, Entity> = {
  team: {
    id: 'dddddddd-0000-4000-8000-000000000004',
    displayName: 'HelloWorld Team',
    description: 'Project room',
    groupTypes: ['Unified'],
    mailEnabled: true,
    securityEnabled: false,
    mail: 'team@contoso.com',
    proxyAddresses: ['SMTP:team@contoso.com'],
  },
  admins: {
    id: 'eeeeeeee-0000-4000-8000-000000000005',
    displayName: 'Admins',
    groupTypes: [],
    mailEnabled: false,
    securityEnabled: true,
    mail: null,
    proxyAddresses: [],
  },
};

function fixtures(resource: Resource): Record<string, Entity> {
  return resource === 'user' ? USERS : GROUPS;
}

function matching(resource: Resource, raw: string, advanced: boolean): string[] {
  const r = parseFilter(raw, resource, { advanced, extensionNames });
  if (!r.ok) assert.fail(`${raw}: ${r.code} ${r.message}`);
  return Object.entries(fixtures(resource))
    .filter(([, e]) => r.predicate(e))
    .map(([name]) => name);
}

const ADVANCED_HINT =
  'is not supported because the required parameters might be missing. Try adding $count=true query parameter ' +
  'and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more details.';
const operatorError = (op: string) => ({
  status: 400,
  code: 'Request_UnsupportedQuery',
  message: `Operator '${op}' ${ADVANCED_HINT}`,
});
const clauseError = (property: string, label = 'User') => ({
  status: 400,
  code: 'Request_UnsupportedQuery',
  message: `Unsupported or invalid query filter clause specified for property '${property}' of resource '${label}'.`,
});
const unknownError = (property: string, type = 'microsoft.graph.user') => ({
  status: 400,
  code: 'Request_BadRequest',
  message: `Could not find a property named '${property}' on type '${type}'.`,
});
const invalidClause = (detail: string) => ({
  status: 400,
  code: 'BadRequest',
  message: `Invalid filter clause: ${detail}`,
});
const UNSUPPORTED_QUERY = { status: 400, code: 'Request_UnsupportedQuery', message: 'Unsupported query.' };

describe('parseFilter: matching (basic mode)', () => {
  const cases: Array<[string, string[]]> = [
    ['accountEnabled eq true', ['ada', 'carol']],
    ['AccountEnabled EQ false', ['bob']],
    ["userType eq 'member'", ['ada', 'carol']],
    ["department eq 'Sales'", ['carol']],
    ["userPrincipalName eq 'ADA@CONTOSO.COM'", ['ada']],
    [`id eq '${ADA}'`, ['ada']],
    [`id eq ${ADA.toUpperCase()}`, ['ada']],
    [`id in ('${ADA}', '${CAROL}')`, ['ada', 'carol']],
    ["userType IN ('guest')", ['bob']],
    ["startswith(displayName,'a')", ['ada']],
    ["StartsWith(displayName, 'CAR')", ['carol']],
    ["startsWith(mail,'bob@')", ['bob']],
    ["displayName eq 'Bob O''Brien'", ['bob']],
    ["startswith(displayName,'bob o''')", ['bob']],
    ["displayName ge 'b' and displayName le 'c'", ['bob']],
    ["displayName gt 'bob'", ['bob', 'carol']],
    ["displayName lt 'b'", ['ada']],
    ['createdDateTime ge 2022-01-01T00:00:00Z', ['bob', 'carol']],
    ['createdDateTime lt 2022-01-01T00:00:00Z', ['ada']],
    ['createdDateTime le 2022-01-01', ['ada', 'carol']],
    ['createdDateTime eq 2022-01-01T01:00:00+01:00', ['carol']],
    ["userType eq 'Guest' or accountEnabled eq true and department eq 'sales'", ['bob', 'carol']],
    ["(userType eq 'Guest' or accountEnabled eq true) and department eq 'sales'", ['carol']],
    ["((userType eq 'Guest'))", ['bob']],
    ["proxyAddresses/any(p:startswith(p,'smtp:'))", ['ada', 'carol']],
    ["proxyAddresses/any(p:p eq 'smtp:carol@contoso.com')", ['carol']],
    ["proxyAddresses/ANY(x: x ge 'smtp:b')", ['carol']],
    ['proxyAddresses/any()', ['ada', 'carol']],
    ["otherMails/any(m:m eq 'ADA@example.org')", ['ada']],
    ["otherMails/any(m:m in ('nobody@x', 'ada@example.org'))", ['ada']],
    ["businessPhones/any(p:startswith(p,'+44'))", ['ada']],
    ["identities/any(c:c/issuerAssignedId eq 'ada@contoso.com' and c/issuer eq 'contoso.onmicrosoft.com')", ['ada']],
    [`${EXT} eq 'ADA-L'`, ['ada']],
    [`${EXT.toUpperCase()} eq 'ada-l'`, ['ada']],
    ["accountEnabled eq true and proxyAddresses/any(p:startswith(p,'SMTP:carol'))", ['carol']],
  ];
  for (const [raw, expected] of cases) {
    it(raw, () => assert.deepEqual(matching('user', raw, false), expected));
  }
});

describe('parseFilter: matching (advanced mode)', () => {
  const cases: Array<[string, string[]]> = [
    ["userType ne 'Guest'", ['ada', 'carol']],
    ["department ne 'sales'", ['ada', 'bob']],
    ['not(accountEnabled eq true)', ['bob']],
    ["NOT (startswith(displayName,'a'))", ['bob', 'carol']],
    ["not startswith(displayName,'a') and accountEnabled eq true", ['carol']],
    ["not (startswith(displayName,'a') and accountEnabled eq true)", ['bob', 'carol']],
    ["not(userType eq 'Guest') or userType eq 'Guest'", ['ada', 'bob', 'carol']],
    ["endswith(mail,'@contoso.com')", ['ada']],
    ["endsWith(userPrincipalName,'#EXT#@contoso.onmicrosoft.com')", ['bob']],
    ["ENDSWITH(mail, 'FABRIKAM.COM')", ['bob']],
    ["proxyAddresses/any(p:endswith(p,'contoso.com'))", ['ada', 'carol']],
    ["otherMails/any(p:endswith(p,'.org'))", ['ada']],
    ["not(proxyAddresses/any(p:startswith(p,'smtp:carol')))", ['ada', 'bob']],
    ['mail eq null', ['carol']],
    ['department eq null', ['bob']],
    ['mail ne null', ['ada', 'bob']],
    ['onPremisesSyncEnabled eq null', ['bob']],
    ['proxyAddresses/$count eq 0', ['bob']],
    ['otherMails/$count ne 0', ['ada']],
    ["onPremisesExtensionAttributes/extensionAttribute1 eq 'e1234'", ['ada']],
    ["onPremisesExtensionAttributes/extensionAttribute1 in ('x', 'y')", ['carol']],
    ["employeeOrgData/costCenter eq 'CC-1'", ['ada']],
    ["companyName eq 'contoso'", ['ada']],
    [`${EXT} ne 'ada-l'`, ['bob', 'carol']],
    [`${EXT} eq null`, ['bob', 'carol']],
    ["userType eq 'Member' and not(department eq 'sales') or userType eq 'Guest'", ['ada', 'bob']],
  ];
  for (const [raw, expected] of cases) {
    it(raw, () => assert.deepEqual(matching('user', raw, true), expected));
  }
});

describe('parseFilter: groups', () => {
  const cases: Array<[string, boolean, string[]]> = [
    ["groupTypes/any(c:c eq 'unified')", false, ['team']],
    ['mailEnabled eq true and securityEnabled eq false', false, ['team']],
    ['securityEnabled eq true', false, ['admins']],
    ["not(groupTypes/any(c:c eq 'Unified'))", true, ['admins']],
    ["startswith(displayName,'hello')", false, ['team']],
    ["endswith(mail,'@contoso.com')", true, ['team']],
    ["description eq 'project room'", true, ['team']],
  ];
  for (const [raw, advanced, expected] of cases) {
    it(`${raw}${advanced ? ' (advanced)' : ''}`, () => assert.deepEqual(matching('group', raw, advanced), expected));
  }
});

describe('parseFilter: errors', () => {
  type ErrorCase = [
    raw: string,
    resource: Resource,
    advanced: boolean,
    expected: { status: number; code: string; message: string },
  ];
  const cases: ErrorCase[] = [
    // Advanced-only operators without ConsistencyLevel + $count (§2.3).
    ["endswith(mail,'@contoso.com')", 'user', false, operatorError('endsWith')],
    ["userType ne 'Guest'", 'user', false, operatorError('ne')],
    ['mail ne null', 'user', false, operatorError('ne')],
    ['not(accountEnabled eq true)', 'user', false, operatorError('not')],
    ['mail eq null', 'user', false, operatorError('eq')],
    ['proxyAddresses/$count eq 0', 'user', false, operatorError('$count')],
    ["not(groupTypes/any(c:c eq 'Unified'))", 'group', false, operatorError('not')],
    // endsWith only on mail, otherMails, userPrincipalName, proxyAddresses.
    ["endswith(displayName,'x')", 'user', true, clauseError('displayName')],
    ["endswith(displayName,'x')", 'user', false, clauseError('displayName')],
    ["businessPhones/any(p:endswith(p,'1'))", 'user', true, clauseError('businessPhones')],
    ["endswith(displayName,'x')", 'group', true, clauseError('displayName', 'Group')],
    // Not filterable at all, or only in advanced mode.
    ["aboutMe eq 'x'", 'user', true, clauseError('aboutMe')],
    ["skills/any(s:s eq 'x')", 'user', true, clauseError('skills')],
    ["manager eq 'x'", 'user', false, clauseError('manager')],
    [`manager/id eq '${ADA}'`, 'user', true, clauseError('manager')],
    ['photo eq null', 'user', true, clauseError('photo')],
    ["members/any(m:m eq 'x')", 'group', true, clauseError('members', 'Group')],
    ["visibility eq 'Public'", 'group', true, clauseError('visibility', 'Group')],
    ["companyName eq 'Contoso'", 'user', false, clauseError('companyName')],
    ["officeLocation eq 'HQ'", 'user', false, clauseError('officeLocation')],
    ["onPremisesExtensionAttributes/extensionAttribute1 eq 'x'", 'user', false, clauseError('extensionAttribute1')],
    ["description eq 'x'", 'group', false, clauseError('description', 'Group')],
    ['accountEnabled ge true', 'user', true, clauseError('accountEnabled')],
    ["startswith(userType,'G')", 'user', true, clauseError('userType')],
    ["proxyAddresses/any(p:p ne 'x')", 'user', true, clauseError('proxyAddresses')],
    ['groupTypes/$count eq 0', 'group', true, clauseError('groupTypes', 'Group')],
    ['accountEnabled', 'user', false, clauseError('accountEnabled')],
    // Unknown properties.
    ["foo eq 'x'", 'user', false, unknownError('foo')],
    ["Foo eq 'x'", 'group', false, unknownError('Foo', 'microsoft.graph.group')],
    [
      "extension_00000000000000000000000000000000_x eq 'x'",
      'user',
      true,
      unknownError('extension_00000000000000000000000000000000_x'),
    ],
    [
      "onPremisesExtensionAttributes/extensionAttribute99 eq 'x'",
      'user',
      true,
      unknownError('extensionAttribute99', 'microsoft.graph.onPremisesExtensionAttributes'),
    ],
    ["identities/any(c:c/foo eq 'x')", 'user', false, unknownError('foo', 'microsoft.graph.objectIdentity')],
    // OData binding errors come before the directory's rules, wherever they are.
    ["endswith(mail,'x') and foo eq 'y'", 'user', false, unknownError('foo')],
    ["not(foo eq 'x')", 'user', false, unknownError('foo')],
    [
      "userType ne 'Guest' and accountEnabled eq 'true'",
      'user',
      false,
      invalidClause(
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.",
      ),
    ],
    // Syntax (ODataLib wording, wrapped by Graph).
    ['displayName eq', 'user', false, invalidClause("Expression expected at position 14 in 'displayName eq'.")],
    [
      "displayName eq 'abc",
      'user',
      false,
      invalidClause("There is an unterminated string literal at position 19 in 'displayName eq 'abc'."),
    ],
    [
      'startswith(displayName, "a")',
      'user',
      false,
      invalidClause(`Syntax error: character '"' is not valid at position 24 in 'startswith(displayName, "a")'.`),
    ],
    [
      "jobtitle ge '!' , accountenabled eq true",
      'user',
      false,
      invalidClause("Syntax error at position 17 in 'jobtitle ge '!' , accountenabled eq true'."),
    ],
    [
      "(displayName eq 'a'",
      'user',
      false,
      invalidClause("')' or operator expected at position 19 in '(displayName eq 'a''."),
    ],
    [
      "userType in ('a' 'b')",
      'user',
      false,
      invalidClause("')' or ',' expected at position 17 in 'userType in ('a' 'b')'."),
    ],
    ['', 'user', false, invalidClause("Expression expected at position 0 in ''.")],
    // Types.
    [
      "accountEnabled eq 'true'",
      'user',
      false,
      invalidClause(
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.",
      ),
    ],
    [
      "proxyAddresses eq 'x'",
      'user',
      false,
      invalidClause(
        "A binary operator with incompatible types was detected. Found operand types 'Collection(Edm.String)' and 'Edm.String' for operator kind 'Equal'.",
      ),
    ],
    [
      'createdDateTime ge 5',
      'user',
      false,
      invalidClause(
        "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.Int32' for operator kind 'GreaterThanOrEqual'.",
      ),
    ],
    [
      "displayName eq 'a' and 'b'",
      'user',
      false,
      invalidClause(
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'And'.",
      ),
    ],
    [
      "not displayName eq 'x'",
      'user',
      true,
      invalidClause(
        "A unary operator with an incompatible type was detected. Found operand type 'Edm.String' for operator kind 'Not'.",
      ),
    ],
    ['displayName', 'user', false, invalidClause('The $filter expression must evaluate to a single boolean value.')],
    [
      "startswith(accountEnabled,'t')",
      'user',
      false,
      invalidClause(
        "No function signature for the function with name 'startswith' matches the specified arguments. The function signatures considered are: startswith(Edm.String Nullable=true, Edm.String Nullable=true).",
      ),
    ],
    [
      'foo(displayName)',
      'user',
      false,
      invalidClause(
        "An unknown function with name 'foo' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.",
      ),
    ],
    ["displayName/any(c:c eq 'x')", 'user', false, invalidClause('Any/All may only be used following a collection.')],
    [
      "identities/issuer eq 'x'",
      'user',
      false,
      invalidClause(
        "The parent value for a property access of a property 'issuer' is not a single value. Property access can only be applied to a single value.",
      ),
    ],
    // Valid OData the directory does not serve.
    ["contains(displayName,'a')", 'user', true, UNSUPPORTED_QUERY],
    ["proxyAddresses/all(p:startswith(p,'smtp'))", 'user', true, UNSUPPORTED_QUERY],
    ["'Ada Lovelace' eq displayName", 'user', false, UNSUPPORTED_QUERY],
  ];
  for (const [raw, resource, advanced, expected] of cases) {
    it(`${resource}${advanced ? ' (advanced)' : ''}: ${raw || '<empty>'}`, () => {
      assert.deepEqual(parseFilter(raw, resource, { advanced, extensionNames }), { ok: false, ...expected });
    });
  }
});

describe('parseFilter: ast', () => {
  it('exposes the parsed tree with and binding tighter than or', () => {
    const ok = parseFilter("mail eq 'x' or city eq 'y' and accountEnabled eq true", 'user', {
      advanced: false,
      extensionNames,
    });
    assert.ok(ok.ok);
    assert.deepEqual(ok.ast, {
      kind: 'or',
      left: {
        kind: 'compare',
        op: 'eq',
        left: { kind: 'path', segments: ['mail'] },
        right: { kind: 'literal', type: 'string', value: 'x' },
      },
      right: {
        kind: 'and',
        left: {
          kind: 'compare',
          op: 'eq',
          left: { kind: 'path', segments: ['city'] },
          right: { kind: 'literal', type: 'string', value: 'y' },
        },
        right: {
          kind: 'compare',
          op: 'eq',
          left: { kind: 'path', segments: ['accountEnabled'] },
          right: { kind: 'literal', type: 'boolean', value: true },
        },
      },
    });
  });
});

describe('parseDeltaFilter', () => {
  const ids = (n: number) =>
    Array.from({ length: n }, (_, i) => `id eq '${String(i).padStart(8, '0')}-0000-4000-8000-000000000000'`).join(
      ' or ',
    );
  const ok: Array<[string, string[]]> = [
    [`id eq '${ADA}'`, [ADA]],
    [`id eq '${ADA}' or id eq '${BOB}'`, [ADA, BOB]],
    [`ID EQ '${ADA}' OR (id eq ${BOB}) or id eq '${ADA.toUpperCase()}'`, [ADA, BOB]],
  ];
  for (const [raw, expected] of ok) {
    it(`ok: ${raw}`, () => assert.deepEqual(parseDeltaFilter(raw), { ok: true, ids: expected }));
  }
  it(`accepts ${DELTA_FILTER_MAX_IDS} ids`, () => {
    const r = parseDeltaFilter(ids(DELTA_FILTER_MAX_IDS));
    assert.ok(r.ok && r.ids.length === DELTA_FILTER_MAX_IDS);
  });

  const errors: Array<[string, { status: number; code: string; message: string }]> = [
    [
      ids(51),
      {
        status: 400,
        code: 'Request_UnsupportedQuery',
        message: 'Too many ids in the delta filter: 51. At most 50 are supported.',
      },
    ],
    ["displayName eq 'x'", clauseError('displayName')],
    ["foo eq 'x'", unknownError('foo')],
    [`id eq '${ADA}' and id eq '${BOB}'`, UNSUPPORTED_QUERY],
    [`id ne '${ADA}'`, UNSUPPORTED_QUERY],
    [`id in ('${ADA}')`, UNSUPPORTED_QUERY],
    ['id eq 5', UNSUPPORTED_QUERY],
    ['id eq', invalidClause("Expression expected at position 5 in 'id eq'.")],
  ];
  for (const [raw, expected] of errors) {
    it(`error: ${raw.slice(0, 60)}`, () => assert.deepEqual(parseDeltaFilter(raw), { ok: false, ...expected }));
  }
});

describe('parseSearch', () => {
  const searchMatches = (resource: Resource, raw: string): string[] => {
    const r = parseSearch(raw, resource);
    if (!r.ok) assert.fail(`${raw}: ${r.code} ${r.message}`);
    return Object.entries(fixtures(resource))
      .filter(([, e]) => r.predicate(e))
      .map(([name]) => name);
  };
  const cases: Array<[Resource, string, string[]]> = [
    ['user', '"displayName:ada"', ['ada']],
    ['user', '"displayName:LOVE"', ['ada']],
    ['user', '"displayName:lace"', []],
    ['user', '"displayName:ada lovelace"', ['ada']],
    ['user', '"displayName:ada smith"', []],
    ['user', '"displayName:brien"', ['bob']],
    ['user', '"mail:ada.love"', ['ada']],
    ['user', '"mail:lovelace"', []],
    ['user', '"proxyAddresses:smtp:carol"', ['carol']],
    ['user', '"displayName:ada" OR "displayName:bob"', ['ada', 'bob']],
    ['user', '"displayName:ada" AND "mail:bob"', []],
    ['user', '"displayName:a" OR "displayName:b" AND "mail:bob"', ['ada', 'bob']],
    ['user', '  "DisplayName:carol"  and  "userPrincipalName:CAROL@"  ', ['carol']],
    ['group', '"displayName:world"', ['team']],
    ['group', '"displayName:hello"', ['team']],
    ['group', '"description:room"', ['team']],
  ];
  for (const [resource, raw, expected] of cases) {
    it(`${resource}: ${raw}`, () => assert.deepEqual(searchMatches(resource, raw), expected));
  }

  const errors: Array<[string, { status: number; code: string; message: string }]> = [
    [
      'displayName:ada',
      {
        status: 400,
        code: 'BadRequest',
        message: "Syntax error: character 'd' is not valid at position 0 in 'displayName:ada'.",
      },
    ],
    [
      '"displayName:ada',
      {
        status: 400,
        code: 'BadRequest',
        message: `Syntax error: character '"' is not valid at position 0 in '"displayName:ada'.`,
      },
    ],
    [
      '"displayName:ada" AND',
      {
        status: 400,
        code: 'BadRequest',
        message: `Syntax error: character '' is not valid at position 21 in '"displayName:ada" AND'.`,
      },
    ],
    [
      '"displayName:a" XOR "mail:b"',
      {
        status: 400,
        code: 'BadRequest',
        message: `Syntax error: character 'X' is not valid at position 16 in '"displayName:a" XOR "mail:b"'.`,
      },
    ],
    [
      '"ada"',
      {
        status: 400,
        code: 'Request_UnsupportedQuery',
        message: `Invalid $search clause '"ada"': expected "property:value".`,
      },
    ],
    ['"foo:x"', unknownError('foo')],
    [
      '"accountEnabled:true"',
      {
        status: 400,
        code: 'Request_UnsupportedQuery',
        message:
          "Unsupported or invalid query search clause specified for property 'accountEnabled' of resource 'User'.",
      },
    ],
  ];
  for (const [raw, expected] of errors) {
    it(`error: ${raw}`, () => assert.deepEqual(parseSearch(raw), { ok: false, ...expected }));
  }

  it('exports the ConsistencyLevel error of §2.3', () => {
    assert.deepEqual(searchRequiresConsistencyLevelError(), {
      ok: false,
      status: 400,
      code: 'Request_UnsupportedQuery',
      message:
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    });
  });
});

describe('parseOrderBy', () => {
  const sorted = (raw: string, advanced: boolean, entities: Record<string, Entity> = USERS): string[] => {
    const r = parseOrderBy(raw, 'user', advanced);
    if (!r.ok || !r.compare) return assert.fail(`${raw}: ${r.ok ? 'no comparator' : r.message}`);
    const compare = r.compare;
    return Object.entries(entities)
      .sort(([, a], [, b]) => compare(a, b))
      .map(([name]) => name);
  };
  const cases: Array<[string, boolean, string[]]> = [
    ['displayName', false, ['ada', 'bob', 'carol']],
    ['displayName desc', false, ['carol', 'bob', 'ada']],
    ['DisplayName DESC', false, ['carol', 'bob', 'ada']],
    ['userPrincipalName asc', false, ['ada', 'bob', 'carol']],
    ['mail', true, ['carol', 'ada', 'bob']],
    ['createdDateTime desc', true, ['bob', 'carol', 'ada']],
    ['givenName, displayName desc', true, ['carol', 'bob', 'ada']],
  ];
  for (const [raw, advanced, expected] of cases) {
    it(`${raw}${advanced ? ' (advanced)' : ''}`, () => assert.deepEqual(sorted(raw, advanced), expected));
  }

  it('breaks ties on id', () => {
    const twins = { second: { id: 'b', displayName: 'Same' }, first: { id: 'a', displayName: 'same' } };
    assert.deepEqual(sorted('displayName', false, twins), ['first', 'second']);
  });

  it('groups sort by displayName', () => {
    const r = parseOrderBy('displayName', 'group', false);
    assert.ok(r.ok && r.compare && r.compare(GROUPS.admins, GROUPS.team) < 0);
  });

  it('empty → no comparator', () => assert.deepEqual(parseOrderBy('', 'user', false), { ok: true, compare: null }));

  const errors: Array<[string, Resource, boolean, boolean, { status: number; code: string; message: string }]> = [
    [
      'createdDateTime desc',
      'user',
      false,
      false,
      {
        status: 400,
        code: 'Request_UnsupportedQuery',
        message: "Unsupported sort property 'createdDateTime' for 'User'.",
      },
    ],
    [
      'department',
      'user',
      true,
      false,
      { status: 400, code: 'Request_UnsupportedQuery', message: "Unsupported sort property 'department' for 'User'." },
    ],
    [
      'securityEnabled',
      'group',
      true,
      false,
      {
        status: 400,
        code: 'Request_UnsupportedQuery',
        message: "Unsupported sort property 'securityEnabled' for 'Group'.",
      },
    ],
    ['foo', 'user', true, false, unknownError('foo')],
    [
      'displayName',
      'user',
      false,
      true,
      { status: 400, code: 'Request_UnsupportedQuery', message: 'Sorting not supported for current query.' },
    ],
    [
      'displayName sideways',
      'user',
      false,
      false,
      { status: 400, code: 'BadRequest', message: "Syntax error at position 20 in 'displayName sideways'." },
    ],
  ];
  for (const [raw, resource, advanced, hasFilter, expected] of errors) {
    it(`error: ${resource} ${raw}${advanced ? ' (advanced)' : ''}${hasFilter ? ' with $filter' : ''}`, () => {
      assert.deepEqual(parseOrderBy(raw, resource, advanced, { hasFilter }), { ok: false, ...expected });
    });
  }
});

describe('parseTop', () => {
  const ok: Array<[string | null, number | undefined, number | null]> = [
    [null, undefined, null],
    ['1', undefined, 1],
    ['999', undefined, 999],
    [' 25 ', undefined, 25],
    ['100', 100, 100],
  ];
  for (const [raw, max, top] of ok) {
    it(`ok: ${raw}`, () => assert.deepEqual(parseTop(raw, max), { ok: true, top }));
  }
  const pageSize = (raw: string, max = 999) => ({
    status: 400,
    code: 'Request_UnsupportedQuery',
    message: `Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`,
  });
  const notInteger = (raw: string) => ({
    status: 400,
    code: 'BadRequest',
    message: `Invalid value '${raw}' for $top query option found. The $top query option requires a non-negative integer value.`,
  });
  const errors: Array<[string, number | undefined, { status: number; code: string; message: string }]> = [
    ['1000', undefined, pageSize('1000')],
    ['0', undefined, pageSize('0')],
    ['101', 100, pageSize('101', 100)],
    ['-1', undefined, notInteger('-1')],
    ['ten', undefined, notInteger('ten')],
    ['1.5', undefined, notInteger('1.5')],
  ];
  for (const [raw, max, expected] of errors) {
    it(`error: ${raw}`, () => assert.deepEqual(parseTop(raw, max), { ok: false, ...expected }));
  }
});
