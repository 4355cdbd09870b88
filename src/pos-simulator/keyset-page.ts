// Keyset paging over an in-memory list: a page starts strictly after (or ends strictly before)
// the (sort value, id) of the record that bounded the previous page. Unlike offsets, a record
// inserted or moved while a client pages neither shifts nor repeats the records it already saw;
// a record whose sort value moves past the boundary (an updated_at that changed) shows up again,
// as it does in the real APIs.
export type SortValue = string | number;

export interface KeysetBound {
  k: SortValue;
  id: string | number;
}

export interface KeysetSpec<T> {
  key: (item: T) => SortValue;
  id: (item: T) => string | number;
  descending: boolean;
}

export interface KeysetPage<T> {
  rows: T[];
  /** Records exist after the last row. */
  hasAfter: boolean;
  /** Records exist before the first row. */
  hasBefore: boolean;
}

function compare(a: KeysetBound, b: KeysetBound): number {
  if (a.k < b.k) return -1;
  if (a.k > b.k) return 1;
  if (a.id < b.id) return -1;
  if (a.id > b.id) return 1;
  return 0;
}

export function boundOf<T>(spec: KeysetSpec<T>, item: T): KeysetBound {
  return { k: spec.key(item), id: spec.id(item) };
}

function sorted<T>(items: T[], spec: KeysetSpec<T>): Array<{ item: T; bound: KeysetBound }> {
  const sign = spec.descending ? -1 : 1;
  return items.map((item) => ({ item, bound: boundOf(spec, item) })).sort((a, b) => sign * compare(a.bound, b.bound));
}

/** The first `limit` records after `after` (from the start when absent). */
export function pageAfter<T>(items: T[], spec: KeysetSpec<T>, limit: number, after?: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  const all = sorted(items, spec);
  const start = after ? all.findIndex((e) => sign * compare(e.bound, after) > 0) : 0;
  const from = start === -1 ? all.length : start;
  const rows = all.slice(from, from + limit).map((e) => e.item);
  return { rows, hasAfter: from + limit < all.length, hasBefore: from > 0 };
}

/** The last `limit` records before `before`. */
export function pageBefore<T>(items: T[], spec: KeysetSpec<T>, limit: number, before: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  const all = sorted(items, spec);
  let end = all.findIndex((e) => sign * compare(e.bound, before) >= 0);
  if (end === -1) end = all.length;
  const from = Math.max(0, end - limit);
  return { rows: all.slice(from, end).map((e) => e.item), hasAfter: end < all.length, hasBefore: from > 0 };
}

/** Opaque cursor text: base64url JSON. Returns undefined for anything that does not decode. */
export function encodeCursor(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
