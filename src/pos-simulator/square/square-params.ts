// Parsing and validating Square request parameters into the errors Square answers with:
// RFC 3339 times (INVALID_TIME), sort orders (INVALID_SORT_ORDER), limits (VALUE_TOO_LOW /
// VALUE_TOO_HIGH, or clamped where Square documents a clamp) and cursors (INVALID_CURSOR).
import { z } from 'zod';
import { decodeCursor, encodeCursor, type KeysetBound } from '../keyset-page.js';
import { SquareApiError } from './square-errors.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** One value of a query-string parameter (the first when repeated). */
export function queryParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw SquareApiError.invalid('INVALID_TIME', `The \`${field}\` value \`${value}\` is not a valid RFC 3339 timestamp.`, field);
  }
  return ms;
}

export function parseSortOrder(value: string | undefined, fallback: 'ASC' | 'DESC'): 'ASC' | 'DESC' {
  if (value === undefined || value === '') return fallback;
  if (value !== 'ASC' && value !== 'DESC') {
    throw SquareApiError.invalid('INVALID_SORT_ORDER', `Invalid sort order \`${value}\`; expected ASC or DESC.`, 'sort_order');
  }
  return value;
}

export function parseEnum<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, field: string): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw SquareApiError.invalid('INVALID_ENUM_VALUE', `\`${value}\` is not a valid value for \`${field}\`.`, field);
  }
  return value as T;
}

/**
 * `limit` for endpoints documented as 1–100 with errors outside the range (customers), or with
 * values above the maximum silently clamped (payments, refunds).
 */
export function parseLimit(raw: unknown, field: string, opts: { max: number; fallback: number; clampHigh: boolean }): number {
  if (raw === undefined || raw === '') return opts.fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n)) throw SquareApiError.invalid('INVALID_VALUE', `\`${field}\` must be an integer.`, field);
  if (n < 1) throw SquareApiError.invalid('VALUE_TOO_LOW', `\`${field}\` must be at least 1.`, field);
  if (n > opts.max) {
    if (opts.clampHigh) return opts.max;
    throw SquareApiError.invalid('VALUE_TOO_HIGH', `\`${field}\` must be at most ${opts.max}.`, field);
  }
  return n;
}

const boundSchema = z.object({ k: z.union([z.string(), z.number()]), id: z.union([z.string(), z.number()]) });

/**
 * A cursor carries the normalized query of its first page (so defaults such as "now − 1 year"
 * stay fixed while a client pages) and the bound of the last record served.
 */
export function makeCursor<Q>(resource: string, query: Q, bound: KeysetBound): string {
  return encodeCursor({ r: resource, q: query, b: bound });
}

export function readCursor<Q>(raw: unknown, resource: string, querySchema: z.ZodType<Q>): { q: Q; b: KeysetBound } | undefined {
  if (raw === undefined || raw === '' || raw === null) return undefined;
  const parsed = typeof raw === 'string' ? z.object({ r: z.literal(resource), q: querySchema, b: boundSchema }).safeParse(decodeCursor(raw)) : undefined;
  if (!parsed?.success) throw SquareApiError.invalid('INVALID_CURSOR', 'The pagination cursor is invalid or belongs to another endpoint.', 'cursor');
  return parsed.data;
}
