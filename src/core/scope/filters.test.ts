import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphUserAttributes } from '../expression/index.ts';
import { compileFilters, FiltersError, type Clause } from './filters.ts';

// Entra's scoping filters: each operator with Microsoft's documented meaning, null handling, AND within a filter,
// OR across filters, and validation that names the path and the fix.

const inScope = (filters: Clause[][], user: Record<string, unknown>) =>
  compileFilters(filters).decide(graphUserAttributes(user));
const holds = (clause: Clause, user: Record<string, unknown>) => inScope([[clause]], user).in;

describe('operators', () => {
  const cases: [Clause, Record<string, unknown>, boolean][] = [
    [{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }, { department: 'Sales' }, true],
    [{ attribute: 'department', operator: 'EQUALS', value: 'sales' }, { department: 'Sales' }, false],
    [{ attribute: 'department', operator: 'NOT EQUALS', value: 'Sales' }, { department: 'Marketing' }, true],
    [{ attribute: 'department', operator: 'NOT EQUALS', value: 'Sales' }, { department: 'Sales' }, false],
    [{ attribute: 'accountEnabled', operator: 'IS TRUE' }, { accountEnabled: true }, true],
    [{ attribute: 'accountEnabled', operator: 'IS TRUE' }, { accountEnabled: false }, false],
    [{ attribute: 'accountEnabled', operator: 'IS FALSE' }, { accountEnabled: false }, true],
    [{ attribute: 'accountEnabled', operator: 'EQUALS', value: 'true' }, { accountEnabled: true }, true],
    [{ attribute: 'jobTitle', operator: 'IS NULL' }, {}, true],
    [{ attribute: 'jobTitle', operator: 'IS NULL' }, { jobTitle: '' }, true],
    [{ attribute: 'jobTitle', operator: 'IS NULL' }, { jobTitle: 'Engineer' }, false],
    [{ attribute: 'jobTitle', operator: 'IS NOT NULL' }, { jobTitle: 'Engineer' }, true],
    [{ attribute: 'jobTitle', operator: 'IS NOT NULL' }, { jobTitle: '' }, false],
    [
      { attribute: 'userPrincipalName', operator: 'REGEX MATCH', value: '.*\\@domain.com' },
      { userPrincipalName: 'a@domain.com' },
      true,
    ],
    [
      { attribute: 'userPrincipalName', operator: 'REGEX MATCH', value: '.*\\@domain.com' },
      { userPrincipalName: 'a@other.com' },
      false,
    ],
    [
      { attribute: 'userPrincipalName', operator: 'NOT REGEX MATCH', value: '.*\\@domain.com' },
      { userPrincipalName: 'a@other.com' },
      true,
    ],
    [{ attribute: 'employeeId', operator: 'REGEX MATCH', value: '([1-9][0-9])' }, { employeeId: 'x42y' }, true],
    [{ attribute: 'employeeId', operator: 'REGEX MATCH', value: '^([1-9][0-9])$' }, { employeeId: 'x42y' }, false],
    [
      { attribute: 'employeeId', operator: 'REGEX MATCH', value: '(1[0-9][0-9][0-9][0-9][0-9][0-9])' },
      { employeeId: '1500000' },
      true,
    ],
    [{ attribute: 'employeeId', operator: 'Greater_Than', value: '1000000' }, { employeeId: '1500000' }, true],
    [{ attribute: 'employeeId', operator: 'Greater_Than', value: '1500000' }, { employeeId: '1500000' }, false],
    [
      { attribute: 'employeeId', operator: 'Greater_Than_OR_EQUALS', value: '1500000' },
      { employeeId: '1500000' },
      true,
    ],
    [{ attribute: 'employeeId', operator: 'Greater_Than', value: '10' }, { employeeId: 'E-15' }, false],
    [{ attribute: 'jobTitle', operator: 'Includes', value: 'Eng' }, { jobTitle: 'Senior Engineer' }, true],
    [{ attribute: 'jobTitle', operator: 'Includes', value: 'eng' }, { jobTitle: 'Senior Engineer' }, false],
    [{ attribute: 'mail', operator: 'ENDS_WITH', value: '@contoso.com' }, { mail: 'a@contoso.com' }, true],
    [{ attribute: 'mail', operator: 'ENDS_WITH', value: '@contoso.com' }, { mail: 'a@contoso.com.evil' }, false],
    [{ attribute: 'country', operator: '&', value: 'NL,BE,LU' }, { country: 'BE' }, true],
    [{ attribute: 'country', operator: '&', value: 'NL,BE,LU' }, { country: 'DE' }, false],
    [{ attribute: 'country', operator: '!&', value: 'NL,BE,LU' }, { country: 'DE' }, true],
  ];
  for (const [clause, user, expected] of cases) {
    it(`${clause.attribute} ${clause.operator} ${clause.value ?? ''} on ${JSON.stringify(user)} → ${expected}`, () =>
      assert.equal(holds(clause, user), expected));
  }

  it('a null or empty attribute fails every operator but IS NULL', () => {
    for (const operator of [
      'EQUALS',
      'NOT EQUALS',
      'REGEX MATCH',
      'NOT REGEX MATCH',
      'Includes',
      'ENDS_WITH',
      '&',
      '!&',
      'Greater_Than',
      'Greater_Than_OR_EQUALS',
    ]) {
      for (const user of [{}, { department: '' }])
        assert.equal(
          holds({ attribute: 'department', operator, value: '1' }, user),
          false,
          `${operator} on ${JSON.stringify(user)}`,
        );
    }
    for (const operator of ['IS TRUE', 'IS FALSE', 'IS NOT NULL'])
      assert.equal(holds({ attribute: 'department', operator }, {}), false, operator);
  });

  it('names operators case-insensitively, with spaces or underscores', () => {
    for (const operator of [
      'equals',
      'Not_Equals',
      'ends with',
      'GREATER_THAN',
      'greater than or equals',
      'is not null',
      'regex_match',
    ]) {
      assert.doesNotThrow(
        () => compileFilters([[{ attribute: 'a', operator, ...(operator === 'is not null' ? {} : { value: '1' }) }]]),
        operator,
      );
    }
  });
});

