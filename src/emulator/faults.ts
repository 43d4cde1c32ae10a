import { z } from 'zod';
import { describeIssue, formatPath } from '../core/zod-issues.ts';
import { StatusError } from './status-error.ts';
import { seedFrom } from './tenant/random.ts';

// Fault switches of the emulator: plain data plus pure-ish functions. The HTTP layer asks `decide()`
// once per Graph request (and once per $batch item) and acts on the answer; every random choice comes
// from a seeded PRNG so a run with the same seed and the same request sequence sees the same faults.

export interface FaultSettings {
  /** Share (0..1) of Graph requests answered 429 TooManyRequests. */
  throttleRatio: number;
  /** Retry-After of a 429, in seconds; fractions allowed (0.05 for fast tests). */
  throttleRetryAfterSeconds: number;
  /** Share (0..1) of Graph requests answered 503 serviceNotAvailable. */
  unavailableRatio: number;
  /** Retry-After of a 503 in seconds, or null for none (the client falls back to its own backoff). */
  unavailableRetryAfterSeconds: number | null;
  /** Share (0..1) of Graph requests whose connection is reset (the server destroys the socket). Not inside $batch. */
  resetRatio: number;
  /** Share (0..1) of Graph requests answered only after `slowMs`. Not inside $batch. */
  slowRatio: number;
  slowMs: number;
  /** Epoch ms: until then /users and /users/delta return empty collections (a source outage). */
  noUsersUntil: number | null;
  /** The next N users requests return no users (counts down as `hideUsers()` is asked). */
  noUsersRequests: number;
  /** Regex source: only requests whose path matches are affected; null = every Graph request. */
  paths: string | null;
  /** Share (0..1) of token requests answered 429 (Retry-After = throttleRetryAfterSeconds). */
  tokenThrottleRatio: number;
}

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'throttle'; retryAfter: number }
  | { kind: 'unavailable'; retryAfter: number | null }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

export interface FaultRequest {
  /** Request path without the query string, e.g. `/v1.0/users/delta`; $batch items may pass their relative url. */
  path: string;
  method?: string;
  /** A $batch item: only 429/503 apply (resets and delays are for whole HTTP requests). */
  inBatch?: boolean;
}

export interface FaultCounts {
  throttle: number;
  unavailable: number;
  reset: number;
  delay: number;
  tokenThrottle: number;
  hiddenUsers: number;
}

export const defaultFaultSettings: Readonly<FaultSettings> = Object.freeze({
  throttleRatio: 0,
  throttleRetryAfterSeconds: 1,
  unavailableRatio: 0,
  unavailableRetryAfterSeconds: null,
  resetRatio: 0,
  slowRatio: 0,
  slowMs: 500,
  noUsersUntil: null,
  noUsersRequests: 0,
  paths: null,
  tokenThrottleRatio: 0,
});

// Validation ---------------------------------------------------------------------------------------

/** A 400 for a bad control input; `field` is the dotted path of the offending value. */
export class InvalidInputError extends StatusError {
  readonly field: string;
  constructor(field: string, message: string, code = 'BadRequest') {
    super(400, code, message);
    this.field = field;
  }
}

export { describeIssue, formatPath };

