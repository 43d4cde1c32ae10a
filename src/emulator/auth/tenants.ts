import type { AadError, EmulatorApp, EmulatorTenantAuth } from './types.ts';
import { aad } from './errors.ts';

/** Tenant path segments that name no single tenant. */
export const multiTenantSegments = ['common', 'organizations', 'consumers'] as const;
export type MultiTenantSegment = (typeof multiTenantSegments)[number];

export type TenantLookup =
  | { kind: 'tenant'; tenant: EmulatorTenantAuth }
  | { kind: 'multi'; segment: MultiTenantSegment }
  | { kind: 'error'; error: AadError };

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const dnsName = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Resolves the `{tenant}` of a login URL: a tenant GUID, one of its domains, or common/organizations/consumers. */
export function lookupTenant(tenants: readonly EmulatorTenantAuth[], segment: string): TenantLookup {
  const lower = segment.toLowerCase();
  const multi = multiTenantSegments.find((s) => s === lower);
  if (multi) return { kind: 'multi', segment: multi };
  if (guid.test(segment)) {
    const tenant = tenants.find((t) => t.tenantId.toLowerCase() === lower);
    return tenant ? { kind: 'tenant', tenant } : { kind: 'error', error: aad.tenantNotFound(segment) };
  }
  if (!dnsName.test(segment)) return { kind: 'error', error: aad.malformedTenant(segment) };
  const tenant = tenants.find((t) => t.domains.some((d) => d.toLowerCase() === lower));
  return tenant ? { kind: 'tenant', tenant } : { kind: 'error', error: aad.tenantNotFound(segment) };
}

export function findApp(tenant: EmulatorTenantAuth, clientId: string): EmulatorApp | undefined {
  const lower = clientId.toLowerCase();
  return tenant.apps.find((a) => a.clientId.toLowerCase() === lower);
}

/** The name Entra shows for a directory in messages: its first domain, else its id. */
export function tenantName(tenant: EmulatorTenantAuth): string {
  return tenant.domains[0] ?? tenant.tenantId;
}
