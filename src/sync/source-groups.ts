import type { GroupType } from '../core/directory.ts';
import { groupTypeOf } from '../core/normalise.ts';
import type { GraphHttp } from '../entra/http.ts';
import { pages } from '../entra/paging.ts';

// The tenant's groups read live from Entra, for the pickers of the setup wizard (scope groups, groups to map): before
// the first sync the store has none. A search matches the start of the display name, as Entra's own pickers do.

export interface SourceGroup {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  type: GroupType;
}

const SELECT = 'id,displayName,description,mail,groupTypes,mailEnabled,securityEnabled';
/** Graph reads at most this many pages for one search: a picker shows the first matches and asks to narrow. */
const MAX_PAGES = 5;
/** Graph's `in` takes at most 15 values. */
const IDS_PER_FILTER = 15;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function toGroup(raw: Record<string, unknown>): SourceGroup {
  return {
    id: String(raw.id),
    displayName: typeof raw.displayName === 'string' ? raw.displayName : String(raw.id),
    description: typeof raw.description === 'string' ? raw.description : null,
    mail: typeof raw.mail === 'string' ? raw.mail : null,
    type: groupTypeOf(
      raw.groupTypes as string[] | null,
      raw.mailEnabled as boolean | null,
      raw.securityEnabled as boolean | null,
    ),
  };
}

/**
 * Groups whose display name starts with `search` (all when empty), of the given types (all when empty), in name
 * order, at most `limit`; `more` says there were more to show (narrow the search).
 */
export async function searchSourceGroups(
  http: GraphHttp,
  query: { search?: string; types?: readonly GroupType[]; limit?: number },
): Promise<{ items: SourceGroup[]; more: boolean }> {
  const limit = query.limit ?? 50;
  const types = query.types && query.types.length > 0 ? new Set(query.types) : null;
  const search = query.search?.trim();
  const filter = search ? `&$filter=${encodeURIComponent(`startswith(displayName,${quote(search)})`)}` : '';
  const found: SourceGroup[] = [];
  let more = false;
  let read = 0;
  for await (const page of pages(http, `/groups?$select=${SELECT}&$top=999${filter}`)) {
    for (const raw of page.value) {
      const group = toGroup(raw);
      if (!types || types.has(group.type)) found.push(group);
    }
    if (++read >= MAX_PAGES && page.nextLink) {
      more = true;
      break;
    }
  }
  found.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id));
  return { items: found.slice(0, limit), more: more || found.length > limit };
}

/** The groups with these object ids (the ones a draft names), in name order; ids Entra does not have are left out. */
export async function sourceGroupsById(http: GraphHttp, ids: readonly string[]): Promise<SourceGroup[]> {
  const found: SourceGroup[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_FILTER) {
    const list = ids
      .slice(i, i + IDS_PER_FILTER)
      .map(quote)
      .join(',');
    const url = `/groups?$select=${SELECT}&$filter=${encodeURIComponent(`id in (${list})`)}`;
    for await (const page of pages(http, url)) for (const raw of page.value) found.push(toGroup(raw));
  }
  return found.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id));
}
