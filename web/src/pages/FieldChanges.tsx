import { shown } from '../wizard.ts';

// A change's fields, before → after (∅: empty), as a run's page, a user's audit trail and the test sync show them.

export function FieldChanges({ changes }: { changes: readonly { field: string; from?: unknown; to?: unknown }[] }) {
  return (
    <ul className="fields">
      {changes.map((f) => (
        <li key={f.field}>
          <strong>{f.field}</strong> <span className="value">{shown(f.from, '∅')}</span> →{' '}
          <span className="value">{shown(f.to, '∅')}</span>
        </li>
      ))}
    </ul>
  );
}
