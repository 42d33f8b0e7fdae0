import { badRequest } from './http';
import type { PageQuery, Store, Table } from './store';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

// Cursors are opaque to clients: base64url of "n:<seq>" (rows after) or "p:<seq>" (rows before).
const encodeCursor = (direction: 'n' | 'p', seq: number) => Buffer.from(`${direction}:${seq}`).toString('base64url');

function decodeCursor(cursor: string): { direction: 'n' | 'p'; seq: number } {
  const match = /^([np]):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badRequest('page: not a cursor returned by this API');
  return { direction: match[1] as 'n' | 'p', seq: Number(match[2]) };
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return DEFAULT_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIMIT) {
    throw badRequest(`limit: must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return Number(value);
}

/** One page, oldest first, with cursors to the neighbouring pages (null at either end). */
export function listPage<Row, Json>(
  store: Store,
  table: Table,
  projectId: string,
  searchParams: URLSearchParams,
  toJson: (row: Row) => Json,
) {
  const query: PageQuery = { projectId, limit: parseLimit(searchParams.get('limit')) };
  const page = searchParams.get('page');
  if (page) {
    const cursor = decodeCursor(page);
    if (cursor.direction === 'n') query.afterSeq = cursor.seq;
    else query.beforeSeq = cursor.seq;
  }
  const { rows, hasBefore, hasAfter } = store.page<Row>(table, query);
  return {
    nextPage: hasAfter ? encodeCursor('n', rows[rows.length - 1].seq) : null,
    prevPage: hasBefore ? encodeCursor('p', rows[0].seq) : null,
    data: rows.map(toJson),
  };
}
