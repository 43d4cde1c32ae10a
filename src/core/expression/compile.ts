import { FUNCTIONS, FUNCTIONS_BY_NAME, IgnoreFlow, type Arg, type EvaluationContext } from './functions.ts';
import { closest } from '../suggest.ts';
import { graphUserAttributes } from './input.ts';
import { ExpressionError, parseExpression, type Node } from './syntax.ts';
import { DateTimeValue, textOf, toJson, type Value } from './values.ts';

// An expression compiled once (parsed, every function and its argument count checked) and then evaluated against
// many users. Function names match case-insensitively: Microsoft's own examples mix `Switch` and `switch`.

export type Outcome = { value: unknown } | { ignored: true };

export interface CompiledExpression {
  readonly source: string;
  /** The attributes it reads, as written (`[mail]` → `mail`), for choosing what to ask Graph for. */
  readonly attributes: readonly string[];
  /** Evaluates against one object; `attribute` reads a value by name (null when absent). Throws an ExpressionError. */
  evaluate(attribute: (name: string) => Value, context?: Partial<EvaluationContext>): Outcome;
}

type Evaluator = (scope: Scope) => Value;
interface Scope {
  attribute: (name: string) => Value;
  context: EvaluationContext;
}

const DEFAULT_CONTEXT: EvaluationContext = { now: Date.now, random: Math.random, uuid: () => crypto.randomUUID() };

export function compileExpression(source: string): CompiledExpression {
  const attributes = new Set<string>();
  const root = compileNode(parseExpression(source), attributes);
  return {
    source,
    attributes: [...attributes],
    evaluate(attribute, context) {
      try {
        return { value: toJson(root({ attribute, context: { ...DEFAULT_CONTEXT, ...context } })) };
      } catch (error) {
        if (error instanceof IgnoreFlow) return { ignored: true };
        throw error;
      }
    },
  };
}

function compileNode(node: Node, attributes: Set<string>): Evaluator {
  switch (node.kind) {
    case 'string':
    case 'number': {
      const value = node.value;
      return () => value;
    }
    case 'constant': {
      const value = node.value;
      return () => value;
    }
    case 'missing':
      return () => null;
    case 'attribute': {
      const name = node.name;
      attributes.add(name);
      return (scope) => scope.attribute(name);
    }
    case 'compare': {
      const left = compileNode(node.left, attributes);
      const right = compileNode(node.right, attributes);
      const op = node.op;
      return (scope) => compare(op, left(scope), right(scope), node);
    }
    case 'call': {
      const spec = FUNCTIONS_BY_NAME.get(node.name.toLowerCase());
      if (!spec) {
        const near = closest(
          node.name,
          FUNCTIONS.map((f) => f.name),
        );
        throw new ExpressionError(
          'expression_unknown_function',
          `unknown function "${node.name}"`,
          node.start,
          near ? `did you mean "${near}"?` : 'docs/mapping.md lists every function',
        );
      }
      const n = node.args.length;
      const expected =
        spec.max === spec.min
          ? `${spec.min}`
          : spec.max === Infinity
            ? `at least ${spec.min}`
            : `${spec.min} to ${spec.max}`;
      if (n < spec.min || n > spec.max) {
        throw new ExpressionError(
          'expression_arguments',
          `${spec.name} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${n}`,
          node.start,
          argumentHint(spec.name),
        );
      }
      if (spec.pairs && n % 2 !== 0) {
        throw new ExpressionError(
          'expression_arguments',
          `${spec.name} takes its keys and values in pairs, got ${n} arguments`,
          node.start,
          'Switch(source, default, key1, value1, key2, value2, …)',
        );
      }
      const args = node.args.map((arg) => ({
        node: arg,
        missing: arg.kind === 'missing',
        evaluate: compileNode(arg, attributes),
      }));
      return (scope) =>
        spec.run(
          args.map((a): Arg => ({ node: a.node, missing: a.missing, value: () => a.evaluate(scope) })),
          scope.context,
          node,
        );
    }
  }
}

/** =, <>, <, <=, >, >=: numbers by value, dates by instant, anything else as text (case-sensitive). A null side is false, as in Entra. */
function compare(op: string, a: Value, b: Value, node: Node): boolean {
  if (a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b))
    throw new ExpressionError(
      'expression_value',
      'a list cannot be compared',
      node.start,
      'pick one value with Item(…, 1)',
    );
  let x: number | string;
  let y: number | string;
  const numeric = (v: Value) =>
    typeof v === 'number'
      ? v
      : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))
        ? Number(v)
        : null;
  if (a instanceof DateTimeValue || b instanceof DateTimeValue) {
    x = a instanceof DateTimeValue ? a.ms : Date.parse(String(a));
    y = b instanceof DateTimeValue ? b.ms : Date.parse(String(b));
  } else if (typeof a === 'boolean' || typeof b === 'boolean') {
    x = (textOf(a) ?? '').toLowerCase();
    y = (textOf(b) ?? '').toLowerCase();
  } else if (numeric(a) !== null && numeric(b) !== null && (typeof a === 'number' || typeof b === 'number')) {
    x = numeric(a)!;
    y = numeric(b)!;
  } else {
    x = textOf(a) ?? '';
    y = textOf(b) ?? '';
  }
  switch (op) {
    case '=':
      return x === y;
    case '<>':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

const SIGNATURES: Record<string, string> = {
  Replace:
    'Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template): leave unused ones empty, e.g. Replace([mail], "@contoso.com", , , "", , )',
  FormatDateTime:
    'FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat), e.g. FormatDateTime([x], , "yyyyMMdd", "yyyy-MM-dd")',
  RandomString:
    'RandomString(length, minimumNumbers, minimumSpecialCharacters, minimumCapital, minimumLowerCase, charactersToAvoid?)',
};

function argumentHint(name: string): string {
  return SIGNATURES[name] ?? 'docs/mapping.md shows its arguments';
}

/** An expression's answer for a Graph user object: `{value}`, or `{value: null, ignored: true}` for IgnoreFlowIfNullOrEmpty (the CLI's and the API's shape). */
export function expressionAnswer(
  compiled: CompiledExpression,
  graphUser: Record<string, unknown>,
): { value: unknown } | { value: null; ignored: true } {
  const outcome = compiled.evaluate(graphUserAttributes(graphUser));
  return 'ignored' in outcome ? { value: null, ignored: true } : outcome;
}
