// Item-to-item recommendations from co-occurrence: two items are related when the same
// customers bought both. A candidate's score for a customer is the sum, over the items the
// customer bought, of the cosine similarity of the two items' buyer sets, normalised to 0..1.
// Items the customer already bought often (twice or more) are not recommended again.
import type { RecommendedProduct } from './predictor.js';

export interface BasketItem {
  customerId: string;
  itemId: string;
  name: string | null;
}

const OFTEN = 2;

export class CoOccurrence {
  private readonly buyers = new Map<string, Set<string>>();
  private readonly itemsOf = new Map<string, Map<string, number>>();
  private readonly names = new Map<string, string | null>();

  constructor(lines: Iterable<BasketItem>) {
    for (const line of lines) {
      let buyers = this.buyers.get(line.itemId);
      if (!buyers) this.buyers.set(line.itemId, (buyers = new Set()));
      buyers.add(line.customerId);
      let items = this.itemsOf.get(line.customerId);
      if (!items) this.itemsOf.set(line.customerId, (items = new Map<string, number>()));
      items.set(line.itemId, (items.get(line.itemId) ?? 0) + 1);
      if (line.name || !this.names.has(line.itemId)) this.names.set(line.itemId, line.name);
    }
  }

  recommend(customerId: string, limit = 5): RecommendedProduct[] {
    const mine = this.itemsOf.get(customerId);
    if (!mine) return [];
    const scores = new Map<string, number>();
    for (const item of mine.keys()) {
      const itemBuyers = this.buyers.get(item)!;
      // Items bought together with this one: through the other buyers' baskets.
      const together = new Map<string, number>();
      for (const other of itemBuyers) {
        if (other === customerId) continue;
        for (const candidate of this.itemsOf.get(other)!.keys()) {
          if (candidate !== item) together.set(candidate, (together.get(candidate) ?? 0) + 1);
        }
      }
      for (const [candidate, both] of together) {
        if ((mine.get(candidate) ?? 0) >= OFTEN) continue;
        const cosine = both / Math.sqrt(itemBuyers.size * this.buyers.get(candidate)!.size);
        scores.set(candidate, (scores.get(candidate) ?? 0) + cosine);
      }
    }
    const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
    const top = ranked[0]?.[1] ?? 1;
    return ranked.map(([itemId, score]) => ({ itemId, name: this.names.get(itemId) ?? null, score: Math.round((score / top) * 1000) / 1000 }));
  }
}
