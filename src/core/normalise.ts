import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UsersyncError } from './errors.ts';
import type { GroupType, MemberRef, SourceGroup, SourceUser } from './directory.ts';

// Graph JSON → source objects. Graph responses are validated here (passthrough: unknown properties
// may appear), so a malformed response fails with the object id and the field instead of corrupting data.

/** Graph user properties the default mapping reads (delta `$select`; `manager` tracks manager changes). */
export const USER_SELECT = [
  'userPrincipalName',
  'displayName',
  'mail',
  'givenName',
  'surname',
  'userType',
  'jobTitle',
  'department',
  'country',
  'officeLocation',
  'city',
  'mobilePhone',
  'postalCode',
  'companyName',
  'employeeId',
  'faxNumber',
  'accountEnabled',
  'manager',
];
export const GROUP_SELECT = ['displayName', 'groupTypes', 'mailEnabled', 'securityEnabled', 'members'];

const text = z.string().nullish();
const removed = z.object({ reason: z.string() }).passthrough();
const reference = z
  .object({ id: z.string().min(1), '@odata.type': z.string().optional(), '@removed': removed.optional() })
  .passthrough();

const graphUser = z
  .object({
    id: z.string().min(1),
    '@removed': removed.optional(),
    userPrincipalName: text,
    displayName: text,
    mail: text,
    givenName: text,
    surname: text,
    userType: text,
    jobTitle: text,
    department: text,
    country: text,
    officeLocation: text,
    city: text,
    mobilePhone: text,
    postalCode: text,
    companyName: text,
    employeeId: text,
    faxNumber: text,
    accountEnabled: z.boolean().nullish(),
    'manager@delta': z.array(reference).optional(),
  })
  .passthrough();

const graphGroup = z
  .object({
    id: z.string().min(1),
    '@removed': removed.optional(),
    displayName: text,
    groupTypes: z.array(z.string()).nullish(),
    mailEnabled: z.boolean().nullish(),
    securityEnabled: z.boolean().nullish(),
    'members@delta': z.array(reference).optional(),
  })
  .passthrough();

