import { createHash, X509Certificate } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { StatusError } from './status-error.ts';
import { z } from 'zod';
import {
  InvalidInputError,
  faultSettingsPatchSchema,
  parseInput,
  strictObject,
  type Faults,
  type FaultSettingsPatch,
} from './faults.ts';
import type { RequestLog } from './request-log.ts';
import type { Tenant } from './tenant/tenant.ts';
import type { GraphGroup, GraphUser, GroupKind, PhotoData } from './tenant/types.ts';

// The emulator's control API: change the directory, flip fault switches, read the request log.
// `createControl` is the in-process API (tests call it directly); `createControlApp` serves the same
// functions over HTTP under /_emulator. Every input is validated here, so both share one set of rules.

export interface ControlDeps {
  tenant: () => Tenant;
  faults: Faults;
  requestLog: RequestLog;
  info: () => object;
  apps?: { setRoles(clientId: string, roles: string[]): void; addCertificate?(clientId: string, pem: string): void };
  /** Admin consent: the decision programs get, and the permissions consent grants (mutable). */
  consent?: { decision: 'approve' | 'decline'; roles: string[] };
}

/** A control-API failure with an HTTP status and a code, rendered as `{"error":{code,message}}`. */
export class ControlError extends StatusError {}

/** A script change failed: the changes before it stay applied (`results`). */
export class ScriptError extends Error {
  readonly status: number;
  readonly code: string;
  readonly index: number;
  readonly results: ScriptResult[];
  constructor(status: number, code: string, message: string, index: number, results: ScriptResult[]) {
    super(message);
    this.status = status;
    this.code = code;
    this.index = index;
    this.results = results;
  }
}

export interface ScriptResult {
  index: number;
  op: string;
  result: unknown;
}

export interface PhotoInfo {
  contentType: string;
  width: number;
  height: number;
  etag: string;
  size: number;
  sha256: string;
}

export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;

// Schemas ------------------------------------------------------------------------------------------

const EXTENSION_NAME = /^extension_[0-9a-f]{32}_[A-Za-z0-9_]+$/i;
const UPN = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;
const REF = /^\$[A-Za-z_][A-Za-z0-9_]*$/;

const str = (field: string) =>
  z
    .string({ error: `${field} must be a string or null` })
    .max(1024, { error: `${field} must be at most 1024 characters` })
    .nullable();
const bool = (field: string) => z.boolean({ error: `${field} must be true or false` });
const strList = (field: string) =>
  z.array(z.string({ error: `${field} must be a list of strings` }), {
    error: `${field} must be a list of strings, e.g. ["a", "b"]`,
  });
/** Error option for a required value: "x is required (…)" when absent, "x must be …" when wrong. */
const expect = (field: string, what: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined ? `${field} is required (${what})` : `${field} must be ${what}`,
});
const id = (field: string) =>
  z
    .string(expect(field, 'an object id (GUID) or a userPrincipalName'))
    .trim()
    .min(1, { error: `${field} must not be empty` });

const USER_STRING_PROPS = [
  'aboutMe',
  'ageGroup',
  'birthday',
  'city',
  'companyName',
  'consentProvidedForMinor',
  'country',
  'creationType',
  'department',
  'employeeHireDate',
  'employeeId',
  'employeeLeaveDateTime',
  'employeeType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'faxNumber',
  'givenName',
  'hireDate',
  'jobTitle',
  'lastPasswordChangeDateTime',
  'legalAgeGroupClassification',
  'mail',
  'mailNickname',
  'mobilePhone',
  'mySite',
  'officeLocation',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesImmutableId',
  'onPremisesLastSyncDateTime',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesUserPrincipalName',
  'passwordPolicies',
  'postalCode',
  'preferredDataLocation',
  'preferredLanguage',
  'preferredName',
  'securityIdentifier',
  'signInSessionsValidFromDateTime',
  'state',
  'streetAddress',
  'surname',
  'usageLocation',
] as const;
const USER_LIST_PROPS = [
  'businessPhones',
  'otherMails',
  'proxyAddresses',
  'imAddresses',
  'interests',
  'pastProjects',
  'responsibilities',
  'schools',
  'skills',
] as const;

const extensionAttributesSchema = strictObject(
  Object.fromEntries(
    Array.from({ length: 15 }, (_, n) => [`extensionAttribute${n + 1}`, str(`extensionAttribute${n + 1}`).optional()]),
  ),
  'extensionAttribute1 … extensionAttribute15',
);

