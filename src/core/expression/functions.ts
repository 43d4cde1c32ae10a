import { ExpressionError, type Node } from './syntax.ts';
import {
  DateTimeValue,
  dateFromFileTime,
  daysIn,
  fileTimeFromDate,
  formatDate,
  parseDate,
  parseDateExact,
  textOf,
  type Value,
} from './values.ts';

// Every function of Microsoft's "Reference for writing expressions for attribute mappings" that makes sense without a
// target system (SelectUniqueValue, AppRoleAssignmentsComplex and SingleAppRoleAssignment need one). Arguments are
// evaluated lazily, so IIF and Switch evaluate only the branch they take. Where the reference is silent: a function that
// transforms a value returns null for a null source (so Coalesce, defaults and IgnoreFlowIfNullOrEmpty still apply); Left,
// Mid and Word return "" for it, as the reference says of Left and Word.

/** What functions need from outside: the clock and randomness are passed in (core does no I/O). */
export interface EvaluationContext {
  now: () => number;
  random: () => number;
  uuid: () => string;
}

export interface Arg {
  node: Node;
  /** Left empty in the call, as in `Replace([a], , "x", , "", , )`. */
  missing: boolean;
  value(): Value;
}

export interface FunctionSpec {
  name: string;
  min: number;
  max: number;
  /** Switch: key/value pairs after two leading arguments. */
  pairs?: boolean;
  run(args: Arg[], ctx: EvaluationContext, call: Node): Value;
}

/** Thrown by IgnoreFlowIfNullOrEmpty; the evaluator turns it into `{ignored: true}`. */
export class IgnoreFlow {}

const fail = (fn: string, node: Node, what: string, hint?: string): never => {
  throw new ExpressionError('expression_value', `${fn}: ${what}`, node.start, hint);
};

// Conversions, each naming the function and the argument's position when it fails ------------------------------------

function text(fn: string, arg: Arg): string | null {
  const v = arg.missing ? null : arg.value();
  if (Array.isArray(v))
    return fail(
      fn,
      arg.node,
      'this argument holds several values where one was expected',
      'pick one with Item(…, 1), or combine them with Join',
    );
  return textOf(v);
}

function num(fn: string, arg: Arg): number {
  const v = arg.missing ? null : arg.value();
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fail(fn, arg.node, `expected a number, got ${describe(v)}`);
}

function int(fn: string, arg: Arg): number {
  const n = num(fn, arg);
  if (!Number.isInteger(n)) fail(fn, arg.node, `expected a whole number, got ${n}`);
  return n;
}

function truth(fn: string, arg: Arg): boolean {
  const v = arg.value();
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v === null) return false;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v) !== 0;
  return fail(fn, arg.node, `expected True or False, got ${describe(v)}`, 'compare it, e.g. [country]="US"');
}

function date(fn: string, arg: Arg): DateTimeValue {
  const v = arg.missing ? null : arg.value();
  if (v instanceof DateTimeValue) return v;
  if (typeof v === 'string') {
    const parsed = parseDate(v);
    if (parsed) return parsed;
  }
  return fail(
    fn,
    arg.node,
    `expected a date, got ${describe(v)}`,
    'write dates as 2021-08-25, 2021-08-25T17:41:18Z or 8/25/2021 5:41:18 PM, or read other forms with FormatDateTime',
  );
}

