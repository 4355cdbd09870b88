// Whether a business is small beside the others: searched in one pass over its own customers
// rather than through the customers' global indexes (customer-search.repository.ts). That pass
// costs the business's size whatever the text (about 4 µs a customer); the indexes cost the
// matches of every business, so they lose only where the business holds a small share of all the
// customers (a common name is about 1% of them: with a share of 2% the indexes read 50 other
// customers for each of its own, about as much as the pass). Small: at most smallMax customers and
// under a fiftieth of all links. The answer is remembered for a minute per business, so a search
// costs no count.
import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../db/db.client.js';

const REMEMBER_MS = 60_000;
/** Businesses remembered at most; past it the memory starts again (a count is cheap). */
const MAX_REMEMBERED = 10_000;
/** A small business holds under 1/SHARE of all links. */
const SHARE = 50;

export class BusinessSizes {
  private readonly known = new Map<string, { small: boolean; until: number }>();

  /** @param smallMax SEARCH_SMALL_BUSINESS_MAX: a business with at most this many customers is small. */
  constructor(
    private readonly smallMax: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async isSmall(ex: Executor, businessId: string): Promise<boolean> {
    if (this.smallMax === 0) return false;
    const now = this.clock();
    const known = this.known.get(businessId);
    if (known && known.until > now) return known.small;
    // The business's links counted no further than smallMax + 1 (an index-only read); all links as
    // PostgreSQL's statistics estimate them (kept by autovacuum; none before the table's first
    // ANALYZE, when no business counts as small).
    const [row] = await queryRows<{ own: number; all: number }>(
      ex,
      sql`SELECT (SELECT count(*) FROM (SELECT 1 FROM business_customers WHERE business_id = ${businessId} LIMIT ${this.smallMax + 1}) x)::int AS own,
                 (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'business_customers'::regclass)::float8 AS "all"`,
    );
    const small = row!.own <= this.smallMax && row!.all > SHARE * row!.own;
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.set(businessId, { small, until: now + REMEMBER_MS });
    return small;
  }
}
