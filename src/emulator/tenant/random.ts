// Deterministic, allocation-free hashing: every generated fact is a pure function of (seed, index, salt),
// so a tenant of a million users costs no memory until something about it changes.

/** A 32-bit avalanche mix (lowbias32). */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of (seed, index, salt) as an unsigned 32-bit integer. */
export function hash3(seed: number, index: number, salt: number): number {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ index) + Math.imul(salt, 0x85ebca6b));
}

/** Uniform float in [0, 1) from (seed, index, salt). */
export function unit(seed: number, index: number, salt: number): number {
  return hash3(seed, index, salt) / 4294967296;
}

/** Pick from a list by hash. */
export function pick<T>(list: readonly T[], seed: number, index: number, salt: number): T {
  return list[hash3(seed, index, salt) % list.length];
}

/** A string seed ("demo", "42") to a 32-bit number. */
export function seedFrom(value: string | number): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value >>> 0;
  if (/^\d{1,9}$/.test(String(value))) return Number(value) >>> 0; // `--seed 42` on the command line is the same tenant as seed: 42
  let h = 2166136261;
  for (const ch of String(value)) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  return h >>> 0;
}

export function hex(n: number, width: number): string {
  return (n >>> 0)
    .toString(16)
    .padStart(8, '0')
    .slice(8 - width);
}