function list(arg: Arg): Value[] {
  const v = arg.missing ? null : arg.value();
  if (v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function describe(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof DateTimeValue) return 'a date';
  return JSON.stringify(v);
}

const isEmpty = (v: Value) => v === null || v === '' || (Array.isArray(v) && v.length === 0);

// Dates ----------------------------------------------------------------------------------------------------------------

const INTERVALS = ['yyyy', 'q', 'm', 'd', 'ww', 'w', 'h', 'n', 's'];

function interval(fn: string, arg: Arg): string {
  const value = (text(fn, arg) ?? '').trim().toLowerCase();
  if (!INTERVALS.includes(value))
    fail(
      fn,
      arg.node,
      `unknown interval "${value}"`,
      'use yyyy (years), q (quarters), m (months), d (days), ww (weeks), h (hours), n (minutes) or s (seconds)',
    );
  return value;
}

function addMonths(d: DateTimeValue, months: number): DateTimeValue {
  const t = new Date(d.ms);
  const total = t.getUTCFullYear() * 12 + t.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  // Like .NET's AddMonths: the 31st becomes the last day of a shorter month.
  const day = Math.min(t.getUTCDate(), daysIn(year, month + 1));
  const ms = Date.UTC(year, month, day, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds());
  return new DateTimeValue(ms);
}

const UNIT_MS: Record<string, number> = {
  d: 86_400_000,
  w: 7 * 86_400_000,
  ww: 7 * 86_400_000,
  h: 3_600_000,
  n: 60_000,
  s: 1000,
};

/** VBA's DateDiff: the number of calendar boundaries crossed between the two dates (in UTC). */
function dateDiff(unit: string, a: DateTimeValue, b: DateTimeValue): number {
  const x = new Date(a.ms);
  const y = new Date(b.ms);
  switch (unit) {
    case 'yyyy':
      return y.getUTCFullYear() - x.getUTCFullYear();
    case 'q':
      return (
        (y.getUTCFullYear() - x.getUTCFullYear()) * 4 +
        Math.floor(y.getUTCMonth() / 3) -
        Math.floor(x.getUTCMonth() / 3)
      );
    case 'm':
      return (y.getUTCFullYear() - x.getUTCFullYear()) * 12 + y.getUTCMonth() - x.getUTCMonth();
    // Weeks: Sundays crossed (calendar weeks starting on Sunday; 1970-01-01 was a Thursday).
    case 'ww':
      return Math.floor((Math.floor(b.ms / 86_400_000) + 4) / 7) - Math.floor((Math.floor(a.ms / 86_400_000) + 4) / 7);
    // w: whole weeks between the dates, as VBA counts them.
    case 'w':
      return Math.trunc((Math.floor(b.ms / 86_400_000) - Math.floor(a.ms / 86_400_000)) / 7);
    default:
      return Math.floor(b.ms / UNIT_MS[unit]) - Math.floor(a.ms / UNIT_MS[unit]);
  }
}

// Text -----------------------------------------------------------------------------------------------------------------

/** Letters that do not decompose into a base letter and a combining mark, from the reference's table. */
const DIACRITIC_EXTRAS: Record<string, string> = {
  æ: 'ae',
  Æ: 'AE',
  ǣ: 'ae',
  Ǣ: 'AE',
  ø: 'oe',
  Ø: 'OE',
  œ: 'oe',
  Œ: 'OE',
  ß: 'ss',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
};

export function normalizeDiacritics(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[æÆǣǢøØœŒßłŁı]/g, (c) => DIACRITIC_EXTRAS[c])
    .normalize('NFC');
}

/** Words start after a separator: the given characters, or anything but letters, digits and marks. */
function properCase(s: string, separators: string | null): string {
  let out = '';
  let start = true;
  for (const c of s) {
    const separator = separators === null ? !/[\p{L}\p{N}\p{M}]/u.test(c) : separators.includes(c);
    out += separator ? c : start ? c.toUpperCase() : c.toLowerCase();
    start = separator;
  }
  return out;
}

const SPECIALS = '~!@#$%^&*_-+=`|\\(){}[]:;"\'<>,.?/';

function randomString(
  fn: string,
  call: Node,
  ctx: EvaluationContext,
  length: number,
  numbers: number,
  specials: number,
  capitals: number,
  lowers: number,
  avoid: string,
): string {
  if (length < 1 || length > 256) fail(fn, call, `the length must be from 1 to 256, got ${length}`);
  if (numbers + specials + capitals + lowers > length)
    fail(
      fn,
      call,
      `the minimums (${numbers + specials + capitals + lowers}) add up to more than the length (${length})`,
    );
  const keep = (chars: string) => [...chars].filter((c) => !avoid.includes(c)).join('');
  const sets = [
    keep('0123456789'),
    keep(SPECIALS),
    keep('ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    keep('abcdefghijklmnopqrstuvwxyz'),
  ];
  const all = sets.join('');
  if (all === '') fail(fn, call, 'CharactersToAvoid leaves no character to choose from');
  const pick = (chars: string) => chars[Math.floor(ctx.random() * chars.length)];
  const chars: string[] = [];
  [numbers, specials, capitals, lowers].forEach((count, i) => {
    if (count > 0 && sets[i] === '')
      fail(fn, call, 'CharactersToAvoid removes every character of a kind the minimums ask for');
    for (let k = 0; k < count; k++) chars.push(pick(sets[i]));
  });
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1));
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** A .NET regular expression in JavaScript: named groups read the same; `${name}` in a replacement is `$<name>`. */
function regex(fn: string, arg: Arg, flags: string): RegExp {
  const source = text(fn, arg) ?? '';
  try {
    return new RegExp(source, flags);
  } catch (error) {
    return fail(fn, arg.node, `invalid regular expression (${(error as Error).message})`);
  }
}

