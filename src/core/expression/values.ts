// The values an expression computes with, and the conversions between them. Dates follow the decisions of issue 9:
// a date without an offset is UTC, and a date is shown as Entra shows it (`3/16/2020 7:00:00 AM`, UTC) unless formatted.
// Custom date formats are .NET's (yyyy, MM, dd, HH, hh, mm, ss, f…, tt, zzz, K, quoted literals), culture-invariant.

/** An instant, and the offset (minutes east of UTC) its text was written in: formatting keeps the wall-clock time as written. */
export class DateTimeValue {
  readonly ms: number;
  readonly offsetMinutes: number;
  constructor(ms: number, offsetMinutes = 0) {
    this.ms = ms;
    this.offsetMinutes = offsetMinutes;
  }
}

export type Value = string | number | boolean | null | DateTimeValue | Value[];

/** A value as JSON: dates in Entra's default format. */
export function toJson(value: Value): unknown {
  if (value instanceof DateTimeValue) return formatDefault(value);
  if (Array.isArray(value)) return value.map(toJson);
  return value;
}

/** The text of a single value, as .NET would print it (True/False, 1000, a date in the default format); null stays null. */
export function textOf(value: Value): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof DateTimeValue) return formatDefault(value);
  throw new TypeError('a list where one value was expected');
}

// Dates -------------------------------------------------------------------------------------------------------------

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** `M/d/yyyy h:mm:ss tt` in UTC, as CDate, DateAdd and Now return dates. */
export function formatDefault(date: DateTimeValue): string {
  return formatDate(new DateTimeValue(date.ms, 0), 'M/d/yyyy h:mm:ss tt');
}

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const US =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Reads the date forms Entra's examples use: ISO 8601 (`2009-06-15T01:45:30-07:00`, `2020-03-16-07:00`, `2021-08-24`) and `8/25/2021 5:41:18 PM`. */
export function parseDate(text: string): DateTimeValue | null {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) return build(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), fraction(m[7]), m[8]);
  m = US.exec(s);
  if (m) {
    let hour = +(m[4] ?? 0);
    if (m[7]) {
      if (hour < 1 || hour > 12) return null;
      hour = (hour % 12) + (m[7].toUpperCase() === 'PM' ? 12 : 0);
    }
    return build(+m[3], +m[1], +m[2], hour, +(m[5] ?? 0), +(m[6] ?? 0), 0, m[8]);
  }
  return null;
}

function fraction(digits: string | undefined): number {
  return digits ? Math.round(Number(`0.${digits}`) * 1000) : 0;
}

function offsetOf(text: string | undefined): number | null {
  if (!text || /^z$/i.test(text)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +(m[3] ?? 0));
}

