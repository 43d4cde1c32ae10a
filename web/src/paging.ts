import { useState } from 'react';

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