/** A regexGroupName that the pattern does not define would silently replace nothing: say so. */
function checkGroup(fn: string, pattern: Arg, groupArg: Arg, group: string): void {
  // Matching the empty alternative lists every named group of the pattern (each undefined).
  const names = Object.keys(new RegExp(`(?:${regex(fn, pattern, '').source})|`).exec('')?.groups ?? {});
  if (!names.includes(group)) {
    fail(
      fn,
      groupArg.node,
      `the pattern has no group named "${group}"`,
      names.length > 0 ? `its groups are ${names.join(', ')}` : 'name one in the pattern, as in (?<name>…)',
    );
  }
}

function replace(fn: string, args: Arg[], call: Node): Value {
  const [source, oldValue, pattern, groupName, replacement, replacementAttribute, template] = [0, 1, 2, 3, 4, 5, 6].map(
    (i) => args[i] ?? { node: call, missing: true, value: () => null },
  );
  const has = (a: Arg) => !a.missing;
  if (has(oldValue) && has(template)) {
    const s = text(fn, source);
    return s === null ? null : (text(fn, template) ?? '').split(text(fn, oldValue) ?? '').join(s);
  }
  if (has(oldValue)) {
    const s = text(fn, source);
    const old = text(fn, oldValue) ?? '';
    return s === null || old === '' ? s : s.split(old).join(text(fn, replacement) ?? '');
  }
  if (!has(pattern))
    return fail(fn, call, 'nothing to replace', 'give oldValue (the 2nd argument) or regexPattern (the 3rd)');
  if (has(groupName) && has(replacementAttribute)) {
    const s = text(fn, source);
    if (s !== null && s !== '') return s;
    const other = text(fn, replacementAttribute);
    if (other === null) return null;
    const group = text(fn, groupName) ?? '';
    checkGroup(fn, pattern, groupName, group);
    const match = regex(fn, pattern, '').exec(other);
    return match?.groups?.[group] ?? null;
  }
  const s = text(fn, source);
  if (s === null) return null;
  const with_ = text(fn, replacement) ?? '';
  if (has(groupName)) {
    // Replace only the named group's part of each match.
    const group = text(fn, groupName) ?? '';
    checkGroup(fn, pattern, groupName, group);
    let out = '';
    let last = 0;
    for (const match of s.matchAll(regex(fn, pattern, 'gd'))) {
      const span = match.indices?.groups?.[group];
      if (!span) continue;
      out += s.slice(last, span[0]) + with_;
      last = span[1];
    }
    return out + s.slice(last);
  }
  return s.replace(regex(fn, pattern, 'g'), with_.replace(/\$\{(\w+)\}/g, '$<$1>'));
}

// The table ------------------------------------------------------------------------------------------------------------

const single = (name: string, transform: (s: string, args: Arg[], call: Node) => Value, max = 1): FunctionSpec => ({
  name,
  min: 1,
  max,
  run(args, _ctx, call) {
    const s = text(name, args[0]);
    return s === null ? null : transform(s, args, call);
  },
});