function build(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetText: string | undefined,
): DateTimeValue | null {
  const offset = offsetOf(offsetText);
  if (
    offset === null ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return null;
  return new DateTimeValue(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000, offset);
}

export function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The wall-clock fields of a date in its own offset. */
function fields(date: DateTimeValue) {
  const d = new Date(date.ms + date.offsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
    weekday: d.getUTCDay(),
  };
}

type Token = { spec: string } | { literal: string };

/** Splits a .NET custom date format into specifiers and literals. */
export function tokenizeFormat(format: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c === '\\' && i + 1 < format.length) {
      tokens.push({ literal: format[i + 1] });
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      const close = format.indexOf(c, i + 1);
      const end = close < 0 ? format.length : close;
      tokens.push({ literal: format.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if ('yMdHhmsfFtzK'.includes(c)) {
      let j = i;
      while (format[j] === c) j++;
      tokens.push({ spec: format.slice(i, j) });
      i = j;
      continue;
    }
    tokens.push({ literal: c });
    i++;
  }
  return tokens;
}

const pad = (n: number, width: number) => String(Math.abs(n)).padStart(width, '0');

/** Formats with a .NET custom format string (invariant culture), in the date's own offset. */
export function formatDate(date: DateTimeValue, format: string): string {
  const f = fields(date);
  const offset = date.offsetMinutes;
  const sign = offset < 0 ? '-' : '+';
  let out = '';
  for (const token of tokenizeFormat(format)) {
    if ('literal' in token) {
      out += token.literal;
      continue;
    }
    const { spec } = token;
    const n = spec.length;
    switch (spec[0]) {
      case 'y':
        out += n === 2 ? pad(f.year % 100, 2) : n === 1 ? String(f.year % 100) : pad(f.year, n);
        break;
      case 'M':
        out += n >= 4 ? MONTHS[f.month - 1] : n === 3 ? MONTHS[f.month - 1].slice(0, 3) : pad(f.month, n);
        break;
      case 'd':
        out += n >= 4 ? DAYS[f.weekday] : n === 3 ? DAYS[f.weekday].slice(0, 3) : pad(f.day, n);
        break;
      case 'H':
        out += pad(f.hour, Math.min(n, 2));
        break;
      case 'h':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, Math.min(n, 2));
        break;
      case 'm':
        out += pad(f.minute, Math.min(n, 2));
        break;
      case 's':
        out += pad(f.second, Math.min(n, 2));
        break;
      case 'f':
        out += pad(f.ms, 3).padEnd(7, '0').slice(0, n);
        break;
      case 'F':
        out += pad(f.ms, 3).padEnd(7, '0').slice(0, n).replace(/0+$/, '');
        break;
      case 't':
        out += (f.hour < 12 ? 'AM' : 'PM').slice(0, n >= 2 ? 2 : 1);
        break;
      case 'z':
        out +=
          n === 1
            ? `${sign}${Math.floor(Math.abs(offset) / 60)}`
            : n === 2
              ? `${sign}${pad(Math.floor(Math.abs(offset) / 60), 2)}`
              : `${sign}${pad(Math.floor(Math.abs(offset) / 60), 2)}:${pad(Math.abs(offset) % 60, 2)}`;
        break;
      case 'K':
        out +=
          offset === 0 ? 'Z' : `${sign}${pad(Math.floor(Math.abs(offset) / 60), 2)}:${pad(Math.abs(offset) % 60, 2)}`;
        break;
    }
  }
  return out;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Reads `text` exactly in a .NET custom format; a date without an offset is UTC. Null when it does not match. */
export function parseDateExact(text: string, format: string): DateTimeValue | null {
  const parts: string[] = [];
  let pattern = '';
  for (const token of tokenizeFormat(format)) {
    if ('literal' in token) {
      pattern += escapeRegex(token.literal);
      continue;
    }
    const { spec } = token;
    const n = spec.length;
    const group = (re: string) => {
      parts.push(spec);
      pattern += `(${re})`;
    };
    switch (spec[0]) {
      case 'y':
        group(n === 2 ? '\\d{2}' : n === 1 ? '\\d{1,2}' : `\\d{${n}}`);
        break;
      case 'M':
        group(n >= 3 ? '[A-Za-z]+' : n === 2 ? '\\d{2}' : '\\d{1,2}');
        break;
      case 'd':
        group(n >= 3 ? '[A-Za-z]+' : n === 2 ? '\\d{2}' : '\\d{1,2}');
        break;
      case 'H':
      case 'h':
      case 'm':
      case 's':
        group(n >= 2 ? '\\d{2}' : '\\d{1,2}');
        break;
      case 'f':
        group(`\\d{${n}}`);
        break;
      case 'F':
        group(`\\d{0,${n}}`);
        break;
      case 't':
        group(n >= 2 ? '[AaPp][Mm]' : '[AaPp]');
        break;
      case 'z':
        group(n >= 3 ? '[+-]\\d{2}:\\d{2}' : n === 2 ? '[+-]\\d{2}' : '[+-]\\d{1,2}');
        break;
      case 'K':
        group('Z|z|[+-]\\d{2}:\\d{2}|');
        break;
    }
  }
  const m = new RegExp(`^\\s*${pattern}\\s*$`).exec(text);
  if (!m) return null;
  let year = 1,
    month = 1,
    day = 1,
    hour = 0,
    minute = 0,
    second = 0,
    ms = 0,
    pm: boolean | null = null,
    offset: string | undefined;
  parts.forEach((spec, i) => {
    const v = m[i + 1];
    switch (spec[0]) {
      case 'y':
        year = spec.length <= 2 ? (+v < 50 ? 2000 + +v : 1900 + +v) : +v;
        break;
      case 'M':
        month =
          spec.length >= 3
            ? MONTHS.findIndex(
                (name) => (spec.length === 3 ? name.slice(0, 3) : name).toLowerCase() === v.toLowerCase(),
              ) + 1
            : +v;
        break;
      case 'd':
        if (spec.length <= 2) day = +v;
        break;
      case 'H':
        hour = +v;
        break;
      case 'h':
        hour = +v % 12;
        break;
      case 'm':
        minute = +v;
        break;
      case 's':
        second = +v;
        break;
      case 'f':
      case 'F':
        ms = v === '' ? 0 : Math.round(Number(`0.${v}`) * 1000);
        break;
      case 't':
        pm = /^p/i.test(v);
        break;
      case 'z':
        offset = /:/.test(v) ? v : `${v[0]}${v.slice(1).padStart(2, '0')}:00`;
        break;
      case 'K':
        offset = v === '' ? undefined : v;
        break;
    }
  });
  if (pm !== null) hour = (hour % 12) + (pm ? 12 : 0);
  if (month < 1) return null;
  return build(year, month, day, hour, minute, second, ms, offset);
}

// Windows FILETIME (Active Directory dates): 100-nanosecond ticks since 1601-01-01 UTC.
const FILETIME_EPOCH_MS = 11_644_473_600_000;

export function dateFromFileTime(ticks: number): DateTimeValue {
  return new DateTimeValue(ticks / 10_000 - FILETIME_EPOCH_MS);
}

export function fileTimeFromDate(date: DateTimeValue): number {
  return (date.ms + FILETIME_EPOCH_MS) * 10_000;
}
