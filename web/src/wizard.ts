// The setup wizard's logic, apart from its pages (unit-tested in test/console/wizard.test.ts): the steps, which step
// a field the API names belongs to, and editing the draft settings document so that it stays minimal (what the admin
// left at its default is absent, as in a hand-written document).

export const STEPS = [
  { id: 'auto-sync', title: 'Auto sync' },
  { id: 'who', title: 'Who is synced' },
  { id: 'filters', title: 'Filters and exclusions' },
  { id: 'fields', title: 'Fields' },
  { id: 'groups', title: 'Groups' },
  { id: 'lifecycle', title: 'Leavers and safety' },
  { id: 'emails', title: 'Emails' },
  { id: 'test-sync', title: 'Test sync' },
  { id: 'schedule', title: 'Schedule' },
  { id: 'done', title: 'Finish' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

export const stepIndex = (id: StepId): number => STEPS.findIndex((s) => s.id === id);

const BY_PREFIX: [string, StepId][] = [
  ['schedule.enabled', 'auto-sync'],
  ['schedule', 'schedule'],
  ['settings.scope.filters', 'filters'],
  ['settings.scope.excludeEmails', 'filters'],
  ['settings.scope', 'who'],
  ['settings.mapping', 'fields'],
  ['settings.groups', 'groups'],
  ['settings.departments', 'groups'],
  ['settings.lifecycle', 'lifecycle'],
  ['settings.safety', 'lifecycle'],
  ['settings.audit', 'lifecycle'],
  ['settings.email', 'emails'],
];

/** The step whose page edits a field the API named (`settings.scope.groups[0]`, `schedule.timeZone`). */
export function stepOfField(field: string): StepId {
  for (const [prefix, step] of BY_PREFIX)
    if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) return step;
  return 'done';
}

/** Addresses or patterns typed one per line (or separated by commas): trimmed, without blanks or repeats. */
export function parseList(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of text.split(/[\n,;]/)) {
    const item = part.trim();
    if (item && !seen.has(item.toLowerCase())) {
      seen.add(item.toLowerCase());
      out.push(item);
    }
  }
  return out;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The document with `value` at `path`; `undefined` removes the key, and objects left empty by a removal go too, so
 * that a setting put back to its default leaves no trace.
 */
export function setIn<T extends Json>(document: T, path: readonly string[], value: unknown): T {
  const [key, ...rest] = path;
  const copy: Json = { ...document };
  if (rest.length === 0) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  } else {
    const inner = setIn(isObject(copy[key]) ? (copy[key] as Json) : {}, rest, value);
    if (Object.keys(inner).length === 0) delete copy[key];
    else copy[key] = inner;
  }
  return copy as T;
}

/** The value at `path`, or undefined. */
export function getIn(document: unknown, path: readonly string[]): unknown {
  let at: unknown = document;
  for (const key of path) {
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return at;
}

/** A test sync's changes counted by object and action: `{user: {created: 3, updated: 1}, group: {…}}`. */
export function changeCounts(
  changes: readonly { object: string; action: string }[],
): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const c of changes) {
    const byAction = (counts[c.object] ??= {});
    byAction[c.action] = (byAction[c.action] ?? 0) + 1;
  }
  return counts;
}

/** A value as the console shows it: `empty` for null or '', JSON for lists and objects. */
export function shown(value: unknown, empty = '—'): string {
  if (value === null || value === undefined || value === '') return empty;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
