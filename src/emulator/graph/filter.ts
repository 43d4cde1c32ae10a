// OData $filter / $search / $orderby / $top for the emulator's /users and /groups, with Graph's
// directory rules (basic vs advanced queries, per-property operator support). Pure functions.
// Wire spec: shared/reference/microsoft-graph.md §2.1–§2.3, §4, §5.
//
// Errors come in two layers, like the real service: the OData parser/binder (syntax, unknown
// properties, type mismatches: 400 BadRequest "Invalid filter clause: …") runs over the whole
// expression first; only then are the directory's rules (advanced-only operators, per-property
// support: 400 Request_UnsupportedQuery) checked, in expression order.

import {
  findProperty,
  findSubProperty,
  queryError,
  resourceDef,
  unknownPropertyError,
  type FilterOp,
  type PropertyDef,
  type QueryError,
  type QueryResult,
  type Resource,
  type ResourceDef,
} from './schema.ts';

export type Entity = Record<string, unknown>;
export type Predicate = (entity: Entity) => boolean;

export interface FilterOptions {
  /** ConsistencyLevel: eventual AND $count=true. */
  advanced: boolean;
  extensionNames: ReadonlySet<string>;
}

// ---------------------------------------------------------------------------------------------
// Errors

const ADVANCED_HINT =
  'is not supported because the required parameters might be missing. Try adding $count=true query parameter ' +
  'and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more details.';

/** §2.3: an advanced-only operator (`ne`, `not`, `endsWith`, …) used without the advanced query parameters. */
export function advancedOperatorError(operator: string): { ok: false } & QueryError {
  return queryError(400, 'Request_UnsupportedQuery', `Operator '${operator}' ${ADVANCED_HINT}`);
}

/** §2.3: `$search` without `ConsistencyLevel: eventual`. */
export function searchRequiresConsistencyLevelError(): { ok: false } & QueryError {
  return queryError(
    400,
    'Request_UnsupportedQuery',
    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
  );
}

export function unsupportedClauseError(resource: Resource, property: string): { ok: false } & QueryError {
  const label = resourceDef(resource).label;
  return queryError(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${label}'.`,
  );
}

// [unconfirmed] text observed for directory query shapes the service does not implement.
function unsupportedQuery(): { ok: false } & QueryError {
  return queryError(400, 'Request_UnsupportedQuery', 'Unsupported query.');
}

function invalidFilter(detail: string): { ok: false } & QueryError {
  return queryError(400, 'BadRequest', `Invalid filter clause: ${detail}`);
}

/** Thrown inside the parser/binder and turned into a result at the public boundary. */
class QueryFailure extends Error {
  readonly error: QueryError;
  constructor(error: QueryError) {
    super(error.message);
    this.error = error;
  }
}

function fail(error: QueryError): never {
  throw new QueryFailure(error);
}

function toResult(e: unknown): { ok: false } & QueryError {
  if (e instanceof QueryFailure) return { ok: false, ...e.error };
  throw e;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'identifier' | 'string' | 'number' | 'guid' | 'dateTime' | '(' | ')' | ',' | '/' | ':' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of string, number and dateTime (epoch ms) literals. */
  value?: string | number;
  pos: number;
  end: number;
}

const GUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/y;
const DATE_TIME = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))?(?![\w:])/y;
const NUMBER = /-?\d+(?:\.\d+)?(?!\w)/y;
const IDENTIFIER = /[A-Za-z_$][\w]*/y;