export const FUNCTIONS: FunctionSpec[] = [
  single('Append', (s, args) => s + (text('Append', args[1]) ?? ''), 2),
  { name: 'BitAnd', min: 2, max: 2, run: (args) => int('BitAnd', args[0]) & int('BitAnd', args[1]) },
  { name: 'CBool', min: 1, max: 1, run: (args) => truth('CBool', args[0]) },
  {
    name: 'CDate',
    min: 1,
    max: 1,
    run: (args) => {
      const d = date('CDate', args[0]);
      return new DateTimeValue(d.ms);
    },
  },
  {
    name: 'Coalesce',
    min: 1,
    max: Infinity,
    run(args) {
      for (const arg of args) {
        const v = arg.missing ? null : arg.value();
        if (v !== null) return v;
      }
      return null;
    },
  },
  single('ConvertToBase64', (s) => Buffer.from(s, 'utf16le').toString('base64')),
  single('ConvertToUTF8Hex', (s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()),
  { name: 'Count', min: 1, max: 1, run: (args) => list(args[0]).length },
  { name: 'CStr', min: 1, max: 1, run: (args) => text('CStr', args[0]) },
  {
    name: 'DateAdd',
    min: 3,
    max: 3,
    run(args) {
      const unit = interval('DateAdd', args[0]);
      const n = num('DateAdd', args[1]);
      const d = date('DateAdd', args[2]);
      if (unit === 'yyyy') return addMonths(d, Math.trunc(n) * 12);
      if (unit === 'q') return addMonths(d, Math.trunc(n) * 3);
      if (unit === 'm') return addMonths(d, Math.trunc(n));
      return new DateTimeValue(d.ms + n * UNIT_MS[unit]);
    },
  },
  {
    name: 'DateDiff',
    min: 3,
    max: 3,
    run: (args) => dateDiff(interval('DateDiff', args[0]), date('DateDiff', args[1]), date('DateDiff', args[2])),
  },
  { name: 'DateFromNum', min: 1, max: 1, run: (args) => dateFromFileTime(num('DateFromNum', args[0])) },
  {
    name: 'FormatDateTime',
    min: 4,
    max: 4,
    run(args, _ctx, call) {
      const s = text('FormatDateTime', args[0]);
      if (s === null) return null;
      const input = text('FormatDateTime', args[2]);
      const output = text('FormatDateTime', args[3]);
      if (!input || !output)
        return fail(
          'FormatDateTime',
          call,
          'the input and output formats are required',
          'e.g. FormatDateTime([x], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
        );
      const parsed = parseDateExact(s, input);
      if (!parsed) return fail('FormatDateTime', args[0].node, `"${s}" does not match the input format "${input}"`);
      return formatDate(parsed, output);
    },
  },
  { name: 'Guid', min: 0, max: 0, run: (_args, ctx) => ctx.uuid() },
  {
    name: 'IgnoreFlowIfNullOrEmpty',
    min: 1,
    max: 1,
    run(args) {
      const v = args[0].value();
      if (isEmpty(v)) throw new IgnoreFlow();
      return v;
    },
  },
  { name: 'IIF', min: 3, max: 3, run: (args) => (truth('IIF', args[0]) ? args[1].value() : args[2].value()) },
  {
    name: 'InStr',
    min: 2,
    max: 4,
    run(args) {
      const haystack = text('InStr', args[0]);
      const needle = text('InStr', args[1]);
      if (haystack === null || needle === null) return null;
      const start = args[2] && !args[2].missing ? int('InStr', args[2]) : 1;
      if (start < 1) fail('InStr', args[2].node, `start must be 1 or more, got ${start}`);
      const caseless = args[3] && !args[3].missing ? int('InStr', args[3]) === 1 : false;
      const at = caseless
        ? haystack.toLowerCase().indexOf(needle.toLowerCase(), start - 1)
        : haystack.indexOf(needle, start - 1);
      return at + 1;
    },
  },
  { name: 'IsNull', min: 1, max: 1, run: (args) => args[0].value() === null },
  { name: 'IsNullOrEmpty', min: 1, max: 1, run: (args) => isEmpty(args[0].value()) },
  { name: 'IsPresent', min: 1, max: 1, run: (args) => !isEmpty(args[0].value()) },
  { name: 'IsString', min: 1, max: 1, run: (args) => typeof args[0].value() === 'string' },
  {
    name: 'Item',
    min: 2,
    max: 2,
    run(args) {
      const index = int('Item', args[1]);
      if (index < 1) fail('Item', args[1].node, `the index counts from 1, got ${index}`);
      return list(args[0])[index - 1] ?? null;
    },
  },
  {
    name: 'Join',
    min: 2,
    max: Infinity,
    run(args) {
      const separator = text('Join', args[0]) ?? '';
      const parts: string[] = [];
      for (const arg of args.slice(1)) {
        for (const v of list(arg)) {
          const s = textOf(v);
          // Null and empty values are left out, as the reference's `Join(", ", "", [surname], [givenName])` → "Doe, John" shows.
          if (s !== null && s !== '') parts.push(s);
        }
      }
      return parts.join(separator);
    },
  },
  {
    name: 'Left',
    min: 2,
    max: 2,
    run(args) {
      const s = text('Left', args[0]) ?? '';
      const n = int('Left', args[1]);
      return n < 0 ? s : [...s].slice(0, n).join('');
    },
  },
  {
    name: 'Mid',
    min: 3,
    max: 3,
    run(args) {
      const s = text('Mid', args[0]) ?? '';
      const start = int('Mid', args[1]);
      const length = int('Mid', args[2]);
      if (start < 1) fail('Mid', args[1].node, `start counts from 1, got ${start}`);
      if (length < 0) fail('Mid', args[2].node, `length must be 0 or more, got ${length}`);
      return [...s].slice(start - 1, start - 1 + length).join('');
    },
  },
  single('NormalizeDiacritics', (s) => normalizeDiacritics(s)),
  { name: 'Not', min: 1, max: 1, run: (args) => !truth('Not', args[0]) },
  { name: 'Now', min: 0, max: 0, run: (_args, ctx) => new DateTimeValue(ctx.now()) },
  { name: 'NumFromDate', min: 1, max: 1, run: (args) => fileTimeFromDate(date('NumFromDate', args[0])) },
  single('PCase', (s, args) => properCase(s, args[1] && !args[1].missing ? text('PCase', args[1]) : null), 2),
  {
    name: 'RandomString',
    min: 5,
    max: 6,
    run(args, ctx, call) {
      const n = (i: number) => int('RandomString', args[i]);
      return randomString(
        'RandomString',
        call,
        ctx,
        n(0),
        n(1),
        n(2),
        n(3),
        n(4),
        args[5] && !args[5].missing ? (text('RandomString', args[5]) ?? '') : '',
      );
    },
  },
  // The value itself: usersync never writes mapped values to its logs, so there is nothing further to redact.
  { name: 'Redact', min: 1, max: 1, run: (args) => args[0].value() },
  {
    name: 'RemoveDuplicates',
    min: 1,
    max: 1,
    run(args) {
      const v = args[0].value();
      if (!Array.isArray(v)) return v;
      const seen = new Set<string>();
      return v.filter((item) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    },
  },
  { name: 'Replace', min: 7, max: 7, run: (args, _ctx, call) => replace('Replace', args, call) },
  single('Split', (s, args) => s.split(text('Split', args[1]) ?? ','), 2),
  single('StripSpaces', (s) => s.replaceAll(' ', '')),
  {
    name: 'Switch',
    min: 2,
    max: Infinity,
    pairs: true,
    run(args) {
      // A null source matches the key "": the reference's way to catch an empty attribute.
      const source = text('Switch', args[0]) ?? '';
      for (let i = 2; i + 1 < args.length; i += 2) {
        if ((text('Switch', args[i]) ?? '') === source) return args[i + 1].missing ? null : args[i + 1].value();
      }
      return args[1].missing ? null : args[1].value();
    },
  },
  single(
    'ToLower',
    (s, args) => (args[1] && !args[1].missing ? cased('ToLower', s, args[1], 'lower') : s.toLowerCase()),
    2,
  ),
  single(
    'ToUpper',
    (s, args) => (args[1] && !args[1].missing ? cased('ToUpper', s, args[1], 'upper') : s.toUpperCase()),
    2,
  ),
  {
    name: 'Word',
    min: 3,
    max: 3,
    run(args) {
      const s = text('Word', args[0]) ?? '';
      const n = int('Word', args[1]);
      const delimiters = text('Word', args[2]) ?? '';
      if (n < 1) return '';
      const words = [...s]
        .reduce<string[]>(
          (acc, c) => {
            if (delimiters.includes(c)) acc.push('');
            else acc[acc.length - 1] += c;
            return acc;
          },
          [''],
        )
        .filter((w) => w !== '');
      return words[n - 1] ?? '';
    },
  },
];

function cased(fn: string, s: string, culture: Arg, to: 'lower' | 'upper'): string {
  const locale = text(fn, culture) ?? '';
  try {
    return to === 'lower' ? s.toLocaleLowerCase(locale) : s.toLocaleUpperCase(locale);
  } catch {
    return fail(fn, culture.node, `unknown culture "${locale}"`, 'use a name such as en-US, tr-TR or ja-JP');
  }
}

export const FUNCTIONS_BY_NAME: ReadonlyMap<string, FunctionSpec> = new Map(
  FUNCTIONS.map((f) => [f.name.toLowerCase(), f]),
);
