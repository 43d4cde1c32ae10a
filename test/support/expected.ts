import { createHash } from 'node:crypto';
import { groupTypeOf } from '../../src/core/normalise.ts';
import type { Tenant } from '../../src/emulator/tenant/tenant.ts';

// What the directory must hold for a given emulated tenant, computed from the emulator's own data:
// the oracle every sync integration test compares against.

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

export function expectedUser(tenant: Tenant, i: number) {
  const u = tenant.user(i);
  const manager = tenant.managerIndex(i);
  const photo = tenant.photo(i);
  return {
    externalId: u.id,
    loginAccount: u.userPrincipalName,
    name: text(u.displayName),
    email: text(u.mail),
    firstName: text(u.givenName),
    lastName: text(u.surname),
    userType: text(u.userType),
    jobTitle: text(u.jobTitle),
    department: text(u.department),
    lineManager: manager === undefined ? null : tenant.user(manager).userPrincipalName,
    country: text(u.country),
    officeLocation: text(u.officeLocation),
    city: text(u.city),
    mobilePhone: text(u.mobilePhone),
    postalCode: text(u.postalCode),
    companyName: text(u.companyName),
    employeeNo: text(u.employeeId),
    faxNumber: text(u.faxNumber),
    photo: photo === null ? null : createHash('sha256').update(photo.bytes).digest('hex'),
    status: u.accountEnabled === false ? 'disabled' : 'active',
    custom: {},
  };
}

/** Every live user of the tenant, as `users list --json` shows them, keyed by externalId. */
export function expectedUsers(tenant: Tenant): Map<string, ReturnType<typeof expectedUser>> {
  const out = new Map<string, ReturnType<typeof expectedUser>>();
  for (const i of tenant.liveUsers()) {
    const e = expectedUser(tenant, i);
    out.set(e.externalId, e);
  }
  return out;
}

export function expectedGroups(tenant: Tenant) {
  const out = [];
  for (const g of tenant.liveGroups()) {
    const group = tenant.group(g);
    const members = [...tenant.groupMembers(g)]
      .filter((m) => m.ref.kind === 'user')
      .map((m) => tenant.user(m.ref.index).userPrincipalName)
      .sort();
    out.push({
      externalId: group.id,
      name: group.displayName,
      type: groupTypeOf(group.groupTypes as string[], group.mailEnabled as boolean, group.securityEnabled as boolean),
      members,
      appGroup: group.displayName,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.externalId < b.externalId ? -1 : 1));
}

/** Departments with members, for the departments live users have. */
export function expectedDepartments(tenant: Tenant): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of tenant.liveUsers()) {
    const d = text(tenant.user(i).department);
    if (d === null) continue;
    const list = out.get(d) ?? [];
    list.push(tenant.user(i).userPrincipalName);
    out.set(d, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}
