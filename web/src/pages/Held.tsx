import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { HeldDecisionResult, HeldLeaverPage } from '../api-types.ts';
import { when } from '../format.ts';

// Leavers the deletion threshold holds: who and why, and the decision — apply them (as lifecycle.onLeave says) or
// drop the hold — for all of them or the ones ticked, after a confirmation that says how many accounts change.

export function Held({ connectionId, count: heldCount }: { connectionId: string; count: number }) {
  const client = useQueryClient();
  const held = useQuery({
    // Fetched again whenever the connection's count of held leavers changes (a run held some, a decision took some).
    queryKey: ['held', connectionId, heldCount],
    queryFn: () => api<HeldLeaverPage>('GET', `/connections/${connectionId}/held?limit=1000`),
  });
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [asking, setAsking] = useState<null | 'approve' | 'discard'>(null);
  const [done, setDone] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (verb: 'approve' | 'discard') =>
      api<HeldDecisionResult>(
        'POST',
        `/connections/${connectionId}/held/${verb}`,
        chosen.size > 0 ? { ids: [...chosen] } : { all: true },
      ),
    onSuccess: (result, verb) => {
      setDone(
        verb === 'approve'
          ? `Applied ${result.decided} leavers: ${result.disabled} disabled, ${result.removed} removed.`
          : `Dropped the hold of ${result.decided} leavers; they stay as they were.`,
      );
      setChosen(new Set());
      setAsking(null);
      void client.invalidateQueries({ queryKey: ['held', connectionId] });
      void client.invalidateQueries({ queryKey: ['connection', connectionId] });
    },
  });
  const items = held.data?.items ?? [];
  if (items.length === 0)
    return done ? (
      <p role="status" className="notice">
        {done}
      </p>
    ) : null;
  const count = chosen.size > 0 ? chosen.size : items.length;
  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
  };
  return (
    <section aria-labelledby="held-title" className="held-panel">
      <h2 id="held-title">Held leavers ({items.length})</h2>
      <p>
        More users would leave at once than the deletion threshold allows, so they are held. Apply them, or drop the
        hold (a later full read decides afresh).
      </p>
      <table>
        <caption className="visually-hidden">Held leavers</caption>
        <thead>
          <tr>
            <th scope="col">Choose</th>
            <th scope="col">User</th>
            <th scope="col">Why</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {items.map((l) => (
            <tr key={l.externalId}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Choose ${l.loginAccount ?? l.externalId}`}
                  checked={chosen.has(l.externalId)}
                  onChange={() => toggle(l.externalId)}
                />
              </td>
              <td>
                {l.name} <span className="meta">{l.loginAccount}</span>
              </td>
              <td>{l.reason.replace(/_/g, ' ')}</td>
              <td>{when(l.since)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {asking === null ? (
        <div className="actions">
          <button type="button" className="danger" onClick={() => setAsking('approve')}>
            Apply {chosen.size > 0 ? `${chosen.size} chosen` : 'all'}
          </button>
          <button type="button" className="secondary" onClick={() => setAsking('discard')}>
            Drop the hold of {chosen.size > 0 ? `${chosen.size} chosen` : 'all'}
          </button>
        </div>
      ) : (
        <div role="alertdialog" aria-labelledby="confirm-text" className="confirm">
          <p id="confirm-text">
            {asking === 'approve'
              ? `${count} accounts will leave the directory as lifecycle.onLeave says (disabled, or removed). Apply them?`
              : `${count} accounts stay as they are and are no longer held. Drop the hold?`}
          </p>
          <button
            type="button"
            className={asking === 'approve' ? 'danger' : undefined}
            onClick={() => decide.mutate(asking)}
          >
            {asking === 'approve' ? `Yes, apply ${count}` : `Yes, drop ${count}`}
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setAsking(null)}>
            Cancel
          </button>
        </div>
      )}
      {decide.error instanceof ApiProblem && (
        <p role="alert" className="error">
          {decide.error.message}
        </p>
      )}
    </section>
  );
}
