/**
 * The gateway's own pagination cursors for aggregated lists (spec 2025-11-25, "Pagination": a
 * cursor is an opaque string). A cursor names the list it belongs to and an offset into it, so a
 * cursor from tools/list handed to prompts/list is refused rather than misread.
 */
import { GatewayError } from '../errors.ts';

const PREFIX = 'mcpl1.';

export function encodeCursor(list: string, offset: number): string {
  return PREFIX + Buffer.from(`${list}:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: unknown, list: string): number {
  if (cursor === undefined) return 0;
  if (typeof cursor === 'string' && cursor.startsWith(PREFIX)) {
    const [name, offset] = Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8').split(':');
    const value = Number(offset);
    if (name === list && Number.isSafeInteger(value) && value >= 0) return value;
  }
  throw new GatewayError('INVALID_PARAMS', 'Invalid cursor');
}

/** One page of `items` from `offset`, with the cursor of the next page if there is one. */
export function page<T>(
  items: readonly T[],
  offset: number,
  size: number,
  list: string,
): { items: T[]; nextCursor?: string } {
  const end = offset + size;
  const slice = items.slice(offset, end);
  return end < items.length ? { items: slice, nextCursor: encodeCursor(list, end) } : { items: slice };
}
