import { z } from 'zod';
import { PROFILE_FIELDS } from './directory.ts';
import { compileExpression } from './expression/index.ts';
import { PRESET_NAMES } from './presets.ts';
import { unknownPlaceholders } from './mail.ts';
import { compileFilters, FiltersError, formatPath } from './scope/filters.ts';
import { closest } from './suggest.ts';
import { UsersyncError } from './errors.ts';

// The settings document of a connection (DESIGN.md, "The settings document"): one zod schema that validates it,
// reports every problem as `path: message` with the fix, and generates docs/settings.schema.json. Every key is
// optional; `{}` means the defaults. Secrets never live here.

/** Built-in directory fields a mapping may set: every profile field (externalId, status, photo and lineManager are computed). */
export const MAPPABLE_FIELDS = PROFILE_FIELDS;

export const GROUP_TYPES = ['microsoft365', 'security', 'mail-enabled-security', 'distribution'] as const;

/** Microsoft Graph v1.0 user properties a mapping or filter can read (plus extensionAttribute1–15 and schema extensions). */
export const GRAPH_USER_PROPERTIES = [
  'aboutMe',
  'accountEnabled',
  'ageGroup',
  'birthday',
  'businessPhones',
  'city',
  'companyName',
  'consentProvidedForMinor',
  'country',
  'createdDateTime',
  'creationType',
  'department',
  'displayName',
  'employeeHireDate',
  'employeeId',
  'employeeLeaveDateTime',
  'employeeOrgData',
  'employeeType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'faxNumber',
  'givenName',
  'hireDate',
  'id',
  'identities',
  'imAddresses',
  'interests',
  'isResourceAccount',
  'jobTitle',
  'legalAgeGroupClassification',
  'mail',
  'mailNickname',
  'mobilePhone',
  'mySite',
  'officeLocation',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesExtensionAttributes',
  'onPremisesImmutableId',
  'onPremisesLastSyncDateTime',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'onPremisesUserPrincipalName',
  'otherMails',
  'pastProjects',
  'postalCode',
  'preferredDataLocation',
  'preferredLanguage',
  'preferredName',
  'proxyAddresses',
  'responsibilities',
  'schools',
  'securityIdentifier',
  'showInAddressList',
  'skills',
  'state',
  'streetAddress',
  'surname',
  'usageLocation',
  'userPrincipalName',
  'userType',
] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXTENSION = /^extension_[0-9a-f]{32}_[A-Za-z0-9_]+$/i;
const EXTENSION_ATTRIBUTE = /^extensionAttribute([1-9]|1[0-5])$/i;

const guid = (what: string) =>
  z
    .string({ error: `must be ${what} (a GUID such as 00aa00aa-bb11-cc22-dd33-44ee44ee44ee)` })
    .regex(GUID, { error: `must be ${what} (a GUID such as 00aa00aa-bb11-cc22-dd33-44ee44ee44ee)` });
const flag = (what: string) => z.boolean({ error: `must be true or false (${what})` });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) =>
      `must be ${values
        .map((v) => `"${v}"`)
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}, got ${JSON.stringify(issue.input)}${suggest(issue.input, values)}`,
  });

function suggest(input: unknown, values: readonly string[]): string {
  if (typeof input !== 'string') return '';
  const near = closest(input, values);
  return near ? `; did you mean "${near}"?` : '';
}

