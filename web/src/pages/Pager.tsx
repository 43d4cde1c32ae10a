import type { useCursorPages } from '../paging.ts';

// Previous / Next under a list shown a page at a time, with where you are.

export function Pager({
  pages,
  size,
  shown,
  nextCursor,
  noun,
  loading = false,
}: {
  pages: ReturnType<typeof useCursorPages>;
  size: number;
  shown: number;
  nextCursor: string | null | undefined;
  noun: string;
  /** The page asked for is still loading (the previous one is shown meanwhile). */
  loading?: boolean;
}) {
  const from = (pages.page - 1) * size + 1;
  return (
    <nav className="pager" aria-label={`Pages of ${noun}`}>
      <button type="button" className="secondary" onClick={pages.previous} disabled={loading || pages.page === 1}>
        Previous
      </button>
      <span role="status">
        {loading
          ? 'Loading…'
          : shown === 0
            ? `No ${noun}`
            : `${noun} ${from.toLocaleString()}–${(from + shown - 1).toLocaleString()}`}
      </span>
      <button
        type="button"
        className="secondary"
        onClick={() => nextCursor && pages.next(nextCursor)}
        disabled={loading || !nextCursor}
      >
        Next
      </button>
    </nav>
  );
}
