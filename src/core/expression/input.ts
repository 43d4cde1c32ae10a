import type { Value } from './values.ts';

// Attribute names in expressions are Graph user properties, matched case-insensitively, plus Entra's names for a few:
// [objectId] is the object id, and [extensionAttribute1]…[extensionAttribute15] are read from onPremisesExtensionAttributes.

/** Reads attributes of a Graph user object (as Graph or `--input` gives it); absent ones are null. */
export function graphUserAttributes(user: Record<string, unknown>): (name: string) => Value {
  const byLowerName = new Map<string, unknown>();
  for (const [key, value] of Object.entries(user)) byLowerName.set(key.toLowerCase(), value);
  const extensions = (byLowerName.get('onpremisesextensionattributes') ?? {}) as Record<string, unknown>;
  return (name) => {
    const key = name.toLowerCase();
    if (key === 'objectid') return toValue(byLowerName.get('id'));
    if (/^extensionattribute([1-9]|1[0-5])$/.test(key) && !byLowerName.has(key)) {
      const found = Object.entries(extensions).find(([k]) => k.toLowerCase() === key);
      return toValue(found?.[1]);
    }
    return toValue(byLowerName.get(key));
  };
}

function toValue(raw: unknown): Value {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (Array.isArray(raw)) return raw.map(toValue);
  // A related object (an expanded manager) reads as its id.
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}
