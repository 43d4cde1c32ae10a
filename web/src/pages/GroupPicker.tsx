import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api } from '../api.ts';
import { useDebounced } from '../debounce.ts';
import type { SourceGroup } from '../api-types.ts';

// Picking Entra groups, read live from the tenant (the store may hold none before the first sync): search by the start
// of the name, narrow by type, tick the ones you want. The picked ones are listed by name above the search.

export const GROUP_TYPE_LABELS: Record<SourceGroup['type'], string> = {
  microsoft365: 'Microsoft 365',
  security: 'Security',
  'mail-enabled-security': 'Mail-enabled security',
  distribution: 'Distribution',
};

type GroupList = { items: SourceGroup[]; more: boolean };

/** The named groups (by id), for showing picked ones by name. */
export function useGroupNames(connectionId: string, ids: readonly string[]): Map<string, SourceGroup> {
  const key = [...ids].sort().join(',');
  const named = useQuery({
    queryKey: ['source-groups', connectionId, 'ids', key],
    queryFn: () => api<GroupList>('GET', `/connections/${connectionId}/source/groups?ids=${encodeURIComponent(key)}`),
    enabled: ids.length > 0,
  });
  return new Map((named.data?.items ?? []).map((g) => [g.id, g]));
}

export function GroupPicker({
  connectionId,
  selected,
  onChange,
  label,
}: {
  connectionId: string;
  selected: readonly string[];
  onChange: (ids: string[]) => void;
  label: string;
}) {
  const id = useId();
  const [search, setSearch] = useState('');
  const [types, setTypes] = useState<SourceGroup['type'][]>([]);
  const debounced = useDebounced(search);
  const found = useQuery({
    queryKey: ['source-groups', connectionId, debounced, types.join(',')],
    queryFn: () =>
      api<GroupList>(
        'GET',
        `/connections/${connectionId}/source/groups?limit=50&search=${encodeURIComponent(debounced)}&types=${types.join(',')}`,
      ),
  });
  const names = useGroupNames(connectionId, selected);
  const toggle = (groupId: string) =>
    onChange(selected.includes(groupId) ? selected.filter((g) => g !== groupId) : [...selected, groupId]);
  const toggleType = (t: SourceGroup['type']) =>
    setTypes(types.includes(t) ? types.filter((x) => x !== t) : [...types, t]);

  return (
    <div className="picker">
      {selected.length > 0 && (
        <>
          <h3 id={`${id}-picked`}>Picked ({selected.length})</h3>
          <ul className="picks" aria-labelledby={`${id}-picked`}>
            {selected.map((g) => (
              <li key={g}>
                <button type="button" className="secondary" onClick={() => toggle(g)}>
                  {names.get(g)?.displayName ?? g} <span aria-hidden="true">×</span>
                  <span className="visually-hidden"> (remove)</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <label htmlFor={`${id}-search`}>{label}</label>
      <input
        id={`${id}-search`}
        type="search"
        placeholder="Start of the group's name"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      <fieldset>
        <legend>Group types (none ticked: all)</legend>
        {(Object.keys(GROUP_TYPE_LABELS) as SourceGroup['type'][]).map((t) => (
          <label key={t} className="inline">
            <input type="checkbox" checked={types.includes(t)} onChange={() => toggleType(t)} /> {GROUP_TYPE_LABELS[t]}
          </label>
        ))}
      </fieldset>
      {found.isError && (
        <p role="alert" className="error">
          The groups could not be read from Entra: {(found.error as Error).message}
        </p>
      )}
      <ul className="group-list" aria-label="Groups found" aria-busy={found.isFetching}>
        {found.data?.items.map((g) => (
          <li key={g.id}>
            <label className="inline">
              <input type="checkbox" checked={selected.includes(g.id)} onChange={() => toggle(g.id)} /> {g.displayName}{' '}
              <span className="meta">· {GROUP_TYPE_LABELS[g.type]}</span>
              {g.mail && <span className="meta"> · {g.mail}</span>}
            </label>
          </li>
        ))}
        {found.data && found.data.items.length === 0 && <li className="meta">No group matches.</li>}
      </ul>
      {found.data?.more && <p className="meta">More groups match: type more of the name to narrow the list.</p>}
    </div>
  );
}
