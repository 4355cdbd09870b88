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

/**
 * The `limit` records nearest to a boundary on one side of it, in order: one pass that keeps
 * a small buffer of candidates, trimmed whenever it grows to a few pages, and skips at once any
 * record beyond the worst kept candidate. A page costs O(n) instead of a sort of every record,
 * so paging through a large dataset stays fast.
 */
function nearest<T>(
  items: T[],
  spec: KeysetSpec<T>,
  limit: number,
  include: (bound: KeysetBound) => boolean,
  order: (a: KeysetBound, b: KeysetBound) => number,
): { rows: T[]; matched: number } {
  let candidates: Array<{ item: T; bound: KeysetBound }> = [];
  let cutoff: KeysetBound | undefined;
  let matched = 0;
  const trim = () => {
    candidates.sort((a, b) => order(a.bound, b.bound));
    candidates = candidates.slice(0, limit);
    cutoff = candidates.length === limit ? candidates[limit - 1]!.bound : undefined;
  };
  const probe: KeysetBound = { k: 0, id: 0 };
  for (const item of items) {
    probe.k = spec.key(item);
    probe.id = spec.id(item);
    if (!include(probe)) continue;
    matched++;
    if (cutoff && order(probe, cutoff) > 0) continue;
    candidates.push({ item, bound: { k: probe.k, id: probe.id } });
    if (candidates.length >= Math.max(4 * limit, 64)) trim();
  }
  trim();
  return { rows: candidates.map((c) => c.item), matched };
}

/** The first `limit` records after `after` (from the start when absent). */
export function pageAfter<T>(items: T[], spec: KeysetSpec<T>, limit: number, after?: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  const { rows, matched } = nearest(items, spec, limit, (b) => !after || sign * compare(b, after) > 0, (a, b) => sign * compare(a, b));
  return { rows, hasAfter: matched > limit, hasBefore: matched < items.length };
}

/** The last `limit` records before `before`. */
export function pageBefore<T>(items: T[], spec: KeysetSpec<T>, limit: number, before: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  // Nearest to the boundary first, then back into page order.
  const { rows, matched } = nearest(items, spec, limit, (b) => sign * compare(b, before) < 0, (a, b) => -sign * compare(a, b));
  return { rows: rows.reverse(), hasAfter: matched < items.length, hasBefore: matched > limit };
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
