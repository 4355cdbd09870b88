// Keyset pagination on (timestamp, id), newest first or in insertion order. Cursors carry
// PostgreSQL's microseconds: a JS Date keeps milliseconds only, and rows created within the same
// millisecond would be skipped or repeated between pages.
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../errors.js';

export interface KeysetPosition {
  at: string;
  id: string;
}

const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The column as an exact UTC text timestamp, for a cursor. */
export function exactTimestamp(column: PgColumn): SQL<string> {
  return sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Rows strictly before (desc order) or after (asc order) the position. */
export function beyond(at: PgColumn, id: PgColumn, position: KeysetPosition, direction: 'desc' | 'asc'): SQL {
  return direction === 'desc'
    ? sql`(${at}, ${id}) < (${position.at}::timestamptz, ${position.id}::uuid)`
    : sql`(${at}, ${id}) > (${position.at}::timestamptz, ${position.id}::uuid)`;
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

/** Decodes a cursor this API returned; anything else is a 400 naming query.cursor. */
export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (
      typeof at === 'string' &&
      EXACT_TIME.test(at) &&
      // a real calendar instant (2025-02-31 and the like never reach PostgreSQL)
      new Date(at).toISOString().slice(0, 19) === at.slice(0, 19) &&
      typeof id === 'string' &&
      UUID.test(id)
    ) {
      return { at, id };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_INPUT', 'Invalid input: query.cursor: is not a cursor this API returned', [
    { field: 'query.cursor', message: 'is not a cursor this API returned' },
  ]);
}

/**
 * A page from rows fetched with `limit + 1` (the extra row only says another page exists), each
 * carrying its exact timestamp as `cursorAt`, which the items themselves leave out.
 */
export function keysetPage<T extends { id: string; cursorAt: string }>(rows: T[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ cursorAt: _cursor, ...item }) => item),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}
