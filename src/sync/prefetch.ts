/**
 * Iterates `source` one item ahead: while the caller works on an item, the next one is already being
 * produced (a Graph page downloads while the previous one is written).
 */
export async function* prefetch<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      // If the caller stops or fails first, the read ahead must not become an unhandled rejection.
      next.catch(() => {});
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}

export interface PageLike<T> {
  value: T[];
  nextLink?: string;
  deltaLink?: string;
}

/**
 * Joins consecutive delta pages until they weigh `atLeast` (or the round ends), so one transaction
 * writes many pages: SQLite rewrites each touched index page per commit, and bigger commits touch each
 * page once for many rows. The joined page continues from the last page's link.
 */
export async function* joinPages<T, P extends PageLike<T>>(
  pages: AsyncIterable<P>,
  atLeast: number,
  weigh: (item: T) => number = () => 1,
): AsyncGenerator<PageLike<T>> {
  let value: T[] = [];
  let weight = 0;
  for await (const page of pages) {
    for (const item of page.value) {
      value.push(item);
      weight += weigh(item);
    }
    if (page.deltaLink !== undefined || weight >= atLeast) {
      yield { value, nextLink: page.nextLink, deltaLink: page.deltaLink };
      value = [];
      weight = 0;
    }
  }
}
