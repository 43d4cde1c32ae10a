// Shapes of the emulated directory. Objects are stored in Graph's own JSON shape (property names and
// casing exactly as Graph v1.0 returns them), so serving them is a projection, not a translation.

export type GraphUser = Record<string, unknown> & { id: string; userPrincipalName: string; displayName: string };
export type GraphGroup = Record<string, unknown> & { id: string; displayName: string };

export type GroupKind = 'microsoft365' | 'security' | 'mail-enabled-security' | 'distribution';

export interface PhotoData {
  bytes: Buffer;
  contentType: string;
  width: number;
  height: number;
  etag: string;
}

export interface TenantSpec {
  seed: number;
  tenantId: string;
  /** The verified domain users sign in with (contoso.com style). */
  domain: string;
  /** The tenant's onmicrosoft.com domain (guests' UPNs live here). */
  initialDomain: string;
  userCount: number;
  groupCount: number;
  guestRatio: number;
  disabledRatio: number;
  photoRatio: number;
  managerFanout: number;
  /** Full name of the directory extension property every member carries (extension_{appHex}_costCenter). */
  extensionCostCenter: string;
}

/** A reference to a directory object as memberships and delta report it. */
export interface ObjectRef {
  kind: 'user' | 'group';
  index: number;
  id: string;
}

/** One entry of the tenant's change log; delta rounds are computed from it. */
export type Change =
  | {
      seq: number;
      at: number;
      kind: 'user';
      index: number;
      op: 'create' | 'restore' | 'update';
      props: string[];
      managerFrom?: string | null;
    }
  | { seq: number; at: number; kind: 'user'; index: number; op: 'delete'; reason: 'changed' | 'deleted' }
  | { seq: number; at: number; kind: 'group'; index: number; op: 'create' | 'restore' | 'update'; props: string[] }
  | { seq: number; at: number; kind: 'group'; index: number; op: 'delete'; reason: 'changed' | 'deleted' }
  | { seq: number; at: number; kind: 'group'; index: number; op: 'members'; member: ObjectRef; removed: boolean };

export type DeletedState = { reason: 'changed'; at: string } | { reason: 'deleted' };