/** Parses or throws an InvalidInputError naming the first bad field (all issues listed in the message). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const described = result.error.issues.map((issue) => describeIssue(issue, root));
  throw new InvalidInputError(described[0].field, described.map((d) => d.message).join('; '));
}

/** A strict object whose unknown-key error lists the allowed fields. */
export function strictObject<T extends z.ZodRawShape>(shape: T, allowedHint?: string) {
  const allowed = allowedHint ?? Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field; allowed fields are ${allowed}` : undefined),
  });
}

const ratio = (name: string) =>
  z
    .number({ error: `${name} must be a number from 0 to 1 (e.g. 0.2 for 20% of requests)` })
    .min(0, { error: `${name} must be a number from 0 to 1 (e.g. 0.2 for 20% of requests)` })
    .max(1, { error: `${name} must be a number from 0 to 1 (e.g. 0.2 for 20% of requests)` });

const seconds = (name: string) =>
  z
    .number({ error: `${name} must be a number of seconds ≥ 0 (fractions allowed, e.g. 0.05)` })
    .min(0, { error: `${name} must be a number of seconds ≥ 0 (fractions allowed, e.g. 0.05)` })
    .max(86_400, { error: `${name} must be at most 86400 seconds` });

const epochOrIso = z.union(
  [
    z
      .number({ error: 'noUsersUntil must be epoch milliseconds, an ISO date-time string, or null' })
      .int({ error: 'noUsersUntil must be whole epoch milliseconds' })
      .min(0),
    z.iso
      .datetime({
        offset: true,
        error: 'noUsersUntil must be epoch milliseconds, an ISO date-time string (2030-01-01T00:00:00Z), or null',
      })
      .transform((s) => Date.parse(s)),
  ],
  { error: 'noUsersUntil must be epoch milliseconds, an ISO date-time string, or null' },
);

export const faultSettingsPatchSchema = strictObject({
  throttleRatio: ratio('throttleRatio').optional(),
  throttleRetryAfterSeconds: seconds('throttleRetryAfterSeconds').optional(),
  unavailableRatio: ratio('unavailableRatio').optional(),
  unavailableRetryAfterSeconds: seconds('unavailableRetryAfterSeconds').nullable().optional(),
  resetRatio: ratio('resetRatio').optional(),
  slowRatio: ratio('slowRatio').optional(),
  slowMs: z
    .number({ error: 'slowMs must be a whole number of milliseconds from 0 to 600000' })
    .int({ error: 'slowMs must be a whole number of milliseconds from 0 to 600000' })
    .min(0, { error: 'slowMs must be a whole number of milliseconds from 0 to 600000' })
    .max(600_000, { error: 'slowMs must be a whole number of milliseconds from 0 to 600000' })
    .optional(),
  noUsersUntil: epochOrIso.nullable().optional(),
  noUsersRequests: z
    .number({ error: 'noUsersRequests must be a whole number ≥ 0' })
    .int({ error: 'noUsersRequests must be a whole number ≥ 0' })
    .min(0, { error: 'noUsersRequests must be a whole number ≥ 0' })
    .optional(),
  paths: z
    .string({ error: 'paths must be a regular expression source string (e.g. "/users/delta") or null' })
    .nullable()
    .optional(),
  tokenThrottleRatio: ratio('tokenThrottleRatio').optional(),
});

export type FaultSettingsPatch = z.input<typeof faultSettingsPatchSchema>;

const SHARED_RATIOS = ['throttleRatio', 'unavailableRatio', 'resetRatio', 'slowRatio'] as const;

// PRNG ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough for fault injection, and reproducible per seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `/users/x` (a $batch item's relative url) → `/v1.0/users/x`; absolute Graph paths unchanged. */
export function absoluteGraphPath(path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return /^\/(v1\.0|beta)(\/|$)/.test(p) ? p : `/v1.0${p}`;
}

// State --------------------------------------------------------------------------------------------

export interface FaultOptions {
  /** Clock for the `noUsersUntil` outage switch. */
  now?: () => number;
}

export type Faults = ReturnType<typeof createFaults>;

export function createFaults(seed: string | number = 'faults', options: FaultOptions = {}) {
  const now = options.now ?? Date.now;
  const numericSeed = seedFrom(seed);
  let settings: FaultSettings = { ...defaultFaultSettings };
  let pathFilter: RegExp | null = null;
  let random = prng(numericSeed);
  let tokenRandom = prng(numericSeed ^ 0x70c3e5);
  let counts: FaultCounts = zeroCounts();
  let deltaGeneration = 0;

  function update(patch: FaultSettingsPatch | Record<string, unknown>): FaultSettings {
    const parsed = parseInput(faultSettingsPatchSchema, patch);
    const next: FaultSettings = { ...settings };
    for (const [key, value] of Object.entries(parsed))
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
    const sum = SHARED_RATIOS.reduce((total, key) => total + next[key], 0);
    if (sum > 1 + 1e-9) {
      const named = SHARED_RATIOS.filter((k) => k in parsed)[0] ?? 'throttleRatio';
      throw new InvalidInputError(
        named,
        `throttleRatio + unavailableRatio + resetRatio + slowRatio must be at most 1 (they are shares of the same requests), got ${round(sum)} (${SHARED_RATIOS.map((k) => `${k} ${next[k]}`).join(', ')}); lower one of them`,
      );
    }
    let filter: RegExp | null = null;
    if (next.paths !== null && next.paths !== '') {
      try {
        filter = new RegExp(next.paths);
      } catch (error) {
        throw new InvalidInputError(
          'paths',
          `paths must be a valid regular expression (e.g. "^/v1\\.0/users"): ${(error as Error).message}`,
        );
      }
    }
    if (next.paths === '') next.paths = null;
    settings = next;
    pathFilter = filter;
    return { ...settings };
  }

  function reset(): void {
    settings = { ...defaultFaultSettings };
    pathFilter = null;
    random = prng(numericSeed);
    tokenRandom = prng(numericSeed ^ 0x70c3e5);
    counts = zeroCounts();
  }

  /**
   * Whether `path` is subject to faults under the `paths` filter. The regex is tried on the path as given
   * and on its `/v1.0`-prefixed form, so `^/users/delta` and `^/v1\.0/users/delta` both work whether the
   * server passes `/users/delta` or `/v1.0/users/delta` (and for $batch items' relative urls).
   */
  function affects(path: string): boolean {
    if (pathFilter === null) return true;
    pathFilter.lastIndex = 0;
    if (pathFilter.test(path)) return true;
    const absolute = absoluteGraphPath(path);
    pathFilter.lastIndex = 0;
    return absolute !== path && pathFilter.test(absolute);
  }

  function decide(request: FaultRequest): FaultDecision {
    const inBatch = request.inBatch ?? false;
    if (!affects(request.path)) return { kind: 'none' };
    const r = random();
    let edge = settings.throttleRatio;
    if (r < edge) {
      counts.throttle++;
      return { kind: 'throttle', retryAfter: settings.throttleRetryAfterSeconds };
    }
    edge += settings.unavailableRatio;
    if (r < edge) {
      counts.unavailable++;
      return { kind: 'unavailable', retryAfter: settings.unavailableRetryAfterSeconds };
    }
    if (inBatch) return { kind: 'none' };
    edge += settings.resetRatio;
    if (r < edge) {
      counts.reset++;
      return { kind: 'reset' };
    }
    edge += settings.slowRatio;
    if (r < edge) {
      counts.delay++;
      return { kind: 'delay', ms: settings.slowMs };
    }
    return { kind: 'none' };
  }

  /** For the token endpoint: 429 with Retry-After = throttleRetryAfterSeconds, at tokenThrottleRatio. */
  function decideToken(): { kind: 'none' } | { kind: 'throttle'; retryAfter: number } {
    if (settings.tokenThrottleRatio > 0 && tokenRandom() < settings.tokenThrottleRatio) {
      counts.tokenThrottle++;
      return { kind: 'throttle', retryAfter: settings.throttleRetryAfterSeconds };
    }
    return { kind: 'none' };
  }

  /** Ask once per /users or /users/delta request: true = answer with an empty collection. Consumes noUsersRequests. */
  function hideUsers(): boolean {
    if (settings.noUsersUntil !== null) {
      if (now() < settings.noUsersUntil) {
        counts.hiddenUsers++;
        return true;
      }
    }
    if (settings.noUsersRequests > 0) {
      settings = { ...settings, noUsersRequests: settings.noUsersRequests - 1 };
      counts.hiddenUsers++;
      return true;
    }
    return false;
  }

  /** Every delta token minted before this call becomes invalid (the delta engine answers 410 / resync). */
  function expireDeltaTokens(): number {
    return ++deltaGeneration;
  }

  return {
    get settings(): Readonly<FaultSettings> {
      return settings;
    },
    get deltaGeneration(): number {
      return deltaGeneration;
    },
    get counts(): Readonly<FaultCounts> {
      return counts;
    },
    update,
    reset,
    affects,
    decide,
    decideToken,
    hideUsers,
    expireDeltaTokens,
    /** JSON-friendly state for GET /_emulator/faults. */
    snapshot() {
      return { settings: { ...settings }, deltaGeneration, injected: { ...counts } };
    },
  };
}

function zeroCounts(): FaultCounts {
  return { throttle: 0, unavailable: 0, reset: 0, delay: 0, tokenThrottle: 0, hiddenUsers: 0 };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
