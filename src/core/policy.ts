// Safety policy: what a run may do without an administrator. A pure decision over counts, taken once per run, after
// every leaver of the run is known and before any is applied.

/** Entra Connect's default: more than 500 deletions in one run wait for an administrator. */
export const DEFAULT_THRESHOLD_COUNT = 500;
/** And more than this share of the active users, when there are more than ALWAYS_ALLOWED of them. */
export const DEFAULT_THRESHOLD_PERCENT = 10;
/** At most this many leavers are never held by the percentage (small directories, ordinary leavers). */
const ALWAYS_ALLOWED = 20;

export interface DeletionThreshold {
  count?: number;
  percent?: number;
}

export type LeaverDecision = { apply: true } | { apply: false; reason: string };

/**
 * Apply this run's leavers, or hold them all. Held when they exceed the count, or the percentage of active users
 * (above 20 leavers), when everyone would leave (the source looks empty), or while an earlier hold is undecided (new
 * leavers join it).
 */
export function decideLeavers(input: {
  leavers: number;
  active: number;
  holdExists: boolean;
  threshold?: DeletionThreshold;
}): LeaverDecision {
  const { leavers, active, holdExists } = input;
  const count = input.threshold?.count ?? DEFAULT_THRESHOLD_COUNT;
  const percent = input.threshold?.percent ?? DEFAULT_THRESHOLD_PERCENT;
  if (leavers === 0) return { apply: true };
  if (holdExists) return { apply: false, reason: 'leavers are already held, and new ones join them' };
  if (leavers > count) return { apply: false, reason: `${leavers} leavers is more than ${count}` };
  if (leavers > ALWAYS_ALLOWED && leavers * 100 > active * percent)
    return {
      apply: false,
      reason: `${leavers} leavers is more than ${percent}% of the ${active} active users`,
    };
  if (active >= 2 && leavers >= active)
    return { apply: false, reason: `every one of the ${active} active users would leave: the source looks empty` };
  return { apply: true };
}