const userPropShape = {
  displayName: z
    .string(expect('displayName', 'a non-empty string, e.g. "Adele Vance"'))
    .trim()
    .min(1, { error: 'displayName must be a non-empty string, e.g. "Adele Vance"' })
    .max(256, { error: 'displayName must be at most 256 characters' }),
  userPrincipalName: z
    .string(expect('userPrincipalName', 'an address like alias@domain, e.g. "adele@contoso.com"'))
    .regex(UPN, { error: 'userPrincipalName must look like alias@domain, e.g. "adele@contoso.com"' })
    .max(113, { error: 'userPrincipalName must be at most 113 characters' }),
  accountEnabled: bool('accountEnabled'),
  userType: z.enum(['Member', 'Guest'], { error: 'userType must be "Member" or "Guest"' }),
  onPremisesSyncEnabled: bool('onPremisesSyncEnabled').nullable(),
  showInAddressList: bool('showInAddressList').nullable(),
  onPremisesExtensionAttributes: extensionAttributesSchema,
  identities: z.array(z.record(z.string(), z.unknown()), {
    error: 'identities must be a list of objectIdentity objects ({signInType, issuer, issuerAssignedId})',
  }),
  passwordProfile: z.record(z.string(), z.unknown(), { error: 'passwordProfile must be an object' }).nullable(),
  employeeOrgData: strictObject({
    division: str('employeeOrgData.division').optional(),
    costCenter: str('employeeOrgData.costCenter').optional(),
  }).nullable(),
  ...(Object.fromEntries(USER_STRING_PROPS.map((p) => [p, str(p)])) as Record<
    (typeof USER_STRING_PROPS)[number],
    ReturnType<typeof str>
  >),
  ...(Object.fromEntries(USER_LIST_PROPS.map((p) => [p, strList(p)])) as Record<
    (typeof USER_LIST_PROPS)[number],
    ReturnType<typeof strList>
  >),
};
type UserProps = { [K in keyof typeof userPropShape]?: z.input<(typeof userPropShape)[K]> };

const extensionValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())], {
  error: 'directory extension values must be a string, number, boolean, null or list of strings',
});

const FIELD_HINTS: Record<string, string> = {
  id: 'is assigned by the directory; remove it',
  createdDateTime: 'is set by the directory; remove it',
  deletedDateTime: 'is set by the directory; delete the object instead',
  manager: 'is a relationship: use "managerId" (an id or userPrincipalName, or null)',
  managerId: 'is only accepted when creating a user; use PUT /users/{id}/manager (setManager) to change it',
  photo: 'is only accepted when creating a user ("photo": true); use PUT /users/{id}/photo (setPhoto) to change it',
  memberOf: 'is a relationship: use POST /groups/{id}/members (addMember)',
  members: 'is a relationship: use POST /groups/{id}/members (addMember)',
  groupTypes:
    'follows from "kind" (microsoft365 | security | mail-enabled-security | distribution); set kind when creating the group',
  mailEnabled: 'follows from "kind"; set kind when creating the group',
  securityEnabled: 'follows from "kind"; set kind when creating the group',
  kind: 'cannot change after creation (as in Entra); delete the group and create one of the new kind',
};