function matchAt(re: RegExp, text: string, pos: number): string | null {
  re.lastIndex = pos;
  const m = re.exec(text);
  return m ? m[0] : null;
}

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= raw.length)
          fail(invalidFilter(`There is an unterminated string literal at position ${raw.length} in '${raw}'.`));
        if (raw[j] === "'") {
          if (raw[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += raw[j++];
      }
      tokens.push({ kind: 'string', text: raw.slice(i, j + 1), value, pos: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if ('(),/:'.includes(c)) {
      tokens.push({ kind: c as TokenKind, text: c, pos: i, end: i + 1 });
      i++;
      continue;
    }
    const guid = matchAt(GUID, raw, i);
    if (guid) {
      tokens.push({ kind: 'guid', text: guid, value: guid, pos: i, end: i + guid.length });
      i += guid.length;
      continue;
    }
    if (/[\d-]/.test(c)) {
      const dt = matchAt(DATE_TIME, raw, i);
      if (dt) {
        const ms = Date.parse(dt.length === 10 ? `${dt}T00:00:00Z` : dt);
        if (Number.isNaN(ms)) fail(invalidFilter(`Syntax error at position ${i + dt.length} in '${raw}'.`));
        tokens.push({ kind: 'dateTime', text: dt, value: ms, pos: i, end: i + dt.length });
        i += dt.length;
        continue;
      }
      const num = matchAt(NUMBER, raw, i);
      if (num) {
        tokens.push({ kind: 'number', text: num, value: Number(num), pos: i, end: i + num.length });
        i += num.length;
        continue;
      }
    }
    const ident = matchAt(IDENTIFIER, raw, i);
    if (ident) {
      tokens.push({ kind: 'identifier', text: ident, pos: i, end: i + ident.length });
      i += ident.length;
      continue;
    }
    fail(invalidFilter(`Syntax error: character '${c}' is not valid at position ${i} in '${raw}'.`));
  }
  tokens.push({ kind: 'end', text: '', pos: raw.length, end: raw.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser (syntax only). Precedence as in OData: or < and < comparison/in < not < primary.

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type LiteralType = 'string' | 'boolean' | 'null' | 'number' | 'guid' | 'dateTime';

export type FilterAst =
  | { kind: 'or' | 'and'; left: FilterAst; right: FilterAst }
  | { kind: 'not'; operand: FilterAst }
  | { kind: 'compare'; op: CompareOp; left: FilterAst; right: FilterAst }
  | { kind: 'in'; operand: FilterAst; values: FilterAst[] }
  | { kind: 'call'; name: string; args: FilterAst[] }
  | { kind: 'path'; segments: string[] }
  | { kind: 'lambda'; path: string[]; quantifier: 'any' | 'all'; variable: string | null; body: FilterAst | null }
  /** dateTime literals carry epoch milliseconds. */
  | { kind: 'literal'; type: LiteralType; value: string | number | boolean | null };

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class Parser {
  private readonly tokens: Token[];
  private readonly raw: string;
  private index = 0;

  constructor(raw: string) {
    this.raw = raw;
    this.tokens = tokenize(raw);
  }

  parseAll(): FilterAst {
    const ast = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') fail(invalidFilter(`Syntax error at position ${next.end} in '${this.raw}'.`));
    return ast;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.index++;
    return t;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'identifier' && t.text.toLowerCase() === word;
  }

  private expect(kind: TokenKind, message: (t: Token) => string): Token {
    const t = this.peek();
    if (t.kind !== kind) fail(invalidFilter(message(t)));
    return this.next();
  }

  private parseOr(): FilterAst {
    let left = this.parseAnd();
    while (this.isKeyword('or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterAst {
    let left = this.parseComparison();
    while (this.isKeyword('and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseComparison() };
    }
    return left;
  }

  private parseComparison(): FilterAst {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const word = t.kind === 'identifier' ? t.text.toLowerCase() : '';
      if (COMPARE_OPS.has(word)) {
        this.next();
        left = { kind: 'compare', op: word as CompareOp, left, right: this.parseUnary() };
      } else if (word === 'in') {
        this.next();
        left = { kind: 'in', operand: left, values: this.parseList() };
      } else {
        return left;
      }
    }
  }

  private parseList(): FilterAst[] {
    this.expect('(', (t) => `'(' expected at position ${t.pos} in '${this.raw}'.`);
    const items = [this.parseOr()];
    while (this.peek().kind === ',') {
      this.next();
      items.push(this.parseOr());
    }
    this.expect(')', (t) => `')' or ',' expected at position ${t.pos} in '${this.raw}'.`);
    return items;
  }

  private parseUnary(): FilterAst {
    if (this.isKeyword('not')) {
      this.next();
      return { kind: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterAst {
    const t = this.peek();
    switch (t.kind) {
      case '(': {
        this.next();
        const inner = this.parseOr();
        this.expect(')', (u) => `')' or operator expected at position ${u.pos} in '${this.raw}'.`);
        return inner;
      }
      case 'string':
        this.next();
        return { kind: 'literal', type: 'string', value: t.value as string };
      case 'number':
        this.next();
        return { kind: 'literal', type: 'number', value: t.value as number };
      case 'guid':
        this.next();
        return { kind: 'literal', type: 'guid', value: t.text };
      case 'dateTime':
        this.next();
        return { kind: 'literal', type: 'dateTime', value: t.value as number };
      case 'identifier':
        return this.parseIdentifier();
      default:
        return fail(invalidFilter(`Expression expected at position ${t.pos} in '${this.raw}'.`));
    }
  }

  private parseIdentifier(): FilterAst {
    const first = this.next();
    const word = first.text.toLowerCase();
    if (word === 'true' || word === 'false') return { kind: 'literal', type: 'boolean', value: word === 'true' };
    if (word === 'null') return { kind: 'literal', type: 'null', value: null };
    if (this.peek().kind === '(') {
      this.next();
      const args: FilterAst[] = [];
      if (this.peek().kind !== ')') {
        args.push(this.parseOr());
        while (this.peek().kind === ',') {
          this.next();
          args.push(this.parseOr());
        }
      }
      this.expect(')', (t) => `')' or ',' expected at position ${t.pos} in '${this.raw}'.`);
      return { kind: 'call', name: first.text, args };
    }
    const segments = [first.text];
    while (this.peek().kind === '/') {
      this.next();
      const seg = this.expect('identifier', (t) => `Syntax error at position ${t.end} in '${this.raw}'.`);
      const quantifier = seg.text.toLowerCase();
      if ((quantifier === 'any' || quantifier === 'all') && this.peek().kind === '(') {
        return this.parseLambda(segments, quantifier);
      }
      segments.push(seg.text);
    }
    return { kind: 'path', segments };
  }

  private parseLambda(path: string[], quantifier: 'any' | 'all'): FilterAst {
    this.next(); // '('
    if (this.peek().kind === ')') {
      this.next();
      return { kind: 'lambda', path, quantifier, variable: null, body: null };
    }
    const variable = this.expect('identifier', (t) => `Syntax error at position ${t.end} in '${this.raw}'.`).text;
    this.expect(':', (t) => `Syntax error at position ${t.end} in '${this.raw}'.`);
    const body = this.parseOr();
    this.expect(')', (t) => `')' or operator expected at position ${t.pos} in '${this.raw}'.`);
    return { kind: 'lambda', path, quantifier, variable, body };
  }
}

// ---------------------------------------------------------------------------------------------
// Binder: resolves properties, type-checks (OData layer) and queues the directory's rules.

type ValueKind =
  'string' | 'boolean' | 'dateTimeOffset' | 'int' | 'guid' | 'null' | 'untyped' | 'collection' | 'complex';

interface Scope {
  entity: Entity;
  vars: ReadonlyMap<string, unknown>;
}

interface ElementInfo {
  kind: ValueKind;
  typeName: string;
  /** The collection property; its filter support applies to the elements. */
  def: PropertyDef;
}

interface Bound {
  kind: ValueKind;
  /** OData type name for error messages. */
  typeName: string;
  evaluate: (scope: Scope) => unknown;
  /** Set when the value is a property (or lambda variable): the definition whose filter support applies. */
  property?: PropertyDef;
  /** Set on `collection/$count`. */
  countOf?: PropertyDef;
  /** For collections: what a lambda variable over it is. */
  element?: ElementInfo;
  isLiteral?: boolean;
}

interface Binder {
  resource: Resource;
  def: ResourceDef;
  opts: FilterOptions;
  /** Directory rules, checked in order once the whole expression bound cleanly. */
  checks: Array<() => QueryError | null>;
  /** Lambda variables in scope. */
  vars: Map<string, ElementInfo>;
}

const EDM: Record<string, string> = {
  string: 'Edm.String',
  boolean: 'Edm.Boolean',
  dateTimeOffset: 'Edm.DateTimeOffset',
  int: 'Edm.Int32',
  guid: 'Edm.Guid',
  untyped: 'Edm.Untyped',
  null: '<null>',
};

const OPERATOR_KIND: Record<CompareOp | 'and' | 'or' | 'in', string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
  and: 'And',
  or: 'Or',
  in: 'In',
};

/** Operators the directory only serves in advanced mode, with the name §2.3's message uses. */
const ADVANCED_OPERATOR_NAMES: Partial<Record<FilterOp, string>> = {
  ne: 'ne',
  endsWith: 'endsWith',
  // [unconfirmed] how the service names these two in the message.
  null: 'eq',
  count: '$count',
};

const UNSUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  'contains',
  'substringof',
  'tolower',
  'toupper',
  'trim',
  'length',
  'indexof',
  'substring',
  'concat',
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'date',
  'time',
  'now',
  'round',
  'floor',
  'ceiling',
  'cast',
  'isof',
  'matchespattern',
]);

function kindOf(def: PropertyDef): { kind: ValueKind; typeName: string } {
  if (def.kind === 'complex') return { kind: 'complex', typeName: def.complexType ?? 'Edm.ComplexType' };
  if (def.kind === 'navigation') return { kind: 'complex', typeName: 'microsoft.graph.directoryObject' };
  return { kind: def.kind, typeName: EDM[def.kind] };
}

/** Reads a property value; dateTimeOffset values become epoch ms so they compare as numbers. */
function reader(def: PropertyDef, parent: (scope: Scope) => unknown): (scope: Scope) => unknown {
  const name = def.name;
  const isDate = def.kind === 'dateTimeOffset' && !def.collection;
  return (scope) => {
    const holder = parent(scope);
    if (holder === null || typeof holder !== 'object') return null;
    const value = (holder as Record<string, unknown>)[name];
    if (value === undefined || value === null) return null;
    if (isDate) {
      const ms = Date.parse(String(value));
      return Number.isNaN(ms) ? null : ms;
    }
    return value;
  };
}

function propertyBound(def: PropertyDef, parent: (scope: Scope) => unknown): Bound {
  const read = reader(def, parent);
  if (def.collection) {
    const element = kindOf(def);
    return {
      kind: 'collection',
      typeName: `Collection(${element.typeName})`,
      evaluate: read,
      property: def,
      element: { ...element, def },
    };
  }
  return { ...kindOf(def), evaluate: read, property: def };
}

function bindPath(b: Binder, segments: readonly string[]): Bound {
  const [head, ...rest] = segments;
  let current: Bound;
  const variable = b.vars.get(head);
  if (variable) {
    current = {
      kind: variable.kind,
      typeName: variable.typeName,
      evaluate: (scope) => scope.vars.get(head) ?? null,
      property: variable.def,
    };
  } else {
    const def = findProperty(b.resource, head, b.opts.extensionNames);
    if (!def) fail(unknownPropertyError(b.def.typeName, head));
    if (def.kind === 'navigation') fail(unsupportedClauseError(b.resource, def.name));
    current = propertyBound(def, (scope) => scope.entity);
  }
  for (const segment of rest) {
    if (current.kind === 'collection' && segment.toLowerCase() === '$count') {
      const read = current.evaluate;
      current = {
        kind: 'int',
        typeName: 'Edm.Int32',
        evaluate: (scope) => {
          const v = read(scope);
          return Array.isArray(v) ? v.length : 0;
        },
        countOf: current.property,
      };
      continue;
    }
    if (current.kind === 'collection') {
      fail(
        invalidFilter(
          `The parent value for a property access of a property '${segment}' is not a single value. ` +
            'Property access can only be applied to a single value.',
        ),
      );
    }
    const parentDef = current.property;
    const sub = current.kind === 'complex' && parentDef ? findSubProperty(parentDef, segment) : null;
    if (!sub) fail(unknownPropertyError(current.typeName, segment));
    current = propertyBound(sub, current.evaluate);
  }
  return current;
}

function literalBound(ast: Extract<FilterAst, { kind: 'literal' }>): Bound {
  const value = ast.value;
  const evaluate = () => value;
  switch (ast.type) {
    case 'string':
      return { kind: 'string', typeName: EDM.string, evaluate, isLiteral: true };
    case 'guid':
      return { kind: 'guid', typeName: EDM.guid, evaluate, isLiteral: true };
    case 'boolean':
      return { kind: 'boolean', typeName: EDM.boolean, evaluate, isLiteral: true };
    case 'number':
      return { kind: 'int', typeName: EDM.int, evaluate, isLiteral: true };
    case 'dateTime':
      return { kind: 'dateTimeOffset', typeName: EDM.dateTimeOffset, evaluate, isLiteral: true };
    case 'null':
      return { kind: 'null', typeName: EDM.null, evaluate, isLiteral: true };
  }
}

function isTextual(kind: ValueKind): boolean {
  return kind === 'string' || kind === 'guid' || kind === 'untyped';
}

function comparable(a: ValueKind, b: ValueKind): boolean {
  if (a === 'collection' || a === 'complex' || b === 'collection' || b === 'complex') return false;
  if (a === b || a === 'null' || b === 'null' || a === 'untyped' || b === 'untyped') return true;
  // Id literals may be written quoted or as bare GUIDs.
  return isTextual(a) && isTextual(b);
}

function incompatible(left: Bound, right: Bound, operator: keyof typeof OPERATOR_KIND): never {
  return fail(
    invalidFilter(
      'A binary operator with incompatible types was detected. ' +
        `Found operand types '${left.typeName}' and '${right.typeName}' for operator kind '${OPERATOR_KIND[operator]}'.`,
    ),
  );
}

/** Queues the directory rule "property P supports operator O (in this mode)". */
function requireOperator(b: Binder, property: PropertyDef, op: FilterOp): void {
  b.checks.push(() => {
    const support = property.filter;
    if (!support || !support.ops.has(op)) return unsupportedClauseError(b.resource, property.name);
    const advancedName = ADVANCED_OPERATOR_NAMES[op];
    if (!b.opts.advanced && advancedName) return advancedOperatorError(advancedName);
    if (!b.opts.advanced && support.advancedOnly) return unsupportedClauseError(b.resource, property.name);
    return null;
  });
}

function requireAdvancedNot(b: Binder): void {
  b.checks.push(() => (b.opts.advanced ? null : advancedOperatorError('not')));
}

/** A clause must compare a property with literals; anything else is outside what the directory serves. */
function requirePropertyOperand(b: Binder, operand: Bound, others: readonly Bound[]): PropertyDef | null {
  const property = operand.property ?? operand.countOf;
  if (!property || others.some((o) => !o.isLiteral)) {
    b.checks.push(unsupportedQuery);
    return null;
  }
  return property;
}

/** A bare boolean property (`$filter=accountEnabled`) is valid OData but not a directory clause. */
function rejectBareProperty(b: Binder, bound: Bound): void {
  const property = bound.property;
  if (property) b.checks.push(() => unsupportedClauseError(b.resource, property.name));
}

function bindPredicate(b: Binder, ast: FilterAst, notBoolean: (bound: Bound) => never): Bound {
  const bound = bind(b, ast);
  if (bound.kind !== 'boolean') notBoolean(bound);
  rejectBareProperty(b, bound);
  return bound;
}

function bind(b: Binder, ast: FilterAst): Bound {
  switch (ast.kind) {
    case 'literal':
      return literalBound(ast);
    case 'path':
      return bindPath(b, ast.segments);
    case 'and':
    case 'or': {
      const left = bind(b, ast.left);
      const right = bind(b, ast.right);
      if (left.kind !== 'boolean' || right.kind !== 'boolean') incompatible(left, right, ast.kind);
      rejectBareProperty(b, left);
      rejectBareProperty(b, right);
      const l = left.evaluate;
      const r = right.evaluate;
      const evaluate =
        ast.kind === 'and'
          ? (s: Scope) => Boolean(l(s)) && Boolean(r(s))
          : (s: Scope) => Boolean(l(s)) || Boolean(r(s));
      return { kind: 'boolean', typeName: EDM.boolean, evaluate };
    }
    case 'not': {
      const operand = bindPredicate(b, ast.operand, (bad) =>
        fail(
          invalidFilter(
            `A unary operator with an incompatible type was detected. Found operand type '${bad.typeName}' for operator kind 'Not'.`,
          ),
        ),
      );
      requireAdvancedNot(b);
      const inner = operand.evaluate;
      return { kind: 'boolean', typeName: EDM.boolean, evaluate: (s) => !inner(s) };
    }
    case 'compare':
      return bindCompare(b, ast.op, bind(b, ast.left), bind(b, ast.right));
    case 'in':
      return bindIn(
        b,
        bind(b, ast.operand),
        ast.values.map((v) => bind(b, v)),
      );
    case 'call':
      return bindCall(b, ast.name, ast.args);
    case 'lambda':
      return bindLambda(b, ast);
  }
}

function bindCompare(b: Binder, op: CompareOp, left: Bound, right: Bound): Bound {
  if (!comparable(left.kind, right.kind)) incompatible(left, right, op);
  const property = requirePropertyOperand(b, left, [right]);
  if (property) {
    if (left.countOf) requireOperator(b, property, 'count');
    else if (right.kind === 'null') {
      if (op === 'ne') requireOperator(b, property, 'ne');
      requireOperator(b, property, op === 'eq' || op === 'ne' ? 'null' : 'range');
    } else requireOperator(b, property, op === 'eq' ? 'eq' : op === 'ne' ? 'ne' : 'range');
  }
  const l = left.evaluate;
  const r = right.evaluate;
  return { kind: 'boolean', typeName: EDM.boolean, evaluate: (s) => compareValues(op, l(s), r(s)) };
}

function bindIn(b: Binder, operand: Bound, values: Bound[]): Bound {
  for (const v of values) if (!comparable(operand.kind, v.kind)) incompatible(operand, v, 'in');
  const property = requirePropertyOperand(b, operand, values);
  if (property) {
    requireOperator(b, property, 'in');
    if (values.some((v) => v.kind === 'null')) requireOperator(b, property, 'null');
  }
  const read = operand.evaluate;
  const candidates = values.map((v) => v.evaluate);
  return {
    kind: 'boolean',
    typeName: EDM.boolean,
    evaluate: (s) => {
      const value = read(s);
      return candidates.some((c) => compareValues('eq', value, c(s)));
    },
  };
}

function bindCall(b: Binder, name: string, args: readonly FilterAst[]): Bound {
  const fn = name.toLowerCase();
  if (fn !== 'startswith' && fn !== 'endswith') {
    if (!UNSUPPORTED_FUNCTIONS.has(fn)) {
      fail(
        invalidFilter(
          `An unknown function with name '${name}' was found. ` +
            'This may also be a function import or a key lookup on a navigation property, which is not allowed.',
        ),
      );
    }
    for (const a of args) bind(b, a);
    b.checks.push(unsupportedQuery);
    return { kind: 'boolean', typeName: EDM.boolean, evaluate: () => false };
  }
  const bound = args.map((a) => bind(b, a));
  const [target, prefix] = bound;
  const textualOrNull = (x: Bound | undefined) => x !== undefined && (isTextual(x.kind) || x.kind === 'null');
  if (bound.length !== 2 || !textualOrNull(target) || !textualOrNull(prefix)) {
    fail(
      invalidFilter(
        `No function signature for the function with name '${fn}' matches the specified arguments. ` +
          `The function signatures considered are: ${fn}(Edm.String Nullable=true, Edm.String Nullable=true).`,
      ),
    );
  }
  const property = requirePropertyOperand(b, target, [prefix]);
  if (property) requireOperator(b, property, fn === 'startswith' ? 'startsWith' : 'endsWith');
  const read = target.evaluate;
  const affix = prefix.evaluate;
  const test =
    fn === 'startswith' ? (v: string, a: string) => v.startsWith(a) : (v: string, a: string) => v.endsWith(a);
  return {
    kind: 'boolean',
    typeName: EDM.boolean,
    evaluate: (s) => {
      const value = read(s);
      const a = affix(s);
      if (value === null || a === null) return false;
      return anyOf(value, (v) => typeof v === 'string' && test(fold(v), fold(String(a))));
    },
  };
}

function bindLambda(b: Binder, ast: Extract<FilterAst, { kind: 'lambda' }>): Bound {
  const collection = bindPath(b, ast.path);
  if (collection.kind !== 'collection' || !collection.element) {
    fail(invalidFilter('Any/All may only be used following a collection.'));
  }
  const element = collection.element;
  const collectionDef = element.def;
  b.checks.push(() => (collectionDef.filter ? null : unsupportedClauseError(b.resource, collectionDef.name)));
  if (ast.quantifier === 'all') b.checks.push(unsupportedQuery);
  const read = collection.evaluate;
  if (ast.variable === null || ast.body === null) {
    return {
      kind: 'boolean',
      typeName: EDM.boolean,
      evaluate: (s) => {
        const items = read(s);
        return Array.isArray(items) && items.length > 0;
      },
    };
  }
  const variable = ast.variable;
  const shadowed = b.vars.get(variable);
  b.vars.set(variable, element);
  const body = bindPredicate(b, ast.body, () =>
    fail(invalidFilter('The Any/All query expression must evaluate to a single boolean value.')),
  );
  if (shadowed) b.vars.set(variable, shadowed);
  else b.vars.delete(variable);
  const test = body.evaluate;
  const every = ast.quantifier === 'all';
  return {
    kind: 'boolean',
    typeName: EDM.boolean,
    evaluate: (s) => {
      const items = read(s);
      const list = Array.isArray(items) ? items : [];
      const matches = (item: unknown) => Boolean(test({ entity: s.entity, vars: new Map(s.vars).set(variable, item) }));
      return every ? list.every(matches) : list.some(matches);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation helpers. Directory string comparisons are case-insensitive.

function fold(s: string): string {
  return s.toLowerCase();
}

/** Untyped (extension) values may be multi-valued: a clause matches when any value does. */
function anyOf(value: unknown, test: (v: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'string' && typeof b === 'string') return fold(a) === fold(b);
  return a === b;
}

function orderValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = fold(a);
    const y = fold(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return Number.NaN;
}

function compareValues(op: CompareOp, left: unknown, right: unknown): boolean {
  // Only untyped (extension) values can be arrays here; typed collections need any().
  if (Array.isArray(left)) {
    return op === 'ne' ? !left.some((v) => equalValues(v, right)) : left.some((v) => compareValues(op, v, right));
  }
  switch (op) {
    case 'eq':
      return equalValues(left, right);
    case 'ne':
      return !equalValues(left, right);
    default: {
      if (left === null || left === undefined || right === null || right === undefined) return false;
      const c = orderValues(left, right);
      if (Number.isNaN(c)) return false;
      return op === 'gt' ? c > 0 : op === 'ge' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public API: $filter

export interface ParsedFilter {
  predicate: Predicate;
  ast: FilterAst;
}

export function parseFilter(raw: string, resource: Resource, opts: FilterOptions): QueryResult<ParsedFilter> {
  try {
    const ast = new Parser(raw).parseAll();
    const binder: Binder = { resource, def: resourceDef(resource), opts, checks: [], vars: new Map() };
    const root = bindPredicate(binder, ast, () =>
      fail(invalidFilter('The $filter expression must evaluate to a single boolean value.')),
    );
    for (const check of binder.checks) {
      const error = check();
      if (error) return { ok: false, ...error };
    }
    const evaluate = root.evaluate;
    const noVars = new Map<string, unknown>();
    return { ok: true, ast, predicate: (entity) => Boolean(evaluate({ entity, vars: noVars })) };
  } catch (e) {
    return toResult(e);
  }
}

/** Most ids a delta `$filter=id eq '…' or …` may list (§4). */
export const DELTA_FILTER_MAX_IDS = 50;

/**
 * Delta queries accept only `id eq '…' or id eq '…'` (§4, §5.2). Returns the ids in request order,
 * deduplicated. [unconfirmed] the error texts for other shapes and for more than 50 ids.
 */
export function parseDeltaFilter(raw: string, resource: Resource = 'user'): QueryResult<{ ids: string[] }> {
  try {
    const ast = new Parser(raw).parseAll();
    const clauses: FilterAst[] = [];
    const flatten = (node: FilterAst): void => {
      if (node.kind === 'or') {
        flatten(node.left);
        flatten(node.right);
      } else clauses.push(node);
    };
    flatten(ast);
    const ids: string[] = [];
    for (const clause of clauses) {
      if (clause.kind !== 'compare' || clause.left.kind !== 'path' || clause.left.segments.length !== 1) {
        return unsupportedQuery();
      }
      const name = clause.left.segments[0];
      if (name.toLowerCase() !== 'id') {
        const known = findProperty(resource, name);
        if (!known) return unknownPropertyError(resourceDef(resource).typeName, name);
        return unsupportedClauseError(resource, known.name);
      }
      const value = clause.right;
      if (clause.op !== 'eq' || value.kind !== 'literal' || (value.type !== 'string' && value.type !== 'guid')) {
        return unsupportedQuery();
      }
      const id = String(value.value);
      if (!ids.some((x) => x.toLowerCase() === id.toLowerCase())) ids.push(id);
    }
    if (clauses.length > DELTA_FILTER_MAX_IDS) {
      return queryError(
        400,
        'Request_UnsupportedQuery',
        `Too many ids in the delta filter: ${clauses.length}. At most ${DELTA_FILTER_MAX_IDS} are supported.`,
      );
    }
    return { ok: true, ids };
  } catch (e) {
    return toResult(e);
  }
}

// ---------------------------------------------------------------------------------------------
// $search

/** Splits displayName/description into words and their camelCase/letter-digit parts, lower-cased. */
function searchTokens(value: string): string[] {
  const out = new Set<string>();
  for (const word of value.split(/[^\p{L}\p{N}]+/u)) {
    if (!word) continue;
    out.add(fold(word));
    for (const part of word.split(/(?<=\p{Ll})(?=\p{Lu})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u)) {
      if (part) out.add(fold(part));
    }
  }
  return [...out];
}

function searchClause(def: PropertyDef, term: string): Predicate {
  const name = def.name;
  if (def.search === 'tokenized') {
    const wanted = term
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean)
      .map(fold);
    return (entity) =>
      anyOf(entity[name], (v) => {
        if (typeof v !== 'string') return false;
        const tokens = searchTokens(v);
        return wanted.every((w) => tokens.some((t) => t.startsWith(w)));
      });
  }
  const prefix = fold(term);
  return (entity) => anyOf(entity[name], (v) => typeof v === 'string' && fold(v).startsWith(prefix));
}

/**
 * `$search="displayName:ada" AND "mail:ada@"` (AND binds tighter than OR). displayName and
 * description match word prefixes after tokenizing (spaces, symbols, camelCase); every other string
 * property matches as startsWith on the whole value, as Graph documents. The caller checks the
 * ConsistencyLevel header (searchRequiresConsistencyLevelError).
 * [unconfirmed] error codes/texts for malformed search expressions.
 */
export function parseSearch(raw: string, resource: Resource = 'user'): QueryResult<{ predicate: Predicate }> {
  const def = resourceDef(resource);
  const syntaxError = (pos: number) =>
    queryError(
      400,
      'BadRequest',
      `Syntax error: character '${raw[pos] ?? ''}' is not valid at position ${pos} in '${raw}'.`,
    );
  const orGroups: Predicate[][] = [[]];
  let expectClause = true;
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (expectClause) {
      if (c !== '"') return syntaxError(i);
      const close = raw.indexOf('"', i + 1);
      if (close < 0) return syntaxError(i);
      const clause = raw.slice(i + 1, close);
      const colon = clause.indexOf(':');
      if (colon <= 0) {
        return queryError(
          400,
          'Request_UnsupportedQuery',
          `Invalid $search clause '"${clause}"': expected "property:value".`,
        );
      }
      const name = clause.slice(0, colon).trim();
      const p = findProperty(resource, name);
      if (!p) return unknownPropertyError(def.typeName, name);
      if (!p.search) {
        return queryError(
          400,
          'Request_UnsupportedQuery',
          `Unsupported or invalid query search clause specified for property '${p.name}' of resource '${def.label}'.`,
        );
      }
      orGroups[orGroups.length - 1].push(searchClause(p, clause.slice(colon + 1)));
      expectClause = false;
      i = close + 1;
      continue;
    }
    const word = /^[A-Za-z]+/.exec(raw.slice(i))?.[0]?.toUpperCase();
    if (word === 'AND') expectClause = true;
    else if (word === 'OR') {
      orGroups.push([]);
      expectClause = true;
    } else return syntaxError(i);
    i += word.length;
  }
  if (expectClause) return syntaxError(raw.length);
  return {
    ok: true,
    predicate: (entity) => orGroups.some((group) => group.every((clause) => clause(entity))),
  };
}

// ---------------------------------------------------------------------------------------------
// $orderby and $top

export type Comparator = (a: Entity, b: Entity) => number;

export interface OrderByContext {
  /** The request also has $filter: sorting a filtered list needs advanced mode (observed). */
  hasFilter?: boolean;
}

/**
 * displayName / userPrincipalName (groups: displayName) sort in basic mode; a few more properties
 * only in advanced mode. Nulls sort first ascending; ties break on id so paging is stable.
 */
export function parseOrderBy(
  raw: string,
  resource: Resource,
  advanced: boolean,
  context: OrderByContext = {},
): QueryResult<{ compare: Comparator | null }> {
  const def = resourceDef(resource);
  const keys: Array<{ name: string; descending: boolean; isDate: boolean }> = [];
  for (const item of raw.split(',')) {
    const text = item.trim();
    if (text === '' && raw.trim() === '') continue;
    const m = /^([\w$]+)(?:\s+(asc|desc))?$/i.exec(text);
    if (!m) return queryError(400, 'BadRequest', `Syntax error at position ${raw.length} in '${raw}'.`);
    const p = findProperty(resource, m[1]);
    if (!p) return unknownPropertyError(def.typeName, m[1]);
    if (!p.orderBy || (p.orderBy === 'advanced' && !advanced)) {
      return queryError(400, 'Request_UnsupportedQuery', `Unsupported sort property '${p.name}' for '${def.label}'.`);
    }
    keys.push({ name: p.name, descending: m[2]?.toLowerCase() === 'desc', isDate: p.kind === 'dateTimeOffset' });
  }
  if (keys.length === 0) return { ok: true, compare: null };
  if (context.hasFilter && !advanced) {
    return queryError(400, 'Request_UnsupportedQuery', 'Sorting not supported for current query.');
  }
  const sortValue = (entity: Entity, key: (typeof keys)[number]): unknown => {
    const v = entity[key.name];
    if (v === undefined || v === null) return null;
    return key.isDate ? Date.parse(String(v)) : v;
  };
  const compare: Comparator = (a, b) => {
    for (const key of keys) {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      let c: number;
      if (x === null || y === null) c = x === y ? 0 : x === null ? -1 : 1;
      else c = orderValues(x, y) || 0;
      if (c !== 0) return key.descending ? -c : c;
    }
    const ia = String(a.id ?? '');
    const ib = String(b.id ?? '');
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
  return { ok: true, compare };
}

/** `$top`: 1…max, 999 on directory lists (§2.2); `top` is null when the option is absent. */
export function parseTop(raw: string | null, max = 999): QueryResult<{ top: number | null }> {
  if (raw === null || raw.trim() === '') return { ok: true, top: null };
  const text = raw.trim();
  if (!/^\d+$/.test(text)) {
    return queryError(
      400,
      'BadRequest',
      `Invalid value '${text}' for $top query option found. The $top query option requires a non-negative integer value.`,
    );
  }
  const top = Number(text);
  if (top < 1 || top > max) {
    return queryError(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${text}'. Must be between 1 and ${max} inclusive.`,
    );
  }
  return { ok: true, top };
}
