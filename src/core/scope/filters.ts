import { UsersyncError } from '../errors.ts';
import { closest } from '../suggest.ts';
import type { Value } from '../expression/values.ts';

// Entra's scoping filters: clauses inside a filter are ANDed, filters are ORed, with the operators and semantics of
// Microsoft's "Scoping users or groups to be provisioned with scoping filters". Names match case-insensitively, with
// spaces and underscores alike (EQUALS, NOT EQUALS, ENDS_WITH, Greater_Than_OR_EQUALS…). Decided where the page is silent:
// a clause on a null or empty attribute is false for every operator but IS NULL; text comparisons are case-sensitive;
// REGEX MATCH finds a match anywhere unless the pattern is anchored (.NET's Regex.IsMatch); & and !& read as the page
// words them: the attribute's value occurs (or does not occur) in the clause's value.

export interface Clause {
  attribute: string;
  operator: string;
  value?: unknown;
}

export interface FilterIssue {
  path: (string | number)[];
  message: string;
}

export type ScopeDecision = { in: true } | { in: false; reason: string };

interface Operator {
  name: string;
  takesValue: boolean;
  /** Checks the clause's value once; returns what test() needs, or an error message. */
  prepare?(value: string): { ok: unknown } | { error: string };
  test(attribute: string | number | boolean, value: string, prepared: unknown): boolean;
}

const asText = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
const truthy = (v: string | number | boolean): boolean | null =>
  typeof v === 'boolean' ? v : /^(true|false)$/i.test(String(v)) ? /^true$/i.test(String(v)) : null;
const integer = (v: string | number | boolean): number | null =>
  typeof v === 'number' && Number.isInteger(v)
    ? v
    : typeof v === 'string' && /^-?\d+$/.test(v.trim())
      ? Number(v)
      : null;

const wholeNumber = (value: string) =>
  /^-?\d+$/.test(value.trim())
    ? { ok: Number(value) }
    : { error: `must be a whole number for this operator, got "${value}"` };

const OPERATORS: Operator[] = [
  {
    name: 'EQUALS',
    takesValue: true,
    test: (a, v) => (typeof a === 'boolean' ? asText(a).toLowerCase() === v.toLowerCase() : asText(a) === v),
  },
  {
    name: 'NOT EQUALS',
    takesValue: true,
    test: (a, v) => (typeof a === 'boolean' ? asText(a).toLowerCase() !== v.toLowerCase() : asText(a) !== v),
  },
  { name: 'IS TRUE', takesValue: false, test: (a) => truthy(a) === true },
  { name: 'IS FALSE', takesValue: false, test: (a) => truthy(a) === false },
  { name: 'IS NULL', takesValue: false, test: () => false },
  { name: 'IS NOT NULL', takesValue: false, test: () => true },
  {
    name: 'REGEX MATCH',
    takesValue: true,
    prepare: (v) => regex(v),
    test: (a, _v, re) => (re as RegExp).test(asText(a)),
  },
  {
    name: 'NOT REGEX MATCH',
    takesValue: true,
    prepare: (v) => regex(v),
    test: (a, _v, re) => !(re as RegExp).test(asText(a)),
  },
  {
    name: 'Greater_Than',
    takesValue: true,
    prepare: wholeNumber,
    test: (a, _v, n) => integer(a) !== null && integer(a)! > (n as number),
  },
  {
    name: 'Greater_Than_OR_EQUALS',
    takesValue: true,
    prepare: wholeNumber,
    test: (a, _v, n) => integer(a) !== null && integer(a)! >= (n as number),
  },
  { name: 'Includes', takesValue: true, test: (a, v) => asText(a).includes(v) },
  { name: 'ENDS_WITH', takesValue: true, test: (a, v) => asText(a).endsWith(v) },
  { name: '&', takesValue: true, test: (a, v) => v.includes(asText(a)) },
  { name: '!&', takesValue: true, test: (a, v) => !v.includes(asText(a)) },
];

function regex(pattern: string): { ok: RegExp } | { error: string } {
  try {
    return { ok: new RegExp(pattern) };
  } catch (error) {
    return {
      error: `is not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')})`,
    };
  }
}

const normalise = (name: string) =>
  name
    .trim()
    .toUpperCase()
    .replace(/[\s_]+/g, ' ');
const BY_NAME = new Map(OPERATORS.map((op) => [normalise(op.name), op]));

interface CompiledClause {
  attribute: string;
  operator: Operator;
  value: string;
  prepared: unknown;
  label: string;
}

export interface CompiledFilters {
  /** Every attribute the filters read. */
  readonly attributes: readonly string[];
  decide(attribute: (name: string) => Value): ScopeDecision;
}