/** Closest allowed name within edit distance 2, for "did you mean". */
function closest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const a = name.toLowerCase();
  for (const candidate of allowed) {
    const d = editDistance(a, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * An object schema that accepts `shape`, directory extension properties (extension_{appId}_{name}), and
 * rejects anything else with a message naming the field and the fix.
 */
function propsObject<T extends z.ZodRawShape>(shape: T, what: string, forbidden: readonly string[]) {
  const allowed = Object.keys(shape);
  const known = new Set(allowed);
  const unknownKeys = (value: unknown) =>
    (value === null || typeof value !== 'object' || Array.isArray(value) ? [] : Object.keys(value)).filter(
      (k) => !known.has(k) && (forbidden.includes(k) || !EXTENSION_NAME.test(k)),
    );
  return z
    .object(shape)
    .catchall(extensionValue)
    .refine((value) => unknownKeys(value).length === 0, {
      when: () => true,
      error: (issue) => {
        return unknownKeys(issue.input)
          .map((k) => {
            if (FIELD_HINTS[k] && forbidden.includes(k)) return `'${k}' ${FIELD_HINTS[k]}`;
            const guess = closest(
              k,
              allowed.filter((a) => a !== 'op' && a !== 'as'),
            );
            return `'${k}' is not a ${what} property${guess ? ` — did you mean '${guess}'?` : ''} (directory extensions are named extension_{appId without dashes}_{name})`;
          })
          .join('; ');
      },
    });
}

const USER_FORBIDDEN = ['id', 'createdDateTime', 'deletedDateTime', 'manager', 'memberOf'] as const;

const createUserShape = {
  ...userPropShape,
  managerId: id('managerId').nullable().optional(),
  photo: z.boolean({ error: 'photo must be true (generate an avatar) or false' }).optional(),
};
const createUserSchema = propsObject(
  {
    ...Object.fromEntries(
      Object.entries(createUserShape).map(([k, v]) => [
        k,
        k === 'displayName' || k === 'userPrincipalName' ? v : v.optional(),
      ]),
    ),
  } as typeof createUserShape,
  'user',
  USER_FORBIDDEN,
);
const updateUserSchema = propsObject(
  Object.fromEntries(Object.entries(userPropShape).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof userPropShape]: z.ZodOptional<(typeof userPropShape)[K]>;
  },
  'user',
  [...USER_FORBIDDEN, 'managerId', 'photo'],
);

export type CreateUserInput = UserProps & {
  userPrincipalName: string;
  displayName: string;
  managerId?: string | null;
  photo?: boolean;
} & Record<`extension_${string}`, unknown>;
export type UserPatch = UserProps & Record<`extension_${string}`, unknown>;

const GROUP_KINDS = ['microsoft365', 'security', 'mail-enabled-security', 'distribution'] as const;
const groupPropShape = {
  displayName: z
    .string(expect('displayName', 'a non-empty string, e.g. "Sales"'))
    .trim()
    .min(1, { error: 'displayName must be a non-empty string, e.g. "Sales"' })
    .max(256, { error: 'displayName must be at most 256 characters' }),
  description: str('description'),
  mailNickname: z
    .string({ error: 'mailNickname must be a string without spaces or @, e.g. "sales-team"' })
    .regex(/^[^@\s()<>,;:\\"[\]]+$/, { error: 'mailNickname must be a string without spaces or @, e.g. "sales-team"' })
    .max(64, { error: 'mailNickname must be at most 64 characters' }),
  mail: str('mail'),
  visibility: z
    .enum(['Public', 'Private', 'HiddenMembership'], {
      error: 'visibility must be "Public", "Private" or "HiddenMembership"',
    })
    .nullable(),
  classification: str('classification'),
  preferredLanguage: str('preferredLanguage'),
  theme: str('theme'),
  isAssignableToRole: bool('isAssignableToRole').nullable(),
  proxyAddresses: strList('proxyAddresses'),
  onPremisesSyncEnabled: bool('onPremisesSyncEnabled').nullable(),
};
const GROUP_FORBIDDEN = [
  'id',
  'createdDateTime',
  'deletedDateTime',
  'groupTypes',
  'mailEnabled',
  'securityEnabled',
  'memberOf',
] as const;
const createGroupShape = {
  ...groupPropShape,
  kind: z.enum(GROUP_KINDS, { error: `kind must be one of: ${GROUP_KINDS.join(', ')}` }),
  members: z.array(id('members'), { error: 'members must be a list of user or group ids' }),
};
const createGroupSchema = propsObject(
  Object.fromEntries(
    Object.entries(createGroupShape).map(([k, v]) => [k, k === 'displayName' ? v : v.optional()]),
  ) as typeof createGroupShape,
  'group',
  GROUP_FORBIDDEN,
);
const updateGroupSchema = propsObject(
  Object.fromEntries(Object.entries(groupPropShape).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof groupPropShape]: z.ZodOptional<(typeof groupPropShape)[K]>;
  },
  'group',
  [...GROUP_FORBIDDEN, 'kind', 'members'],
);
type GroupProps = { [K in keyof typeof groupPropShape]?: z.input<(typeof groupPropShape)[K]> };
export type CreateGroupInput = GroupProps & { displayName: string; kind?: GroupKind; members?: string[] } & Record<
    `extension_${string}`,
    unknown
  >;
export type GroupPatch = GroupProps & Record<`extension_${string}`, unknown>;

const managerBodySchema = strictObject({ managerId: id('managerId').nullable() });
const memberBodySchema = strictObject({ id: id('id') });
const rolesSchema = z.array(
  z
    .string({ error: 'roles must be a list of permission names, e.g. ["User.Read.All"]' })
    .regex(/^[A-Za-z][A-Za-z0-9.]*$/, { error: 'roles must be permission names like "User.Read.All"' }),
  { error: 'roles must be a list of permission names, e.g. ["User.Read.All"]' },
);
const rolesBodySchema = strictObject({ roles: rolesSchema });
const photoJsonSchema = strictObject({
  generate: z.literal(true, { error: 'generate must be true (or send raw image bytes with Content-Type image/*)' }),
});
const permanentSchema = z.enum(['true', 'false', '1', '0'], { error: 'permanent must be true or false' }).optional();

export type PhotoInput = 'generate' | { generate: true } | Uint8Array | { bytes: Uint8Array; contentType?: string };

// Script -------------------------------------------------------------------------------------------

const asName = z
  .string({ error: 'as must be a name like "alice" (later changes refer to it as "$alice")' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'as must be a name like "alice" (later changes refer to it as "$alice")',
  })
  .optional();
const permanent = z.boolean({ error: 'permanent must be true or false' }).optional();
const op = <T extends string>(name: T) => z.literal(name);

function changeSchemas(withApps: boolean) {
  const userCreate = propsObject(
    {
      op: op('createUser'),
      as: asName,
      ...(Object.fromEntries(
        Object.entries(createUserShape).map(([k, v]) => [
          k,
          k === 'displayName' || k === 'userPrincipalName' ? v : v.optional(),
        ]),
      ) as typeof createUserShape),
    },
    'user',
    USER_FORBIDDEN,
  );
  const groupCreate = propsObject(
    {
      op: op('createGroup'),
      as: asName,
      ...(Object.fromEntries(
        Object.entries(createGroupShape).map(([k, v]) => [k, k === 'displayName' ? v : v.optional()]),
      ) as typeof createGroupShape),
    },
    'group',
    GROUP_FORBIDDEN,
  );
  const photoChange = strictObject({
    op: op('setPhoto'),
    id: id('id'),
    generate: z.literal(true, { error: 'generate must be true' }).optional(),
    base64: z.base64({ error: 'base64 must be the image bytes in base64' }).optional(),
    contentType: z
      .string()
      .regex(/^image\/[\w.+-]+$/, { error: 'contentType must be an image type such as "image/jpeg"' })
      .optional(),
  }).refine((c) => (c.generate === true) !== (c.base64 !== undefined), {
    error: 'setPhoto needs exactly one of "generate": true or "base64": "<image bytes>"',
  });
  const { ...faultShape } = faultSettingsPatchSchema.shape;
  const options = [
    userCreate,
    strictObject({ op: op('updateUser'), as: asName, id: id('id'), patch: updateUserSchema }),
    strictObject({ op: op('deleteUser'), id: id('id'), permanent }),
    strictObject({ op: op('restoreUser'), as: asName, id: id('id') }),
    strictObject({ op: op('setManager'), id: id('id'), managerId: id('managerId').nullable() }),
    photoChange,
    strictObject({ op: op('deletePhoto'), id: id('id') }),
    groupCreate,
    strictObject({ op: op('updateGroup'), as: asName, id: id('id'), patch: updateGroupSchema }),
    strictObject({ op: op('deleteGroup'), id: id('id'), permanent }),
    strictObject({ op: op('restoreGroup'), as: asName, id: id('id') }),
    strictObject({ op: op('addMember'), groupId: id('groupId'), memberId: id('memberId') }),
    strictObject({ op: op('removeMember'), groupId: id('groupId'), memberId: id('memberId') }),
    strictObject({ op: op('setFaults'), ...faultShape }),
    strictObject({ op: op('resetFaults') }),
    strictObject({ op: op('expireDeltaTokens') }),
    ...(withApps ? [strictObject({ op: op('setAppRoles'), clientId: id('clientId'), roles: rolesSchema })] : []),
  ] as const;
  return strictObject({
    changes: z
      .array(z.discriminatedUnion('op', options as unknown as [typeof userCreate, ...(typeof userCreate)[]]), {
        error:
          'changes must be a list of changes, e.g. [{"op":"createUser","userPrincipalName":"a@contoso.com","displayName":"A"}]',
      })
      .max(100_000, { error: 'changes may hold at most 100000 changes per script' }),
  });
}

export type ScriptChange = { op: string; [key: string]: unknown };
export interface ScriptInput {
  changes: ScriptChange[];
}

const SCRIPT_OPS = [
  'createUser',
  'updateUser',
  'deleteUser',
  'restoreUser',
  'setManager',
  'setPhoto',
  'deletePhoto',
  'createGroup',
  'updateGroup',
  'deleteGroup',
  'restoreGroup',
  'addMember',
  'removeMember',
  'setFaults',
  'resetFaults',
  'expireDeltaTokens',
  'setAppRoles',
];
const REF_FIELDS = ['id', 'managerId', 'groupId', 'memberId'] as const;

// In-process API -----------------------------------------------------------------------------------

export type Control = ReturnType<typeof createControl>;

export function createControl(deps: ControlDeps) {
  const tenant = () => deps.tenant();
  const scriptSchema = changeSchemas(deps.apps !== undefined);

  function idArg(value: unknown, field: string): string {
    return parseInput(id(field), value);
  }

  function completeExtensionAttributes(value: unknown, current?: unknown): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    const base = (current ?? {}) as Record<string, string | null>;
    const patch = value as Record<string, string | null | undefined>;
    for (let n = 1; n <= 15; n++) {
      const key = `extensionAttribute${n}`;
      out[key] = patch[key] !== undefined ? patch[key]! : (base[key] ?? null);
    }
    return out;
  }

  function mustFindUser(idOrUpn: string, field: string): number {
    const i = tenant().findUser(idOrUpn);
    if (i === undefined)
      throw new ControlError(
        404,
        'Request_ResourceNotFound',
        `${field}: no user '${idOrUpn}' in the tenant (give an existing user's id or userPrincipalName)`,
      );
    return i;
  }

  function createUser(input: CreateUserInput): GraphUser {
    const parsed = parseInput(createUserSchema, input) as Record<string, unknown>;
    const { managerId, photo, ...props } = parsed;
    const t = tenant();
    // Check references before writing anything: a failed create leaves the tenant unchanged.
    if (typeof managerId === 'string') mustFindUser(managerId, 'managerId');
    if (props.onPremisesExtensionAttributes !== undefined)
      props.onPremisesExtensionAttributes = completeExtensionAttributes(props.onPremisesExtensionAttributes);
    const created = t.createUser(props as CreateUserInput);
    if (typeof managerId === 'string') t.setManager(created.id, managerId);
    if (photo === true) t.setPhoto(created.id, 'generate');
    return t.user(t.findUser(created.id)!);
  }

  function updateUser(idOrUpn: string, patch: UserPatch): GraphUser {
    const key = idArg(idOrUpn, 'id');
    const parsed = parseInput(updateUserSchema, patch) as Record<string, unknown>;
    const t = tenant();
    if (parsed.onPremisesExtensionAttributes !== undefined) {
      const i = t.findUser(key);
      parsed.onPremisesExtensionAttributes = completeExtensionAttributes(
        parsed.onPremisesExtensionAttributes,
        i === undefined ? undefined : t.user(i).onPremisesExtensionAttributes,
      );
    }
    return t.updateUser(key, parsed);
  }

  function deleteUser(idOrUpn: string, options: { permanent?: boolean } = {}): void {
    tenant().deleteUser(idArg(idOrUpn, 'id'), parseInput(permanent, options.permanent, 'permanent') ?? false);
  }

  /** Restores a soft-deleted user, by id or by the userPrincipalName it had. */
  function restoreUser(idOrUpn: string): GraphUser {
    const key = idArg(idOrUpn, 'id');
    const t = tenant();
    const i = t.userIndex(key);
    return t.restoreUser(i === undefined ? key : t.userIdOf(i));
  }

  function setManager(idOrUpn: string, managerId: string | null): void {
    const key = idArg(idOrUpn, 'id');
    const manager = parseInput(id('managerId').nullable(), managerId, 'managerId');
    tenant().setManager(key, manager);
  }

  function setPhoto(idOrUpn: string, photo: PhotoInput): PhotoInfo {
    const key = idArg(idOrUpn, 'id');
    let data: PhotoData | null;
    if (photo === 'generate' || (typeof photo === 'object' && photo !== null && 'generate' in photo)) {
      if (photo !== 'generate') parseInput(photoJsonSchema, photo, 'photo');
      data = tenant().setPhoto(key, 'generate');
    } else {
      const bytes =
        photo instanceof Uint8Array
          ? photo
          : typeof photo === 'object' && photo !== null && photo.bytes instanceof Uint8Array
            ? photo.bytes
            : undefined;
      if (bytes === undefined)
        throw new InvalidInputError(
          'photo',
          'photo must be image bytes ({ bytes, contentType }) or { generate: true }',
        );
      const contentType =
        photo instanceof Uint8Array ? 'image/jpeg' : ((photo as { contentType?: string }).contentType ?? 'image/jpeg');
      if (!/^image\/[\w.+-]+$/.test(contentType))
        throw new InvalidInputError(
          'contentType',
          `contentType must be an image type such as image/jpeg or image/png, got '${contentType}'`,
        );
      if (bytes.length === 0) throw new InvalidInputError('photo', 'the photo is empty: send the image bytes');
      if (bytes.length > MAX_PHOTO_BYTES)
        throw new ControlError(
          413,
          'RequestEntityTooLarge',
          `the photo is ${bytes.length} bytes; Graph accepts at most ${MAX_PHOTO_BYTES} (4 MB)`,
        );
      data = tenant().setPhoto(key, Buffer.from(bytes), contentType);
    }
    return photoInfo(data!);
  }

  function deletePhoto(idOrUpn: string): void {
    tenant().setPhoto(idArg(idOrUpn, 'id'), null);
  }

  function createGroup(input: CreateGroupInput): GraphGroup {
    const parsed = parseInput(createGroupSchema, input) as Record<string, unknown> & {
      displayName: string;
      kind?: GroupKind;
      members?: string[];
    };
    const { members = [], ...props } = parsed;
    const t = tenant();
    const seen = new Set<string>();
    members.forEach((m, n) => {
      if (t.findUser(m) === undefined && t.findGroup(m) === undefined)
        throw new ControlError(404, 'Request_ResourceNotFound', `members[${n}]: no user or group '${m}' in the tenant`);
      const memberKey = t.findUser(m) !== undefined ? t.userIdOf(t.findUser(m)!) : m.toLowerCase();
      if (seen.has(memberKey))
        throw new InvalidInputError(`members[${n}]`, `members[${n}]: '${m}' is listed twice; list each member once`);
      seen.add(memberKey);
    });
    const created = t.createGroup(props);
    for (const m of members) t.addMember(created.id, m);
    return t.group(t.findGroup(created.id)!);
  }

  function updateGroup(groupId: string, patch: GroupPatch): GraphGroup {
    return tenant().updateGroup(idArg(groupId, 'id'), parseInput(updateGroupSchema, patch));
  }

  /** Without `permanent`, Microsoft 365 groups are soft-deleted and other kinds deleted for good, as in Entra. */
  function deleteGroup(groupId: string, options: { permanent?: boolean } = {}): void {
    tenant().deleteGroup(idArg(groupId, 'id'), parseInput(permanent, options.permanent, 'permanent'));
  }

  function restoreGroup(groupId: string): GraphGroup {
    return tenant().restoreGroup(idArg(groupId, 'id'));
  }

  function addMember(groupId: string, memberId: string): void {
    tenant().addMember(idArg(groupId, 'groupId'), idArg(memberId, 'memberId'));
  }

  function removeMember(groupId: string, memberId: string): void {
    tenant().removeMember(idArg(groupId, 'groupId'), idArg(memberId, 'memberId'));
  }

  function setAppRoles(clientId: string, roles: string[]): { clientId: string; roles: string[] } {
    if (!deps.apps)
      throw new ControlError(404, 'NotConfigured', 'this emulator has no app registry: roles cannot be changed');
    const key = idArg(clientId, 'clientId');
    const list = parseInput(rolesSchema, roles, 'roles');
    try {
      deps.apps.setRoles(key, list);
    } catch (error) {
      if (hasStatus(error)) throw error;
      throw new ControlError(404, 'NotFound', (error as Error).message || `no app with client id '${key}'`);
    }
    return { clientId: key, roles: list };
  }

  /** Registers a certificate (PEM) as a credential of the app, as uploading it in the Entra portal does. */
  function addAppCertificate(clientId: string, pem: string): { clientId: string; thumbprintSha256: string } {
    if (!deps.apps?.addCertificate)
      throw new ControlError(404, 'NotConfigured', 'this emulator has no app registry: certificates cannot be added');
    const key = idArg(clientId, 'clientId');
    let der: Buffer;
    try {
      der = Buffer.from(new X509Certificate(pem).raw);
    } catch {
      throw new InvalidInputError(
        'pem',
        'pem must be a PEM certificate (-----BEGIN CERTIFICATE----- …); send the public certificate, not the key',
      );
    }
    try {
      deps.apps.addCertificate(key, pem);
    } catch (error) {
      if (hasStatus(error)) throw error;
      throw new ControlError(404, 'NotFound', (error as Error).message || `no app with client id '${key}'`);
    }
    return { clientId: key, thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase() };
  }

  function faults() {
    return deps.faults.snapshot();
  }
  function setFaults(patch: FaultSettingsPatch) {
    deps.faults.update(patch);
    return deps.faults.snapshot();
  }
  function resetFaults() {
    deps.faults.reset();
    return deps.faults.snapshot();
  }
  function expireDeltaTokens() {
    return { deltaGeneration: deps.faults.expireDeltaTokens() };
  }

  /**
   * Applies changes in order. The whole script is validated first (nothing applies when any change is
   * malformed); a change that fails while applying stops the script, and the ones before it stay applied.
   * Changes with `"as": "name"` can be referred to by later ones as `"$name"` in id, managerId, groupId, memberId.
   */
  function script(input: ScriptInput): { results: ScriptResult[]; seq: number } {
    if (input && typeof input === 'object' && Array.isArray((input as { changes?: unknown }).changes)) {
      (input as { changes: unknown[] }).changes.forEach((change, n) => {
        const name = (change as { op?: unknown } | null)?.op;
        if (
          change !== null &&
          typeof change === 'object' &&
          (typeof name !== 'string' || !SCRIPT_OPS.includes(name) || (name === 'setAppRoles' && !deps.apps))
        ) {
          const allowed = SCRIPT_OPS.filter((o) => o !== 'setAppRoles' || deps.apps);
          throw new InvalidInputError(
            `changes[${n}].op`,
            `changes[${n}].op must be one of: ${allowed.join(', ')}${typeof name === 'string' ? ` (got '${name}')` : ''}`,
          );
        }
      });
    }
    const { changes } = parseInput(scriptSchema, input) as { changes: (ScriptChange & { as?: string })[] };
    const defined = new Set<string>();
    changes.forEach((change, n) => {
      for (const field of REF_FIELDS) {
        const value = change[field];
        if (typeof value === 'string' && REF.test(value) && !defined.has(value.slice(1))) {
          throw new InvalidInputError(
            `changes[${n}].${field}`,
            `changes[${n}].${field} refers to '${value}', but no earlier change has "as": "${value.slice(1)}"`,
          );
        }
      }
      if (Array.isArray(change.members)) {
        change.members.forEach((m: unknown, k: number) => {
          if (typeof m === 'string' && REF.test(m) && !defined.has(m.slice(1)))
            throw new InvalidInputError(
              `changes[${n}].members[${k}]`,
              `changes[${n}].members[${k}] refers to '${m}', but no earlier change has "as": "${m.slice(1)}"`,
            );
        });
      }
      if (change.as !== undefined) {
        if (defined.has(change.as))
          throw new InvalidInputError(
            `changes[${n}].as`,
            `changes[${n}].as: '${change.as}' is already defined by an earlier change; pick another name`,
          );
        defined.add(change.as);
      }
    });

    const refs = new Map<string, string>();
    const resolve = (value: unknown) =>
      typeof value === 'string' && REF.test(value) ? refs.get(value.slice(1))! : (value as string);
    const results: ScriptResult[] = [];
    changes.forEach((change, n) => {
      let result: unknown;
      try {
        result = apply(change, resolve);
      } catch (error) {
        const status = hasStatus(error) ? error.status : 500;
        const code = hasStatus(error) ? error.code : 'InternalError';
        throw new ScriptError(status, code, `changes[${n}] (${change.op}): ${(error as Error).message}`, n, results);
      }
      if (
        change.as !== undefined &&
        result &&
        typeof result === 'object' &&
        typeof (result as { id?: unknown }).id === 'string'
      )
        refs.set(change.as, (result as { id: string }).id);
      results.push({ index: n, op: change.op, result: result ?? null });
    });
    return { results, seq: tenant().seq };
  }

  function apply(change: ScriptChange, resolve: (value: unknown) => string): unknown {
    const { op: name, as: _as, ...rest } = change;
    const c = rest as Record<string, unknown>;
    switch (name) {
      case 'createUser':
        return createUser(c as CreateUserInput);
      case 'updateUser':
        return updateUser(resolve(c.id), c.patch as UserPatch);
      case 'deleteUser':
        return deleteUser(resolve(c.id), { permanent: c.permanent as boolean | undefined });
      case 'restoreUser':
        return restoreUser(resolve(c.id));
      case 'setManager':
        return setManager(resolve(c.id), c.managerId === null ? null : resolve(c.managerId));
      case 'setPhoto':
        return setPhoto(
          resolve(c.id),
          c.generate === true
            ? 'generate'
            : { bytes: Buffer.from(c.base64 as string, 'base64'), contentType: c.contentType as string | undefined },
        );
      case 'deletePhoto':
        return deletePhoto(resolve(c.id));
      case 'createGroup':
        return createGroup({
          ...c,
          ...(Array.isArray(c.members) ? { members: c.members.map(resolve) } : {}),
        } as CreateGroupInput);
      case 'updateGroup':
        return updateGroup(resolve(c.id), c.patch as GroupPatch);
      case 'deleteGroup':
        return deleteGroup(resolve(c.id), { permanent: c.permanent as boolean | undefined });
      case 'restoreGroup':
        return restoreGroup(resolve(c.id));
      case 'addMember':
        return addMember(resolve(c.groupId), resolve(c.memberId));
      case 'removeMember':
        return removeMember(resolve(c.groupId), resolve(c.memberId));
      case 'setFaults':
        return setFaults(c as FaultSettingsPatch);
      case 'resetFaults':
        return resetFaults();
      case 'expireDeltaTokens':
        return expireDeltaTokens();
      case 'setAppRoles':
        return setAppRoles(c.clientId as string, c.roles as string[]);
      default:
        throw new InvalidInputError('op', `unknown op '${name}'`);
    }
  }

  return {
    info: () => deps.info(),
    requests: () => deps.requestLog.snapshot(),
    clearRequests: () => deps.requestLog.reset(),
    faults,
    setFaults,
    resetFaults,
    expireDeltaTokens,
    createUser,
    updateUser,
    deleteUser,
    restoreUser,
    setManager,
    setPhoto,
    deletePhoto,
    createGroup,
    updateGroup,
    deleteGroup,
    restoreGroup,
    addMember,
    removeMember,
    setAppRoles,
    addAppCertificate,
    script,
  };
}

function photoInfo(data: PhotoData): PhotoInfo {
  return {
    contentType: data.contentType,
    width: data.width,
    height: data.height,
    etag: data.etag,
    size: data.bytes.length,
    sha256: createHash('sha256').update(data.bytes).digest('hex'),
  };
}

function hasStatus(error: unknown): error is StatusError {
  return error instanceof StatusError;
}

// HTTP ---------------------------------------------------------------------------------------------

/** The control API as a Hono app; mount it with `root.route('/_emulator', createControlApp(deps))`. */
export function createControlApp(deps: ControlDeps, control: Control = createControl(deps)): Hono {
  const app = new Hono();
  const handle =
    (fn: (c: Context) => Response | Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      try {
        return await fn(c);
      } catch (error) {
        return errorResponse(error);
      }
    };
  const noContent = () => new Response(null, { status: 204 });

  app.get(
    '/info',
    handle((c) => c.json(control.info())),
  );

  app.get(
    '/requests',
    handle((c) => c.json(control.requests())),
  );
  app.delete(
    '/requests',
    handle(() => {
      control.clearRequests();
      return noContent();
    }),
  );

  app.get(
    '/faults',
    handle((c) => c.json(control.faults())),
  );
  app.put(
    '/faults',
    handle(async (c) => c.json(control.setFaults((await jsonBody(c)) as FaultSettingsPatch))),
  );
  app.delete(
    '/faults',
    handle((c) => c.json(control.resetFaults())),
  );
  app.post(
    '/delta/expire',
    handle((c) => c.json(control.expireDeltaTokens())),
  );

  app.post(
    '/users',
    handle(async (c) => c.json(control.createUser((await jsonBody(c)) as CreateUserInput), 201)),
  );
  app.patch(
    '/users/:id',
    handle(async (c) => c.json(control.updateUser(param(c, 'id'), (await jsonBody(c)) as UserPatch))),
  );
  app.delete(
    '/users/:id',
    handle((c) => {
      control.deleteUser(param(c, 'id'), { permanent: permanentQuery(c) });
      return noContent();
    }),
  );
  app.post(
    '/users/:id/restore',
    handle((c) => c.json(control.restoreUser(param(c, 'id')))),
  );
  app.put(
    '/users/:id/manager',
    handle(async (c) => {
      const body = parseInput(managerBodySchema, await jsonBody(c));
      control.setManager(param(c, 'id'), body.managerId);
      return noContent();
    }),
  );
  app.put(
    '/users/:id/photo',
    handle(async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (type.startsWith('image/')) {
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        return c.json(control.setPhoto(param(c, 'id'), { bytes, contentType: type }));
      }
      if (type === 'application/json' || type === '') {
        return c.json(control.setPhoto(param(c, 'id'), parseInput(photoJsonSchema, await jsonBody(c))));
      }
      throw new ControlError(
        415,
        'UnsupportedMediaType',
        `Content-Type '${type}' is not accepted: send the raw image with Content-Type image/jpeg (or image/png), or JSON {"generate": true}`,
      );
    }),
  );
  app.delete(
    '/users/:id/photo',
    handle((c) => {
      control.deletePhoto(param(c, 'id'));
      return noContent();
    }),
  );

  app.post(
    '/groups',
    handle(async (c) => c.json(control.createGroup((await jsonBody(c)) as CreateGroupInput), 201)),
  );
  app.patch(
    '/groups/:id',
    handle(async (c) => c.json(control.updateGroup(param(c, 'id'), (await jsonBody(c)) as GroupPatch))),
  );
  app.delete(
    '/groups/:id',
    handle((c) => {
      control.deleteGroup(param(c, 'id'), { permanent: permanentQuery(c) });
      return noContent();
    }),
  );
  app.post(
    '/groups/:id/restore',
    handle((c) => c.json(control.restoreGroup(param(c, 'id')))),
  );
  app.post(
    '/groups/:id/members',
    handle(async (c) => {
      const body = parseInput(memberBodySchema, await jsonBody(c));
      control.addMember(param(c, 'id'), body.id);
      return noContent();
    }),
  );
  app.delete(
    '/groups/:id/members/:memberId',
    handle((c) => {
      control.removeMember(param(c, 'id'), param(c, 'memberId'));
      return noContent();
    }),
  );

  if (deps.apps) {
    app.put(
      '/apps/:clientId/roles',
      handle(async (c) => {
        const body = parseInput(rolesBodySchema, await jsonBody(c));
        return c.json(control.setAppRoles(param(c, 'clientId'), body.roles));
      }),
    );
    app.post(
      '/apps/:clientId/certificates',
      handle(async (c) => {
        const body = parseInput(strictObject({ pem: z.string().min(1) }), await jsonBody(c));
        return c.json(control.addAppCertificate(param(c, 'clientId'), body.pem), 201);
      }),
    );
  }

  if (deps.consent) {
    const consent = deps.consent;
    app.get(
      '/consent',
      handle((c) => c.json(consent)),
    );
    app.put(
      '/consent',
      handle(async (c) => {
        const body = parseInput(
          strictObject({ decision: z.enum(['approve', 'decline']).optional(), roles: rolesSchema.optional() }),
          await jsonBody(c),
        );
        if (body.decision) consent.decision = body.decision;
        if (body.roles) consent.roles = body.roles;
        return c.json(consent);
      }),
    );
  }

  app.post(
    '/script',
    handle(async (c) => c.json(control.script((await jsonBody(c)) as ScriptInput))),
  );

  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'NotFound',
          message: `No control route ${c.req.method} ${c.req.path}; see GET /_emulator/info and the README for the routes.`,
        },
      },
      404,
    ),
  );
  app.onError((error) => errorResponse(error));
  return app;
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '')
    throw new InvalidInputError('body', 'body is required: send a JSON object with Content-Type application/json');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError('body', `body must be valid JSON: ${(error as Error).message}`, 'InvalidJson');
  }
}

function permanentQuery(c: Context): boolean | undefined {
  const value = parseInput(permanentSchema, c.req.query('permanent'), 'permanent');
  return value === undefined ? undefined : value === 'true' || value === '1';
}

function errorResponse(error: unknown): Response {
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  if (error instanceof ScriptError) {
    return json(error.status, {
      error: { code: error.code, message: error.message, index: error.index },
      results: error.results,
    });
  }
  if (hasStatus(error)) return json(error.status, { error: { code: error.code, message: error.message } });
  return json(500, {
    error: { code: 'InternalError', message: error instanceof Error ? error.message : String(error) },
  });
}

function param(c: Context, name: string): string {
  return c.req.param(name) ?? '';
}
