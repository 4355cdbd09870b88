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

/** Records in page order with their bounds, ready to be paged by binary search. */
export type SortedView<T> = ReadonlyArray<{ item: T; bound: KeysetBound }>;

export function sortView<T>(items: T[], spec: KeysetSpec<T>): SortedView<T> {
  const sign = spec.descending ? -1 : 1;
  return items.map((item) => ({ item, bound: boundOf(spec, item) })).sort((a, b) => sign * compare(a.bound, b.bound));
}

const views = new WeakMap<object, Map<string, SortedView<unknown>>>();
const VIEWS_PER_SOURCE = 16;

/**
 * The records of `source` that match, in page order, remembered per source array and query.
 * The simulator's tables hand out the same array until they change, so paging through a large
 * dataset sorts it once per query, not once per page.
 */
export function cachedView<T>(source: T[], queryKey: string, matches: (item: T) => boolean, spec: KeysetSpec<T>): SortedView<T> {
  let bySource = views.get(source);
  if (!bySource) views.set(source, (bySource = new Map<string, SortedView<unknown>>()));
  let view = bySource.get(queryKey) as SortedView<T> | undefined;
  if (!view) {
    view = sortView(source.filter(matches), spec);
    if (bySource.size >= VIEWS_PER_SOURCE) bySource.delete(bySource.keys().next().value!);
    bySource.set(queryKey, view);
  }
  return view;
}

/** Index of the first entry for which `beyond` holds (entries are ordered, so it holds from there on). */
function firstWhere<T>(view: SortedView<T>, beyond: (bound: KeysetBound) => boolean): number {
  let lo = 0;
  let hi = view.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (beyond(view[mid]!.bound)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first `limit` records after `after` (from the start when absent). */
export function pageAfterView<T>(view: SortedView<T>, spec: KeysetSpec<T>, limit: number, after?: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  const from = after ? firstWhere(view, (b) => sign * compare(b, after) > 0) : 0;
  return { rows: view.slice(from, from + limit).map((e) => e.item), hasAfter: from + limit < view.length, hasBefore: from > 0 };
}

/** The last `limit` records before `before`. */
export function pageBeforeView<T>(view: SortedView<T>, spec: KeysetSpec<T>, limit: number, before: KeysetBound): KeysetPage<T> {
  const sign = spec.descending ? -1 : 1;
  const end = firstWhere(view, (b) => sign * compare(b, before) >= 0);
  const from = Math.max(0, end - limit);
  return { rows: view.slice(from, end).map((e) => e.item), hasAfter: end < view.length, hasBefore: from > 0 };
}

/** The first `limit` records after `after` (from the start when absent). */
export function pageAfter<T>(items: T[], spec: KeysetSpec<T>, limit: number, after?: KeysetBound): KeysetPage<T> {
  return pageAfterView(sortView(items, spec), spec, limit, after);
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
