import { UsersyncError } from '../errors.ts';

// The syntax of Entra's attribute-mapping expressions, parsed by hand (recursive descent) with the position of every
// node, so that an error can point at the character where it happened. Grammar:
//
//   expression := operand (comparator operand)?           comparator: = <> < <= > >=
//   operand    := call | attribute | string | number | hex | name
//   call       := NAME '(' (argument (',' argument)*)? ')'   an argument may be left empty: Replace([a], , "x", , "", , )
//   attribute  := '[' any characters but ']' ']'
//   string     := '"' characters, \" and \\ escaped '"'      an unknown escape keeps its backslash
//   number     := '-'? digits ('.' digits)?                  hex := '&H' hex digits (VBA, as in BitAnd(&HF, &HF7))
//   name       := vbBinaryCompare | vbTextCompare | True | False | Nothing

export type Node =
  | { kind: 'call'; name: string; args: Node[]; start: number; end: number }
  | { kind: 'attribute'; name: string; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'number'; value: number; start: number; end: number }
  | { kind: 'constant'; name: string; value: string | number | boolean | null; start: number; end: number }
  | { kind: 'compare'; op: Comparator; left: Node; right: Node; start: number; end: number }
  /** An argument left empty. */
  | { kind: 'missing'; start: number; end: number };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type ExpressionErrorCode =
  'expression_syntax' | 'expression_unknown_function' | 'expression_arguments' | 'expression_value';

/** What went wrong in an expression, where (0-based offset into the expression) and what to do. */
export class ExpressionError extends UsersyncError {
  declare readonly code: ExpressionErrorCode;
  readonly position: number;
  constructor(code: ExpressionErrorCode, what: string, position: number, hint?: string) {
    super(code, `${what} at character ${position + 1}${hint ? `: ${hint}` : ''}`, { hint, context: { position } });
    this.name = 'ExpressionError';
    this.position = position;
  }
}

const CONSTANTS: Record<string, string | number | boolean | null> = {
  vbbinarycompare: 0,
  vbtextcompare: 1,
  true: true,
  false: false,
  nothing: null,
};

export function parseExpression(text: string): Node {
  let pos = 0;
  const fail = (what: string, at = pos, hint?: string): never => {
    throw new ExpressionError('expression_syntax', what, at, hint);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const describe = (at: number) => (at >= text.length ? 'the end of the expression' : `"${text[at]}"`);

  const operand = (): Node => {
    skipSpace();
    const start = pos;
    const c = text[pos];
    if (c === undefined)
      return fail(
        'an expression ends too early',
        pos,
        'a function, an [attribute], a "string" or a number was expected',
      );
    if (c === '[') {
      const close = text.indexOf(']', pos + 1);
      if (close < 0) fail('an attribute is not closed', start, 'end it with ]');
      const name = text.slice(pos + 1, close).trim();
      if (name === '') fail('an attribute has no name', start, 'write it as [attributeName]');
      pos = close + 1;
      return { kind: 'attribute', name, start, end: pos };
    }
    if (c === '"') return string();
    if (/\d/.test(c) || (c === '-' && /\d/.test(text[pos + 1] ?? ''))) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(pos))!;
      pos += match[0].length;
      return { kind: 'number', value: Number(match[0]), start, end: pos };
    }
    if (c === '&' && /h/i.test(text[pos + 1] ?? '')) {
      const match = /^&h([0-9a-f]+)/i.exec(text.slice(pos));
      if (!match) fail('a hexadecimal number has no digits', start, 'write it as &HFF');
      pos += match![0].length;
      return { kind: 'number', value: parseInt(match![1], 16), start, end: pos };
    }
    if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos))![0];
      pos += name.length;
      skipSpace();
      if (text[pos] === '(') return call(name, start);
      const key = name.toLowerCase();
      if (key in CONSTANTS) return { kind: 'constant', name, value: CONSTANTS[key], start, end: start + name.length };
      return fail(
        `"${name}" is neither a function call nor an attribute`,
        start,
        `write an attribute in brackets ([${name}]), a string in quotes ("${name}"), or a function with parentheses (${name}(…))`,
      );
    }
    return fail(`unexpected ${describe(pos)}`, pos, 'a function, an [attribute], a "string" or a number was expected');
  };

  const string = (): Node => {
    const start = pos;
    pos++;
    let value = '';
    for (;;) {
      const c = text[pos];
      if (c === undefined) fail('a string is not closed', start, 'end it with "');
      if (c === '"') break;
      if (c === '\\') {
        const next = text[pos + 1];
        if (next === '"' || next === '\\') {
          value += next;
          pos += 2;
          continue;
        }
        // Only \" and \\ are escapes; any other backslash is kept, so regular expressions such as \d read as written.
        value += c;
        pos++;
        continue;
      }
      value += c;
      pos++;
    }
    pos++;
    return { kind: 'string', value, start, end: pos };
  };

  const call = (name: string, start: number): Node => {
    pos++; // (
    const args: Node[] = [];
    skipSpace();
    if (text[pos] === ')') {
      pos++;
      return { kind: 'call', name, args, start, end: pos };
    }
    for (;;) {
      skipSpace();
      if (text[pos] === ',' || text[pos] === ')') args.push({ kind: 'missing', start: pos, end: pos });
      else args.push(expression());
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === ')') {
        pos++;
        break;
      }
      fail(
        `${describe(pos)} where a comma or ) was expected in ${name}(…)`,
        pos,
        text[pos] === undefined ? `close ${name}( with )` : 'separate arguments with commas',
      );
    }
    return { kind: 'call', name, args, start, end: pos };
  };

  const expression = (): Node => {
    const left = operand();
    skipSpace();
    const op = /^(<>|<=|>=|=|<|>)/.exec(text.slice(pos))?.[1] as Comparator | undefined;
    if (!op) return left;
    pos += op.length;
    const right = operand();
    return { kind: 'compare', op, left, right, start: left.start, end: right.end };
  };

  skipSpace();
  if (pos >= text.length)
    fail('the expression is empty', 0, 'write a function, an [attribute], a "string" or a number');
  const root = expression();
  skipSpace();
  if (pos < text.length)
    fail(
      `unexpected ${describe(pos)} after the end of the expression`,
      pos,
      'an expression is one function call, attribute or value; combine several with Join or Append',
    );
  return root;
}
