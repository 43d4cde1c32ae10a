import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { settingsJsonSchemaText, validateSettings } from './settings.ts';

// The settings document: the contract's example is valid, every problem of a bad one is reported at once as
// `path: message` with the fix, and docs/settings.schema.json is generated from the same schema.

const problems = (document: unknown) => {
  const result = validateSettings(document);
  assert.equal(result.ok, false, 'the document is invalid');
  return (result as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`);
};

describe('settings document', () => {
  it('accepts {} and the example of DESIGN.md', () => {
    assert.deepEqual(validateSettings({}), { ok: true, settings: {} });
    const example = {
      scope: {
        groups: ['00aa00aa-bb11-cc22-dd33-44ee44ee44ee'],
        nestedGroups: true,
        userTypes: ['Member', 'Guest'],
        disabledAccounts: 'sync',
        filters: [[{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }]],
        excludeEmails: ['*@contractors.example.com', 'ceo@example.com'],
      },
      mapping: {
        fields: {
          email: { expression: 'Coalesce([mail], [userPrincipalName])' },
          jobTitle: { source: 'jobTitle', default: 'Staff' },
          department: { source: 'department', applyOn: 'create' },
        },
        custom: {
          costCenter: { source: 'extension_0a1b2c3d4e5f60718293a4b5c6d7e8f9_costCenter' },
          claimsAccount: { expression: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))' },
        },
      },
      departments: { sync: true },
      groups: {
        sync: 'all',
        types: ['microsoft365', 'security', 'mail-enabled-security', 'distribution'],
        map: { '00aa00aa-bb11-cc22-dd33-44ee44ee44ee': 'Sales team' },
      },
    };
    const result = validateSettings(example);
    assert.ok(result.ok, JSON.stringify(result));
  });

  it('reports every problem at once, with its path and the fix', () => {
    assert.deepEqual(
      problems({
        scope: {
          filters: [
            [
              { attribute: 'department', operator: 'EQUALS', value: 'Sales' },
              { attribute: 'department', operator: 'EQUAL', value: 'Sales' },
            ],
          ],
          disabledAccounts: 'keep',
          filtres: [],
        },
        mapping: {
          fields: {
            email: { expression: 'Coalesc([mail], [userPrincipalName])' },
            jobTitel: { source: 'jobTitle' },
            status: { constant: 'active' },
            city: { source: 'city', constant: 'x' },
          },
          custom: { 'cost center': { source: 'departmnt' } },
        },
        groups: { types: ['Security'], map: { 'not-a-guid': 'Admins' } },
      }),
      [
        'scope.disabledAccounts: must be "sync" or "skip", got "keep"',
        'scope.filtres: unknown key; did you mean "filters"?',
        'mapping.fields.email.expression: unknown function "Coalesc" at character 1: did you mean "Coalesce"?',
        'mapping.fields.city: has "source" and "constant"; give exactly one',
        'mapping.custom.cost center.source: unknown Graph user property "departmnt"; did you mean "department"?',
        'groups.types[0]: must be "microsoft365", "security", "mail-enabled-security" or "distribution", got "Security"; did you mean "security"?',
        'mapping.fields.jobTitel: unknown directory field "jobTitel"; did you mean "jobTitle"?',
        'mapping.fields.status: status is computed by usersync and cannot be mapped',
        'mapping.custom.cost center: a custom field name starts with a letter and has only letters, digits and _ (at most 64)',
        'groups.map.not-a-guid: the key must be an Entra group object id (a GUID)',
        'scope.filters[0][1].operator: unknown operator "EQUAL"; did you mean "EQUALS"?',
      ],
    );
  });

  it('names the document when it is not an object, and a section when it has the wrong shape', () => {
    assert.deepEqual(problems([]), ['(document): must be a JSON or YAML object; {} means the defaults']);
    assert.deepEqual(problems({ scope: 'everyone' }), [
      'scope: must be an object with groups, nestedGroups, userTypes, disabledAccounts, filters and excludeEmails',
    ]);
    assert.deepEqual(problems({ scope: { groups: ['sales'] } }), [
      'scope.groups[0]: must be an Entra group object id (a GUID such as 00aa00aa-bb11-cc22-dd33-44ee44ee44ee)',
    ]);
    assert.deepEqual(problems({ groups: { sync: 'scope' } }), [
      'groups.sync: "scope" syncs the scope groups, but scope.groups is empty: list the groups in scope.groups, or use "all"',
    ]);
  });

  it('docs/settings.schema.json is generated from this schema (npm run settings-schema)', () => {
    const file = readFileSync(new URL('../../docs/settings.schema.json', import.meta.url), 'utf8');
    assert.equal(
      file,
      settingsJsonSchemaText(),
      'docs/settings.schema.json is stale: run `npm run settings-schema` and commit it',
    );
  });
});
