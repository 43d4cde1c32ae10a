import { hash3, hex } from './random.ts';

// Object ids are lowercase GUIDs that encode their kind and index, so `id → object` needs no lookup table:
// the last 12 hex digits carry the index (masked), the rest is a checksum of (seed, kind, index).
export type ObjectKind = 'user' | 'group' | 'tenant' | 'app';
const KIND_SALT: Record<ObjectKind, number> = { user: 11, group: 23, tenant: 37, app: 41 };

export function objectId(seed: number, kind: ObjectKind, index: number): string {
  const salt = KIND_SALT[kind];
  const a = hash3(seed, index, salt);
  const b = hash3(seed, index, salt + 1);
  const mask = hash3(seed, 0x5eed, salt);
  const c = hash3(seed, index, salt + 2);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${hex(8 + (c >>> 30), 1)}${hex(c, 3)}-${hex((index ^ mask) >>> 0, 8)}${hex(c >>> 12, 4)}`;
}

/** The index an id encodes, or undefined when the id is not one of ours for this kind. */
export function indexOfId(seed: number, kind: ObjectKind, id: string): number | undefined {
  if (id.length !== 36) return undefined;
  const lower = id.toLowerCase();
  const masked = Number.parseInt(lower.slice(24, 32), 16);
  if (!Number.isFinite(masked)) return undefined;
  const index = (masked ^ hash3(seed, 0x5eed, KIND_SALT[kind])) >>> 0;
  return objectId(seed, kind, index) === lower ? index : undefined;
}
