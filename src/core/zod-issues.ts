import type { z } from 'zod';

// zod's issues said as sentences a person can act on, each naming its field: the emulator's control API and the
// service's API both answer invalid requests with these.

/** `changes[2].patch.displayName` style path. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/** One readable sentence per zod issue, naming the field: "throttleRatio must be a number from 0 to 1 …". */
export function describeIssue(issue: z.core.$ZodIssue, root = ''): { field: string; message: string } {
  const field = formatPath(issue.path, root) || root || 'body';
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.map((k) => formatPath([...issue.path, k], root));
    return { field: fields[0], message: `${fields.map((f) => `'${f}'`).join(', ')}: ${issue.message}` };
  }
  const defaultType = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message);
  if (defaultType) {
    const [, expected, received] = defaultType;
    const message =
      received === 'undefined'
        ? `${field} is required (${article(expected)})`
        : `${field} must be ${article(expected)}, got ${received}`;
    return { field, message };
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return { field, message: `${field} must be one of: ${issue.options.join(', ')}` };
  }
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')) {
    return { field, message: `${field} must be one of: ${issue.values.map(String).join(', ')}` };
  }
  if (issue.message.startsWith(field)) return { field, message: issue.message };
  // A custom message names its field by its own name ("displayName must be …"): say where it is instead.
  const keys = issue.path.filter((k): k is string => typeof k === 'string');
  const leaf = keys[keys.length - 1];
  if (leaf !== undefined && issue.message.startsWith(`${leaf} `))
    return { field, message: `${field}${issue.message.slice(leaf.length)}` };
  if (issue.path.length === 0 && root === '') return { field, message: issue.message };
  return { field, message: `${field}: ${issue.message}` };
}

function article(type: string): string {
  if (type === 'null' || type === 'undefined') return type;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