const fieldMapping = z
  .strictObject({
    source: z
      .string({
        error:
          'must be a Graph user property, such as "jobTitle", "extensionAttribute3" or "extension_<appId>_costCenter"',
      })
      .optional(),
    expression: z
      .string({ error: 'must be an expression, such as "Coalesce([mail], [userPrincipalName])"' })
      .optional(),
    constant: z
      .union([z.string(), z.number(), z.boolean(), z.null()], { error: 'must be a string, number, true/false or null' })
      .optional(),
    preset: oneOf(PRESET_NAMES).optional(),
    default: z
      .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or true/false' })
      .optional(),
    applyOn: oneOf(['always', 'create'] as const).optional(),
  })
  .superRefine(
    (m, ctx) => {
      // Runs even when a sibling key failed, so that every problem is reported at once (hence the defensive types).
      if (typeof m !== 'object' || m === null) return;
      const given = (['source', 'expression', 'constant', 'preset'] as const).filter((k) => m[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            given.length === 0
              ? 'needs one of "source", "expression", "constant" or "preset"'
              : `has ${given.map((k) => `"${k}"`).join(' and ')}; give exactly one`,
        });
      }
      if (typeof m.source === 'string') {
        const known = GRAPH_USER_PROPERTIES.find((p) => p.toLowerCase() === m.source!.toLowerCase());
        if (!known && !EXTENSION_ATTRIBUTE.test(m.source) && !EXTENSION.test(m.source)) {
          const near = closest(m.source, [...GRAPH_USER_PROPERTIES, 'extensionAttribute1']);
          ctx.addIssue({
            code: 'custom',
            path: ['source'],
            message: `unknown Graph user property "${m.source}"${near ? `; did you mean "${near}"?` : '; use a property of the Graph user, extensionAttribute1–15, or extension_<appId without dashes>_<name>'}`,
          });
        }
      }
      if (typeof m.expression === 'string') {
        try {
          compileExpression(m.expression);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: ['expression'], message: (error as Error).message });
        }
      }
    },
    { when: () => true },
  );

const filterClause = z.looseObject({});

/** A mail template: text with {{field}} placeholders naming the user's fields. */
const template = (what: string) =>
  z.string({ error: `must be ${what}, with {{field}} placeholders such as {{firstName}}` }).superRefine((text, ctx) => {
    for (const name of unknownPlaceholders(text)) {
      const near = closest(name, [...MAPPABLE_FIELDS, 'externalId']);
      ctx.addIssue({
        code: 'custom',
        message: `{{${name}}} is not a user field${near ? `; did you mean {{${near}}}?` : ''} (custom fields are {{custom.name}})`,
      });
    }
  });

