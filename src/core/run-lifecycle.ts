// A run's lifecycle, written down once: which status may follow which. The store's run queries only move a run along
// these edges (a stop that lands after the run ended changes nothing), and the API documents the same table.

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'held' | 'cancelled';

export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'held', 'cancelled'],
  succeeded: [],
  failed: [],
  held: [],
  cancelled: [],
};

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** The statuses a run may be in to move to `to`. */
export function statusesBefore(to: RunStatus): RunStatus[] {
  return (Object.keys(RUN_TRANSITIONS) as RunStatus[]).filter((from) => canMove(from, to));
}
