// Safety policy: what a run may do without an administrator. Pure functions over counts.

import { UsersyncError } from './errors.ts';

/** By default a full read may not disable more than this share of the directory's present users at once. */
export const DEFAULT_MAX_DISABLE_PERCENT = 10;
/** Below this many, disabling is never held back (small directories, ordinary leavers). */
const ALWAYS_ALLOWED = 20;

export class SafetyStop extends UsersyncError {
  constructor(message: string) {
    super('safety_stop', message, {
      hint: 'check the tenant; the next run reads everything again, and if the users really left, run once with USERSYNC_MAX_DISABLE_PERCENT=100',
    });
    this.name = 'SafetyStop';
  }
}

/**
 * A full read that no longer finds many present users most likely met an outage or a broken source, not a
 * wave of leavers: refuse to disable them. Returns null when the run may go on.
 */
export function massDisableStop(
  missing: number,
  present: number,
  maxPercent = DEFAULT_MAX_DISABLE_PERCENT,
): SafetyStop | null {
  if (missing <= ALWAYS_ALLOWED || maxPercent >= 100 || missing * 100 <= present * maxPercent) return null;
  const share = Math.round((missing * 1000) / Math.max(present, 1)) / 10;
  return new SafetyStop(
    `Stopped before disabling ${missing} of ${present} users (${share}%, above the ${maxPercent}% limit): the full read from Entra no longer found them, which looks like an outage or a broken source rather than leavers. Nothing was disabled and the next run reads everything again. If they really left, run again with USERSYNC_MAX_DISABLE_PERCENT=100.`,
  );
}
