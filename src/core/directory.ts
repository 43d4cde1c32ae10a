// The built-in directory's domain model: what a directory user, group and department are.
// Plain data; `core/` never does I/O.

/** Profile fields of a directory user, in the order of the `users list` contract. */
export const PROFILE_FIELDS = [
  'loginAccount',
  'name',
  'email',
  'firstName',
  'lastName',
  'userType',
  'jobTitle',
  'department',
  'country',
  'officeLocation',
  'city',
  'mobilePhone',
  'postalCode',
  'companyName',
  'employeeNo',
  'faxNumber',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
/** Where each built-in field comes from when the settings do not say (the default mapping of configuration.md). */
export const DEFAULT_SOURCES: Readonly<Record<ProfileField, string>> = {
  loginAccount: 'userPrincipalName',
  name: 'displayName',
  email: 'mail',
  firstName: 'givenName',
  lastName: 'surname',
  userType: 'userType',
  jobTitle: 'jobTitle',
  department: 'department',
  country: 'country',
  officeLocation: 'officeLocation',
  city: 'city',
  mobilePhone: 'mobilePhone',
  postalCode: 'postalCode',
  companyName: 'companyName',
  employeeNo: 'employeeId',
  faxNumber: 'faxNumber',
};

export type Profile = { [K in ProfileField]: K extends 'loginAccount' ? string : string | null };

export type UserStatus = 'active' | 'disabled';
/**
 * Where the source stands on a directory object: present, deleted in Entra, absent from a full read, present but out of
 * scope, or `local`: an account that did not come from Entra (`usersync users import`), until a sync matches it.
 */
export type SourceState = 'present' | 'deleted' | 'missing' | 'out_of_scope' | 'local';
/** Custom directory fields (mapping.custom): name → value. */
export type CustomFields = Record<string, string | number | boolean | null>;
export type GroupType = 'microsoft365' | 'security' | 'mail-enabled-security' | 'distribution';

/** A user as the source (Entra) describes it after normalisation. */
export interface SourceUser extends Profile {
  externalId: string;
  accountEnabled: boolean;
  /** The manager's object id; null = no manager; undefined = this read did not say (unchanged). */
  managerExternalId?: string | null;
  custom?: CustomFields;
}

/** A user as the directory stores it. */
export interface DirectoryUser extends Profile {
  externalId: string;
  accountEnabled: boolean;
  managerExternalId: string | null;
  sourceState: SourceState;
  status: UserStatus;
  custom: CustomFields;
  fingerprint: string;
  /** lifecycle.onLeave "remove" took the user out of the directory (the record is kept for a return). */
  removed?: boolean;
}

export interface SourceGroup {
  externalId: string;
  name: string;
  type: GroupType;
}
export interface DirectoryGroup extends SourceGroup {
  sourceState: SourceState;
  fingerprint: string;
}

export interface MemberRef {
  externalId: string;
  kind: 'user' | 'group';
}

/** A user's directory status follows the source: enabled and present → active, anything else → disabled. */
export function statusOf(accountEnabled: boolean, sourceState: SourceState): UserStatus {
  return accountEnabled && sourceState === 'present' ? 'active' : 'disabled';
}