/** Validates every clause (all problems at once, each with its path) and compiles the filters; throws a FiltersError. */
export function compileFilters(filters: unknown): CompiledFilters {
  const issues: FilterIssue[] = [];
  const compiled: CompiledClause[][] = [];
  if (!Array.isArray(filters))
    throw new FiltersError([
      {
        path: [],
        message: 'must be a list of filters, each a list of clauses: [[{"attribute", "operator", "value"}, …], …]',
      },
    ]);
  filters.forEach((filter, i) => {
    if (!Array.isArray(filter)) {
      issues.push({
        path: [i],
        message:
          'a filter is a list of clauses, e.g. [{"attribute": "department", "operator": "EQUALS", "value": "Sales"}]',
      });
      return;
    }
    if (filter.length === 0) {
      issues.push({
        path: [i],
        message: 'a filter needs at least one clause (remove the empty filter to put everyone in scope)',
      });
      return;
    }
    const clauses: CompiledClause[] = [];
    filter.forEach((clause, j) => {
      const c = compileClause(clause, [i, j], issues);
      if (c) clauses.push(c);
    });
    compiled.push(clauses);
  });
  if (issues.length > 0) throw new FiltersError(issues);
  const attributes = [...new Set(compiled.flat().map((c) => c.attribute))];
  return {
    attributes,
    decide(read) {
      if (compiled.length === 0) return { in: true };
      const misses: string[] = [];
      for (const [i, clauses] of compiled.entries()) {
        const miss = clauses.map((c, j) => failure(c, read(c.attribute), i, j)).find((m) => m !== null);
        if (miss === undefined) return { in: true };
        misses.push(miss!);
      }
      return {
        in: false,
        reason: compiled.length === 1 ? misses[0] : `no scoping filter matches: ${misses.join('; ')}`,
      };
    },
  };
}

/** Null when the clause holds; otherwise why not. */
function failure(clause: CompiledClause, raw: Value, i: number, j: number): string | null {
  const where = `filter ${i + 1}, clause ${j + 1} (${clause.label})`;
  if (Array.isArray(raw)) {
    throw new FiltersError([
      {
        path: [i, j, 'attribute'],
        message: `${clause.attribute} has several values; scoping filters compare single values (Entra does not filter on multi-valued attributes)`,
      },
    ]);
  }
  const empty = raw === null || raw === '' || typeof raw === 'object';
  if (clause.operator.name === 'IS NULL')
    return empty ? null : `${where}: ${clause.attribute} is ${JSON.stringify(raw)}`;
  if (empty) return `${where}: ${clause.attribute} is empty`;
  return clause.operator.test(raw as string | number | boolean, clause.value, clause.prepared)
    ? null
    : `${where}: ${clause.attribute} is ${JSON.stringify(raw)}`;
}

function compileClause(clause: unknown, path: (string | number)[], issues: FilterIssue[]): CompiledClause | null {
  if (typeof clause !== 'object' || clause === null || Array.isArray(clause)) {
    issues.push({ path, message: 'a clause is an object {"attribute", "operator", "value"}' });
    return null;
  }
  const { attribute, operator, value, ...rest } = clause as Record<string, unknown>;
  const before = issues.length;
  for (const key of Object.keys(rest))
    issues.push({
      path: [...path, key],
      message: `unknown key "${key}"; a clause has "attribute", "operator" and "value"`,
    });
  if (typeof attribute !== 'string' || attribute.trim() === '')
    issues.push({ path: [...path, 'attribute'], message: 'must name a user attribute, such as "department"' });
  let op: Operator | undefined;
  if (typeof operator !== 'string') {
    issues.push({ path: [...path, 'operator'], message: `must be one of ${OPERATORS.map((o) => o.name).join(', ')}` });
  } else {
    op = BY_NAME.get(normalise(operator));
    if (!op) {
      const near = closest(normalise(operator), [...BY_NAME.keys()]);
      const suggestion = near ? BY_NAME.get(near)!.name : undefined;
      issues.push({
        path: [...path, 'operator'],
        message: `unknown operator "${operator}"${suggestion ? `; did you mean "${suggestion}"?` : `; use one of ${OPERATORS.map((o) => o.name).join(', ')}`}`,
      });
    }
  }
  let text = '';
  let prepared: unknown;
  if (op) {
    if (!op.takesValue && value !== undefined)
      issues.push({ path: [...path, 'value'], message: `${op.name} takes no value; leave "value" out` });
    if (op.takesValue) {
      if (value === undefined || value === null)
        issues.push({ path: [...path, 'value'], message: `${op.name} needs a value` });
      else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
        issues.push({ path: [...path, 'value'], message: 'must be a string (or a number)' });
      else {
        text = String(value);
        const checked = op.prepare?.(text);
        if (checked && 'error' in checked) issues.push({ path: [...path, 'value'], message: checked.error });
        else prepared = checked?.ok;
      }
    }
  }
  if (issues.length > before || !op) return null;
  const label = `${attribute} ${op.name}${op.takesValue ? ` ${JSON.stringify(text)}` : ''}`;
  return { attribute: attribute as string, operator: op, value: text, prepared, label };
}

/** Every problem of a filters document, each with its path. */
export class FiltersError extends UsersyncError {
  readonly issues: FilterIssue[];
  constructor(issues: FilterIssue[], root = 'filters') {
    super('filters_invalid', issues.map((i) => `${formatPath(root, i.path)}: ${i.message}`).join('; '), {
      context: { field: issues.length > 0 ? formatPath(root, issues[0].path) : root },
    });
    this.name = 'FiltersError';
    this.issues = issues;
  }
}

/** `filters[0][1].operator`; with an empty root, `scope.filters[0]` (no leading dot). */
export function formatPath(root: string, path: (string | number)[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${key}`),
    root,
  );
}

export const OPERATOR_NAMES: readonly string[] = OPERATORS.map((o) => o.name);
