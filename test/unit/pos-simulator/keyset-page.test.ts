// The simulator's one-pass keyset paging agrees with a plain sort-and-slice on random data,
// both directions, with ties on the sort value broken by id.
import { describe, expect, it } from 'vitest';
import { cachedView, pageAfter, pageBeforeView, sortView, type KeysetBound, type KeysetSpec } from '../../../src/pos-simulator/keyset-page.js';

interface Row {
  id: string;
  t: number;
}

function reference(rows: Row[], descending: boolean) {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => sign * (a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

describe('keyset paging', () => {
  it('pages forwards and backwards exactly like a full sort', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 40; round++) {
      const rows: Row[] = Array.from({ length: Math.floor(random() * 700) }, (_, i) => ({ id: `r${String(i).padStart(4, '0')}`, t: Math.floor(random() * 50) }));
      const descending = random() < 0.5;
      const spec: KeysetSpec<Row> = { key: (r) => r.t, id: (r) => r.id, descending };
      const limit = 1 + Math.floor(random() * 120);
      const expected = reference(rows, descending);
      // Forwards to the end.
      const seen: Row[] = [];
      let after: KeysetBound | undefined;
      for (;;) {
        const page = pageAfter(rows, spec, limit, after);
        seen.push(...page.rows);
        expect(page.hasBefore).toBe(after !== undefined && seen.length > page.rows.length);
        if (!page.hasAfter) break;
        const last = page.rows[page.rows.length - 1]!;
        after = { k: last.t, id: last.id };
      }
      expect(seen).toEqual(expected);
      // Backwards from a random point.
      if (expected.length > 0) {
        const at = Math.floor(random() * expected.length);
        const pivot = expected[at]!;
        const page = pageBeforeView(sortView(rows, spec), spec, limit, { k: pivot.t, id: pivot.id });
        expect(page.rows).toEqual(expected.slice(Math.max(0, at - limit), at));
        expect(page.hasBefore).toBe(at > limit);
        expect(page.hasAfter).toBe(true);
      }
    }
  });

  it('reuses a view per source array and query, and builds a new one for a new array', () => {
    const rows: Row[] = [{ id: 'b', t: 2 }, { id: 'a', t: 1 }, { id: 'c', t: 3 }];
    const spec: KeysetSpec<Row> = { key: (r) => r.t, id: (r) => r.id, descending: false };
    const odd = (r: Row) => r.t % 2 === 1;
    const first = cachedView(rows, 'odd', odd, spec);
    expect(first.map((e) => e.item.id)).toEqual(['a', 'c']);
    expect(cachedView(rows, 'odd', odd, spec)).toBe(first);
    expect(cachedView(rows, 'all', () => true, spec).map((e) => e.item.id)).toEqual(['a', 'b', 'c']);
    const changed = [...rows, { id: 'd', t: 5 }];
    expect(cachedView(changed, 'odd', odd, spec).map((e) => e.item.id)).toEqual(['a', 'c', 'd']);
  });
});
