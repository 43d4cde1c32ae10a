import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from './api.ts';

// Page-at-a-time lists over the API's cursors: only one page is ever in the page (a 100k-user directory stays as light
// as a 50-user one), with Previous going back through the cursors seen. A new `key` (other filters) starts again
// from the first page.

export function useCursorPages(key = '') {
  const [state, setState] = useState({ key, cursors: [''] });
  const cursors = state.key === key ? state.cursors : [''];
  return {
    /** The cursor of the page shown ('' for the first). */
    cursor: cursors[cursors.length - 1],
    /** 1-based. */
    page: cursors.length,
    next: (cursor: string) => setState({ key, cursors: [...cursors, cursor] }),
    previous: () => setState({ key, cursors: cursors.length > 1 ? cursors.slice(0, -1) : cursors }),
  };
}

/**
 * One page of an API list (`{items, nextCursor}`) at `path`, filtered by `params` (empty values left out), `size`
 * items at a time; new filters start again from the first page. `pager` is what <Pager> takes.
 */
export function usePagedList<T>(path: string, params: Record<string, string>, size: number) {
  const filters = Object.entries(params).filter(([, value]) => value !== '');
  const pages = useCursorPages(`${path}?${new URLSearchParams(filters)}`);
  const query = useQuery({
    queryKey: ['page', path, filters, size, pages.cursor],
    queryFn: () => {
      const search = new URLSearchParams([...filters, ['limit', String(size)]]);
      if (pages.cursor) search.set('cursor', pages.cursor);
      return api<{ items: T[]; nextCursor: string | null }>('GET', `${path}?${search}`);
    },
    placeholderData: (previous) => previous,
  });
  const items = query.data?.items ?? [];
  return {
    query,
    items,
    pager: { pages, size, shown: items.length, nextCursor: query.data?.nextCursor, loading: query.isPlaceholderData },
  };
}
