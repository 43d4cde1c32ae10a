import type { CustomFields, DirectoryGroup, DirectoryUser } from '../core/directory.ts';
import type {
  DirectoryGroup as GroupRow,
  DirectoryGroupInput,
  DirectoryUser as UserRow,
  DirectoryUserInput,
} from '../store/index.ts';

// Directory objects between the domain (camelCase, core/) and the store's rows (snake_case, store/).

export function userFromRow(row: UserRow): DirectoryUser {
  return {
    externalId: row.external_id,
    loginAccount: row.login_account ?? '',
    name: row.name,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    userType: row.user_type,
    jobTitle: row.job_title,
    department: row.department,
    country: row.country,
    officeLocation: row.office_location,
    city: row.city,
    mobilePhone: row.mobile_phone,
    postalCode: row.postal_code,
    companyName: row.company_name,
    employeeNo: row.employee_no,
    faxNumber: row.fax_number,
    accountEnabled: row.account_enabled,
    managerExternalId: row.manager_external_id,
    sourceState: row.source_state,
    status: row.status,
    custom: row.custom_fields as CustomFields,
    fingerprint: row.fingerprint,
    removed: row.removed_at !== null,
  };
}

/** The row to write (photos are rows of their own, written by the photo step). */
export function userToRow(user: DirectoryUser): DirectoryUserInput {
  return {
    external_id: user.externalId,
    login_account: user.loginAccount,
    name: user.name,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    user_type: user.userType,
    job_title: user.jobTitle,
    department: user.department,
    manager_external_id: user.managerExternalId,
    country: user.country,
    office_location: user.officeLocation,
    city: user.city,
    mobile_phone: user.mobilePhone,
    postal_code: user.postalCode,
    company_name: user.companyName,
    employee_no: user.employeeNo,
    fax_number: user.faxNumber,
    account_enabled: user.accountEnabled,
    source_state: user.sourceState,
    status: user.status,
    custom_fields: user.custom,
    fingerprint: user.fingerprint,
    // A user written back into the source's present users is in the directory again (a removed leaver returning).
    ...(user.sourceState === 'present' ? { removed_at: null } : {}),
  };
}

export function groupFromRow(row: GroupRow): DirectoryGroup {
  return {
    externalId: row.external_id,
    name: row.name ?? row.external_id,
    type: row.type,
    sourceState: row.source_state,
    fingerprint: row.fingerprint,
  };
}

export function groupToRow(group: DirectoryGroup): DirectoryGroupInput {
  return {
    external_id: group.externalId,
    name: group.name,
    type: group.type,
    source_state: group.sourceState,
    fingerprint: group.fingerprint,
  };
}