export const settingsSchema = z
  .strictObject(
    {
      scope: z
        .strictObject(
          {
            groups: z
              .array(guid('an Entra group object id'), { error: 'must be a list of Entra group object ids' })
              .optional(),
            nestedGroups: flag('whether members of nested groups are in scope; default true').optional(),
            userTypes: z
              .array(oneOf(['Member', 'Guest'] as const), { error: 'must be a list of "Member" and/or "Guest"' })
              .min(1, { error: 'must name at least one user type (leave it out for both)' })
              .optional(),
            disabledAccounts: oneOf(['sync', 'skip'] as const).optional(),
            filters: z
              .array(z.array(filterClause, { error: 'a filter is a list of clauses' }), {
                error: 'must be a list of filters, each a list of clauses: [[{"attribute", "operator", "value"}]]',
              })
              .optional(),
            excludeEmails: z
              .array(
                z
                  .string({ error: 'must be an address or a pattern with *, such as "*@contractors.example.com"' })
                  .trim()
                  .min(1, { error: 'must not be empty' }),
                { error: 'must be a list of addresses or * patterns' },
              )
              .optional(),
          },
          {
            error:
              'must be an object with groups, nestedGroups, userTypes, disabledAccounts, filters and excludeEmails',
          },
        )
        .optional(),
      mapping: z
        .strictObject(
          {
            fields: z
              .record(z.string(), fieldMapping, {
                error: 'must map built-in field names to {"source" | "expression" | "constant" | "preset"}',
              })
              .optional(),
            custom: z
              .record(z.string(), fieldMapping, {
                error: 'must map custom field names to {"source" | "expression" | "constant" | "preset"}',
              })
              .optional(),
          },
          { error: 'must be an object with fields and custom' },
        )
        .optional(),
      departments: z
        .strictObject(
          { sync: flag('whether departments are synced; default true').optional() },
          { error: 'must be an object such as {"sync": true}' },
        )
        .optional(),
      groups: z
        .strictObject(
          {
            sync: oneOf(['all', 'scope', 'none'] as const).optional(),
            types: z.array(oneOf(GROUP_TYPES), { error: `must be a list of ${GROUP_TYPES.join(', ')}` }).optional(),
            map: z
              .record(
                z.string(),
                z
                  .string({ error: 'must be the name of an app group' })
                  .trim()
                  .min(1, { error: 'must be the name of an app group' }),
                { error: 'must map Entra group object ids to app group names' },
              )
              .optional(),
          },
          { error: 'must be an object with sync, types and map' },
        )
        .optional(),
      lifecycle: z
        .strictObject(
          {
            onLeave: oneOf(['disable', 'remove', 'ignore'] as const).optional(),
            existingUsers: oneOf(['update', 'skip'] as const).optional(),
            removeUnmanagedMemberships: flag(
              'whether memberships of synced app groups that Entra does not have are removed; default false',
            ).optional(),
            matching: z
              .array(
                z.strictObject(
                  {
                    source: z.string({ error: 'must be a Graph user property, such as "userPrincipalName" or "mail"' }),
                    target: oneOf(MAPPABLE_FIELDS),
                  },
                  { error: 'must be {"source": Graph user property, "target": directory field}' },
                ),
                { error: 'must be a list of {"source", "target"} pairs, tried in order' },
              )
              .min(1, { error: 'must name at least one pair (leave it out for the default)' })
              .optional(),
          },
          { error: 'must be an object with onLeave and existingUsers' },
        )
        .optional(),
      email: z
        .strictObject(
          {
            from: z
              .string({ error: 'must be the sender, such as "usersync <noreply@example.com>"' })
              .trim()
              .min(3, { error: 'must be the sender, such as "usersync <noreply@example.com>"' })
              .optional(),
            welcome: z
              .strictObject(
                {
                  enabled: flag('whether users a sync creates get a welcome mail; default false').optional(),
                  subject: template('the subject').optional(),
                  text: template('the plain-text body').optional(),
                  html: template('the HTML body').optional(),
                },
                { error: 'must be an object with enabled, subject, text and html' },
              )
              .optional(),
            reports: z
              .strictObject(
                {
                  to: z
                    .array(z.email({ error: 'must be an e-mail address' }), {
                      error: "must be a list of administrators' addresses",
                    })
                    .min(1, { error: 'must name at least one address' }),
                  on: z.array(oneOf(['failed', 'held', 'testSync'] as const)).optional(),
                },
                { error: 'must be an object with to and on' },
              )
              .optional(),
          },
          { error: 'must be an object with from, welcome and reports' },
        )
        .optional(),
      audit: z
        .strictObject(
          {
            retentionDays: z
              .number({ error: 'must be a whole number of days, 1 or more (default 90)' })
              .int({ error: 'must be a whole number of days, 1 or more (default 90)' })
              .min(1, { error: 'must be a whole number of days, 1 or more (default 90)' })
              .optional(),
          },
          { error: 'must be an object such as {"retentionDays": 90}' },
        )
        .optional(),
      safety: z
        .strictObject(
          {
            deletionThreshold: z
              .strictObject(
                {
                  count: z
                    .number({ error: 'must be a whole number of users, 0 or more (default 500)' })
                    .int({ error: 'must be a whole number of users, 0 or more (default 500)' })
                    .min(0, { error: 'must be a whole number of users, 0 or more (default 500)' })
                    .optional(),
                  percent: z
                    .number({ error: 'must be a percentage from 0 to 100 (default 10)' })
                    .min(0, { error: 'must be a percentage from 0 to 100 (default 10)' })
                    .max(100, { error: 'must be a percentage from 0 to 100 (default 10)' })
                    .optional(),
                },
                { error: 'must be an object such as {"count": 500, "percent": 10}' },
              )
              .optional(),
          },
          { error: 'must be an object such as {"deletionThreshold": {"count": 500, "percent": 10}}' },
        )
        .optional(),
    },
    { error: 'must be a JSON or YAML object; {} means the defaults' },
  )
  .superRefine(
    (doc, ctx) => {
      // What one schema keyword cannot say: the names of fields, the filters' clauses, the group ids of the map. It runs even
      // when other keys failed (every problem is reported at once), so each part checks its own shape first.
      if (typeof doc !== 'object' || doc === null) return;
      const record = (v: unknown) =>
        typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
      for (const name of Object.keys(record(record(doc.mapping).fields))) {
        if (!(MAPPABLE_FIELDS as readonly string[]).includes(name)) {
          const near = closest(name, MAPPABLE_FIELDS);
          const why = ['externalId', 'status', 'photo', 'lineManager'].includes(name)
            ? `${name} is computed by usersync and cannot be mapped`
            : `unknown directory field "${name}"${near ? `; did you mean "${near}"?` : `; the fields are ${MAPPABLE_FIELDS.join(', ')} (put others under mapping.custom)`}`;
          ctx.addIssue({ code: 'custom', path: ['mapping', 'fields', name], message: why });
        }
      }
      for (const name of Object.keys(record(record(doc.mapping).custom))) {
        if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name))
          ctx.addIssue({
            code: 'custom',
            path: ['mapping', 'custom', name],
            message: 'a custom field name starts with a letter and has only letters, digits and _ (at most 64)',
          });
      }
      for (const id of Object.keys(record(record(doc.groups).map))) {
        if (!GUID.test(id))
          ctx.addIssue({
            code: 'custom',
            path: ['groups', 'map', id],
            message: 'the key must be an Entra group object id (a GUID)',
          });
      }
      const filters = record(doc.scope).filters;
      if (Array.isArray(filters)) {
        try {
          compileFilters(filters);
        } catch (error) {
          if (!(error instanceof FiltersError)) throw error;
          for (const issue of error.issues)
            ctx.addIssue({ code: 'custom', path: ['scope', 'filters', ...issue.path], message: issue.message });
        }
      }
      const scopeGroups = record(doc.scope).groups;
      if (record(doc.groups).sync === 'scope' && !(Array.isArray(scopeGroups) && scopeGroups.length > 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups', 'sync'],
          message:
            '"scope" syncs the scope groups, but scope.groups is empty: list the groups in scope.groups, or use "all"',
        });
      }
    },
    { when: () => true },
  );