describe('filters', () => {
  const newYorkEngineers: Clause[] = [
    { attribute: 'state', operator: 'EQUALS', value: 'New York' },
    { attribute: 'department', operator: 'EQUALS', value: 'Engineering' },
    { attribute: 'employeeId', operator: 'Greater_Than_OR_EQUALS', value: '1000000' },
    { attribute: 'jobTitle', operator: 'IS NOT NULL' },
  ];

  it('ANDs the clauses of a filter (the documented New York engineers example) and says which clause failed', () => {
    const user = { state: 'New York', department: 'Engineering', employeeId: '1234567', jobTitle: 'Developer' };
    assert.deepEqual(inScope([newYorkEngineers], user), { in: true });
    assert.deepEqual(inScope([newYorkEngineers], { ...user, jobTitle: null }), {
      in: false,
      reason: 'filter 1, clause 4 (jobTitle IS NOT NULL): jobTitle is empty',
    });
    assert.deepEqual(inScope([newYorkEngineers], { ...user, department: 'Sales' }), {
      in: false,
      reason: 'filter 1, clause 2 (department EQUALS "Engineering"): department is "Sales"',
    });
  });

  it('ORs filters; no filter at all is everyone', () => {
    const sales: Clause[] = [{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }];
    assert.equal(inScope([newYorkEngineers, sales], { department: 'Sales' }).in, true);
    const out = inScope([newYorkEngineers, sales], { department: 'Legal', state: 'Ohio' });
    assert.equal(out.in, false);
    assert.match(
      (out as { reason: string }).reason,
      /^no scoping filter matches: filter 1, clause 1 .*; filter 2, clause 1 \(department EQUALS "Sales"\): department is "Legal"$/,
    );
    assert.deepEqual(inScope([], {}), { in: true });
  });

  it('validates every clause at once, naming the path and the fix', () => {
    assert.throws(
      () =>
        compileFilters([
          [
            { attribute: 'department', operator: 'EQUALS', value: 'Sales' },
            { attribute: 'department', operator: 'EQUAL', value: 'Sales' },
          ],
          [
            { attribute: 'x', operator: 'IS TRUE', value: 'yes' },
            { attribute: 'y', operator: 'Greater_Than', value: 'ten' },
            { operator: 'EQUALS' },
          ],
          [],
          [
            { attribute: 'z', operator: 'REGEX MATCH', value: '(' },
            { attribute: 'w', operator: 'EQUALS', vlaue: 'a' },
          ],
        ]),
      (e: FiltersError) => {
        assert.deepEqual(e.message.split('; ').slice(0, 3), [
          'filters[0][1].operator: unknown operator "EQUAL"',
          'did you mean "EQUALS"?',
          'filters[1][0].value: IS TRUE takes no value',
        ]);
        assert.deepEqual(
          e.issues.map((i) => i.path.join('.')),
          [
            '0.1.operator',
            '1.0.value',
            '1.1.value',
            '1.2.attribute',
            '1.2.value',
            '2',
            '3.0.value',
            '3.1.vlaue',
            '3.1.value',
          ],
        );
        assert.match(e.issues[2].message, /must be a whole number for this operator, got "ten"/);
        assert.match(e.issues[6].message, /is not a valid regular expression/);
        return true;
      },
    );
  });

  it('refuses multi-valued attributes, as Entra does', () => {
    assert.throws(
      () =>
        inScope([[{ attribute: 'proxyAddresses', operator: 'Includes', value: 'x' }]], { proxyAddresses: ['a', 'b'] }),
      /proxyAddresses has several values/,
    );
  });
});
