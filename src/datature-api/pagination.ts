import { DatatureResponseError } from './errors';
import type { Page } from './models';

export interface PageParams {
  /** The opaque cursor from a previous page's `nextPage` / `prevPage`. */
  page?: string;
  /** Items per page; the API's default is 100. */
  limit?: number;
}

/** Every item of every page, following `nextPage` cursors, fetching a page only when the previous one is used up. */
export async function* paginate<T>(fetchPage: (page: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.data;
    if (!page.nextPage) return;
    // A server handing back a cursor it already gave would otherwise make this loop forever.
    if (seenCursors.has(page.nextPage)) throw new DatatureResponseError(`pagination cursor repeated: ${page.nextPage}`);
    seenCursors.add(page.nextPage);
    cursor = page.nextPage;
  }
}