export type Settings = z.infer<typeof settingsSchema>;

export interface SettingsIssue {
  path: string;
  message: string;
}

/**
 * A settings document that must be valid: the settings, or an `invalid_settings` error naming every path at fault
 * (prefixed by where the document sits, such as `settings.`) in its message and in `context.errors`.
 */
export function requireValidSettings(document: unknown, prefix = ''): Settings {
  const checked = validateSettings(document);
  if (checked.ok) return checked.settings;
  const errors = checked.issues.map((i) => ({ field: `${prefix}${i.path}`, message: i.message }));
  throw new UsersyncError(
    'invalid_settings',
    `the settings are invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    { hint: 'fix each path listed in errors; nothing was changed', context: { errors } },
  );
}

/** Validates a settings document: the document, or every problem as `path: message` (all at once, in document order). */
export function validateSettings(
  document: unknown,
): { ok: true; settings: Settings } | { ok: false; issues: SettingsIssue[] } {
  const result = settingsSchema.safeParse(document);
  if (result.success) return { ok: true, settings: result.data };
  const issues: SettingsIssue[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const allowed = allowedKeys(path);
        const near = closest(key, allowed);
        issues.push({
          path: formatPath('', [...path, key]),
          message: `unknown key${near ? `; did you mean "${near}"?` : allowed.length > 0 ? `; the keys here are ${allowed.join(', ')}` : ''}`,
        });
      }
      continue;
    }
    issues.push({ path: formatPath('', path) || '(document)', message: issue.message });
  }
  return { ok: false, issues };
}

function allowedKeys(path: (string | number)[]): string[] {
  let schema: z.ZodType = settingsSchema;
  for (const key of path) {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) schema = inner.shape[key as string];
    else if (inner instanceof z.ZodRecord) schema = inner.valueType as z.ZodType;
    else if (inner instanceof z.ZodArray) schema = inner.element as z.ZodType;
    else return [];
    if (!schema) return [];
  }
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

/** The JSON Schema of the settings document (docs/settings.schema.json is generated from it). */
export function settingsJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(settingsSchema, { unrepresentable: 'any' }),
    title: 'usersync connection settings',
    description:
      'The settings document of one usersync connection: who is synced (scope), what each field becomes (mapping), departments and groups. Every key is optional; {} means the defaults.',
  };
}

/** docs/settings.schema.json as it should read. */
export function settingsJsonSchemaText(): string {
  return `${JSON.stringify(settingsJsonSchema(), null, 2)}\n`;
}
