import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileMapping } from './mapping.ts';
import { compileScope } from './scope/scope.ts';

// The mapping and scope stages on Graph user objects: defaults, source/expression/constant, default and applyOn,
// per-user errors naming the field; and every scope rule with the reason it gives.

const ada = {
  id: 'u1',
  userPrincipalName: 'Ada.Lovelace@contoso.com',
  displayName: 'Ada Lovelace',
  mail: null,
  givenName: 'Ada',
  surname: 'Lovelace',
  userType: 'Member',
  jobTitle: '  ',
  department: 'Research',
  employeeId: 'E-7',
  accountEnabled: true,
  onPremisesExtensionAttributes: { extensionAttribute3: 'CC-42' },
  proxyAddresses: ['SMTP:ada@contoso.com', 'smtp:a@contoso.com'],
};

describe('mapping', () => {
  it('maps every field by default as configuration.md says, trimming empty text to null', () => {
    const result = compileMapping().map(ada, null);
    assert.ok('ok' in result);
    assert.deepEqual(result.ok.profile, {
      loginAccount: 'Ada.Lovelace@contoso.com',
      name: 'Ada Lovelace',
      email: null,
      firstName: 'Ada',
      lastName: 'Lovelace',
      userType: 'Member',
      jobTitle: null,
      department: 'Research',
      country: null,
      officeLocation: null,
      city: null,
      mobilePhone: null,
      postalCode: null,
      companyName: null,
      employeeNo: 'E-7',
      faxNumber: null,
    });
    assert.deepEqual(result.ok.custom, {});
  });

  it('applies source, expression, constant, default and custom fields', () => {
    const mapping = compileMapping({
      fields: {
        email: { expression: 'Coalesce([mail], ToLower([userPrincipalName]))' },
        jobTitle: { source: 'jobTitle', default: 'Staff' },
        companyName: { constant: 'Contoso' },
      },
      custom: {
        costCenter: { source: 'extensionAttribute3' },
        claims: { expression: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))' },
        seniority: { constant: 3 },
      },
    });
    const { ok } = mapping.map(ada, null) as {
      ok: { profile: Record<string, unknown>; custom: Record<string, unknown> };
    };
    assert.equal(ok.profile.email, 'ada.lovelace@contoso.com');
    assert.equal(ok.profile.jobTitle, 'Staff', 'an empty value takes the default');
    assert.equal(ok.profile.companyName, 'Contoso');
    assert.deepEqual(ok.custom, {
      costCenter: 'CC-42',
      claims: 'i:0#.f|membership|ada.lovelace@contoso.com',
      seniority: 3,
    });
    assert.ok(
      mapping.properties.includes('onPremisesExtensionAttributes') && mapping.properties.includes('jobTitle'),
      mapping.properties.join(),
    );
  });

  it('applyOn create sets a field only when the user is created; IgnoreFlowIfNullOrEmpty keeps the stored value', () => {
    const mapping = compileMapping({
      fields: {
        department: { source: 'department', applyOn: 'create' },
        city: { expression: 'IgnoreFlowIfNullOrEmpty([city])' },
      },
    });
    const created = mapping.map(ada, null) as unknown as {
      ok: { profile: Record<string, string | null>; custom: Record<string, never> };
    };
    assert.equal(created.ok.profile.department, 'Research');
    const stored = {
      profile: { ...created.ok.profile, department: 'Set by the app', city: 'Leeds' },
      custom: {},
    } as never;
    const updated = mapping.map({ ...ada, department: 'Physics' }, stored) as {
      ok: { profile: Record<string, string | null> };
    };
    assert.equal(updated.ok.profile.department, 'Set by the app', 'not overwritten after creation');
    assert.equal(updated.ok.profile.city, 'Leeds', 'no city in Entra: the field is left as it was');
  });

  it('a user whose mapping fails gets an error naming the field; the mapping itself stays usable', () => {
    const mapping = compileMapping({
      fields: { loginAccount: { source: 'mail' }, email: { expression: 'CDate([employeeHireDate])' } },
      custom: { addresses: { source: 'proxyAddresses' } },
    });
    assert.deepEqual(mapping.map({ ...ada, mail: 'ada@contoso.com', employeeHireDate: 'soon' }, null), {
      error: {
        field: 'email',
        message:
          'CDate: expected a date, got "soon" at character 7: write dates as 2021-08-25, 2021-08-25T17:41:18Z or 8/25/2021 5:41:18 PM, or read other forms with FormatDateTime',
      },
    });
    assert.deepEqual(mapping.map({ ...ada, mail: null, employeeHireDate: '2020-01-01' }, null), {
      error: {
        field: 'loginAccount',
        message:
          'maps to an empty value; every directory user needs a login account (check mapping.fields.loginAccount)',
      },
    });
    const many = mapping.map({ ...ada, mail: 'ada@contoso.com', employeeHireDate: '2020-01-01' }, null);
    assert.deepEqual(many, {
      error: {
        field: 'addresses',
        message: 'maps to 2 values; a field holds one (pick one with Item(…, 1), or combine them with Join)',
      },
    });
  });
});

describe('scope', () => {
  it('everyone by default', () => assert.deepEqual(compileScope().decide(ada), { in: true }));

  it('scope groups: members of any of them (ids compared case-insensitively)', () => {
    const scope = compileScope({ groups: ['00AA00AA-BB11-CC22-DD33-44EE44EE44EE'], nestedGroups: false });
    assert.equal(scope.byGroups, true);
    assert.equal(scope.nestedGroups, false);
    assert.deepEqual(scope.decide(ada, new Set(['00aa00aa-bb11-cc22-dd33-44ee44ee44ee'])), { in: true });
    assert.deepEqual(scope.decide(ada, new Set()), {
      in: false,
      reason: 'not a member of any scope group (direct members only)',
    });
  });

  it('user types, disabled accounts, excluded addresses and filters, each with its reason', () => {
    assert.deepEqual(compileScope({ userTypes: ['Member'] }).decide({ ...ada, userType: 'Guest' }), {
      in: false,
      reason: 'user type Guest is not in scope (scope.userTypes: Member)',
    });
    assert.deepEqual(compileScope({ disabledAccounts: 'skip' }).decide({ ...ada, accountEnabled: false }), {
      in: false,
      reason: 'the account is disabled and scope.disabledAccounts is "skip"',
    });
    assert.deepEqual(compileScope({ disabledAccounts: 'sync' }).decide({ ...ada, accountEnabled: false }), {
      in: true,
    });
    assert.deepEqual(compileScope({ excludeEmails: ['*@CONTOSO.com'] }).decide(ada), {
      in: false,
      reason: 'Ada.Lovelace@contoso.com matches the excluded address *@CONTOSO.com (scope.excludeEmails)',
    });
    assert.deepEqual(compileScope({ excludeEmails: ['ceo@contoso.com', '*@contractors.contoso.com'] }).decide(ada), {
      in: true,
    });
    assert.deepEqual(
      compileScope({ filters: [[{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }]] }).decide(ada),
      { in: false, reason: 'filter 1, clause 1 (department EQUALS "Sales"): department is "Research"' },
    );
  });
});