export class SourceDataError extends UsersyncError {
  constructor(message: string, object?: string, field?: string) {
    super('invalid_graph_response', message, {
      context: { ...(object === undefined ? {} : { object }), ...(field === undefined ? {} : { field }) },
    });
    this.name = 'SourceDataError';
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const id =
    typeof value === 'object' && value !== null && 'id' in value ? ` ${String((value as { id: unknown }).id)}` : '';
  throw new SourceDataError(
    `Graph returned a malformed ${what}${id}: ${issue.path.join('.') || 'value'} ${issue.message.toLowerCase()}. Nothing from this page was written; retry, and report it if it persists.`,
    id.trim() || undefined,
    issue.path.join('.') || undefined,
  );
}

/** Empty and whitespace-only strings mean "no value", as they do in Entra's UI. */
const clean = (value: string | null | undefined): string | null => {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
};

export type UserItem =
  { kind: 'removed'; externalId: string; reason: 'changed' | 'deleted' } | { kind: 'user'; user: SourceUser };

/**
 * One users-delta item. In a full round every user arrives whole, so a missing manager@delta means
 * "no manager"; in a change round it means "manager unchanged".
 */
export function normaliseUser(raw: unknown, round: 'full' | 'delta'): UserItem {
  const item = parse(graphUser, raw, 'user');
  if (item['@removed'])
    return {
      kind: 'removed',
      externalId: item.id,
      reason: item['@removed'].reason === 'changed' ? 'changed' : 'deleted',
    };
  if (!item.userPrincipalName)
    throw new SourceDataError(
      `Graph returned user ${item.id} without a userPrincipalName; select it in the delta query (it is in USER_SELECT) or report the response.`,
      item.id,
      'userPrincipalName',
    );
  let managerExternalId: string | null | undefined = round === 'full' ? null : undefined;
  const managerDelta = item['manager@delta'];
  if (managerDelta && managerDelta.length > 0) {
    const current = managerDelta.filter((m) => !m['@removed']);
    managerExternalId = current.length > 0 ? current[current.length - 1].id : null;
  }
  return {
    kind: 'user',
    user: {
      externalId: item.id,
      loginAccount: item.userPrincipalName,
      name: clean(item.displayName),
      email: clean(item.mail),
      firstName: clean(item.givenName),
      lastName: clean(item.surname),
      userType: clean(item.userType),
      jobTitle: clean(item.jobTitle),
      department: clean(item.department),
      country: clean(item.country),
      officeLocation: clean(item.officeLocation),
      city: clean(item.city),
      mobilePhone: clean(item.mobilePhone),
      postalCode: clean(item.postalCode),
      companyName: clean(item.companyName),
      employeeNo: clean(item.employeeId),
      faxNumber: clean(item.faxNumber),
      accountEnabled: item.accountEnabled ?? true,
      managerExternalId,
    },
  };
}

export type SourceUserItem =
  | { kind: 'removed'; externalId: string; reason: 'changed' | 'deleted' }
  | {
      kind: 'user';
      externalId: string;
      /** The Graph object's properties as received (annotations and manager@delta left out), for the source mirror. */
      data: Record<string, unknown>;
      /** null = no manager; undefined = this item did not say (a change round keeps the stored one). */
      managerExternalId: string | null | undefined;
    };

/** One users-delta item for the source mirror: validated as normaliseUser does, kept whole for scope and mapping. */
export function readSourceUser(raw: unknown, round: 'full' | 'delta'): SourceUserItem {
  const item = normaliseUser(raw, round);
  if (item.kind === 'removed') return item;
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>))
    if (!key.startsWith('@') && !key.includes('@')) data[key] = value;
  return { kind: 'user', externalId: item.user.externalId, data, managerExternalId: item.user.managerExternalId };
}

export function groupTypeOf(
  groupTypes: readonly string[] | null | undefined,
  mailEnabled: boolean | null | undefined,
  securityEnabled: boolean | null | undefined,
): GroupType {
  if (groupTypes?.some((t) => t.toLowerCase() === 'unified')) return 'microsoft365';
  if (mailEnabled && securityEnabled) return 'mail-enabled-security';
  if (mailEnabled) return 'distribution';
  return 'security';
}

export type GroupItem =
  | { kind: 'removed'; externalId: string; reason: 'changed' | 'deleted' }
  | { kind: 'group'; group: SourceGroup | null; added: MemberRef[]; removedMembers: string[] };

/**
 * One groups-delta item. A large group arrives as several items (slices of members@delta); each slice
 * repeats the group's properties, except in minimal responses where `group` is null.
 */
export function normaliseGroup(raw: unknown): GroupItem {
  const item = parse(graphGroup, raw, 'group');
  if (item['@removed'])
    return {
      kind: 'removed',
      externalId: item.id,
      reason: item['@removed'].reason === 'changed' ? 'changed' : 'deleted',
    };
  const added: MemberRef[] = [];
  const removedMembers: string[] = [];
  for (const member of item['members@delta'] ?? []) {
    if (member['@removed']) removedMembers.push(member.id);
    else
      added.push({
        externalId: member.id,
        kind: member['@odata.type']?.toLowerCase() === '#microsoft.graph.group' ? 'group' : 'user',
      });
  }
  const hasProperties = item.displayName !== undefined;
  return {
    kind: 'group',
    group: hasProperties
      ? {
          externalId: item.id,
          name: item.displayName ?? item.id,
          type: groupTypeOf(item.groupTypes, item.mailEnabled, item.securityEnabled),
        }
      : null,
    added,
    removedMembers,
  };
}

/** A stable hash of an object's synced values; equal fingerprints mean nothing to write. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
}
