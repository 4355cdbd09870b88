// The customer list and search query of one business. Filters: status, tag, tier, segment, spend
// range, last visit range. Free text, by its shape:
//   - an email (has an @, or a dot and no space): emails starting with it (or containing it, when
//     it starts with @);
//   - a phone number (4 or more digits, no letters): phones ending with the digits, then phones
//     containing them;
//   - anything else is a name: the exact last name, then the exact first name (or, for several
//     words, the exact full name), then names or emails containing it, then names spelt similarly
//     (pg_trgm similarity ≥ pg_trgm.similarity_threshold, 0.45 for our sessions: db.client.ts),
//     so "jon smith" finds John Smith.
// Within each group, and without text, newest first. Groups are read one after the other, each
// in (created_at, id) order up to what the page still needs; the order is total, so keyset
// pages never skip or repeat a customer.
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor } from '../db/db.client.js';
import type { KeysetPosition } from '../db/keyset.js';

export interface CustomerSearch {
  businessId: string;
  q?: string;
  status?: string;
  tag?: string;
  tier?: string;
  segmentId?: string;
  minSpent?: number;
  maxSpent?: number;
  lastVisitFrom?: string;
  lastVisitTo?: string;
  includeDeleted?: boolean;
  limit: number;
  /** Where the previous page ended: the match group (0 without text) and the keyset position. */
  after?: SearchPosition;
}

export interface SearchPosition extends KeysetPosition {
  group: number;
}

export interface CustomerListRow {
  id: string;
  version: number;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  fullName: string | null;
  status: string;
  customerType: string;
  tags: string[];
  loyaltyTier: string;
  totalSpent: number;
  lastVisit: string | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  lastActiveAt: Date | null;
  cursorAt: string;
  group: number;
}

type RawRow = Omit<CustomerListRow, 'createdAt' | 'updatedAt' | 'deletedAt' | 'lastActiveAt'> &
  Record<'createdAt' | 'updatedAt' | 'deletedAt' | 'lastActiveAt', string | Date | null>;

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The match groups of a text, best first: each a condition on the customer row that excludes the
 * groups before it (`IS NOT TRUE`: a null column must not hide a row from a later group). The
 * first group of each shape is an equality or range of an index that also holds the date order
 * (name) or is narrow (email prefix, phone suffix), so a common name or a typical search is read
 * in index order and stops at the page.
 */
interface MatchGroup {
  where: SQL;
  /**
   * Read in date order through an index that holds it (an exact name, or no text): stops at the
   * page. Otherwise every match is read through its own index and then sorted: bounded by the
   * number of matches, where the planner, misjudging a trigram or prefix condition as common,
   * could instead walk the whole date index for a rare one.
   */
  ordered: boolean;
}

function matchGroups(text: string): MatchGroup[] {
  const q = text.toLowerCase();
  const digits = q.replace(/\D/g, '');
  if (q.includes('@') || (/\./.test(q) && !/\s/.test(q))) {
    const where = q.startsWith('@') ? sql`c.email_lowercase LIKE ${`%${escapeLike(q)}%`}` : sql`c.email_lowercase LIKE ${`${escapeLike(q)}%`}`;
    return [{ where, ordered: false }];
  }
  if (digits.length >= 4 && !/[a-z]/.test(q)) {
    // The last digits of a number are what staff type: ends-with first (idx_customers_phone_reversed).
    const endsWith = sql`reverse(c.phone_normalized) LIKE ${`${[...digits].reverse().join('')}%`}`;
    return [
      { where: endsWith, ordered: false },
      { where: sql`c.phone_normalized LIKE ${`%${digits}%`} AND (${endsWith}) IS NOT TRUE`, ordered: false },
    ];
  }
  const pattern = `%${escapeLike(q)}%`;
  const groups = /\s/.test(q)
    ? [sql`lower(c.full_name) = ${q}`]
    : [sql`lower(c.last_name) = ${q}`, sql`lower(c.first_name) = ${q} AND (lower(c.last_name) = ${q}) IS NOT TRUE`];
  const exact = sql.join(
    groups.map((g) => sql`(${g})`),
    sql` OR `,
  );
  const contains = sql`(lower(c.full_name) LIKE ${pattern} OR c.email_lowercase LIKE ${pattern})`;
  return [
    ...groups.map((where) => ({ where, ordered: true })),
    { where: sql`${contains} AND (${exact}) IS NOT TRUE`, ordered: false },
    { where: sql`lower(c.full_name) % ${q} AND (${contains}) IS NOT TRUE AND (${exact}) IS NOT TRUE`, ordered: false },
  ];
}

export async function searchCustomers(ex: Executor, f: CustomerSearch): Promise<CustomerListRow[]> {
  const filters: SQL[] = [sql`bc.business_id = ${f.businessId}`];
  if (!f.includeDeleted) filters.push(sql`c.deleted_at IS NULL`);
  if (f.status) filters.push(sql`c.status = ${f.status}`);
  if (f.tag) filters.push(sql`c.tags @> ARRAY[${f.tag}]::text[]`);
  if (f.tier) filters.push(sql`bc.loyalty_tier = ${f.tier}`);
  if (f.segmentId) {
    filters.push(sql`EXISTS (SELECT 1 FROM customer_segment_assignments a WHERE a.segment_id = ${f.segmentId} AND a.customer_id = c.id)`);
  }
  if (f.minSpent !== undefined) filters.push(sql`coalesce(m.total_spent, 0) >= ${String(f.minSpent)}::numeric`);
  if (f.maxSpent !== undefined) filters.push(sql`coalesce(m.total_spent, 0) <= ${String(f.maxSpent)}::numeric`);
  if (f.lastVisitFrom) filters.push(sql`m.last_order_date >= ${f.lastVisitFrom}::date`);
  if (f.lastVisitTo) filters.push(sql`m.last_order_date <= ${f.lastVisitTo}::date`);

  const groups: MatchGroup[] = f.q ? matchGroups(f.q) : [{ where: sql`true`, ordered: true }];
  const after = f.after;
  const rows: RawRow[] = [];
  // Group by group, and only as far as the page needs: a later (costlier, fuzzier) group is not
  // read when the earlier ones fill the page.
  for (let group = after?.group ?? 0; group < groups.length && rows.length <= f.limit; group++) {
    const position = after && group === after.group ? sql`AND (c.created_at, c.id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``;
    const { where, ordered } = groups[group]!;
    const select = sql`SELECT c.id, c.version::int AS version, c.email, c.phone_normalized AS phone, c.first_name AS "firstName",
          c.last_name AS "lastName", c.full_name AS "fullName", c.status, c.customer_type AS "customerType", c.tags,
          bc.loyalty_tier AS "loyaltyTier", coalesce(m.total_spent, 0)::float8 AS "totalSpent", m.last_order_date::text AS "lastVisit",
          c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.deleted_at AS "deletedAt", c.last_active_at AS "lastActiveAt",
          to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt", ${group}::int AS "group"
        FROM customers c
        -- A probe of the link's primary key per candidate (OFFSET 0 keeps it a probe): joined
        -- as a table, the planner hashed all of the business's links for every search.
        JOIN LATERAL (SELECT l.business_id, l.loyalty_tier FROM business_customers l
                      WHERE l.business_id = ${f.businessId} AND l.customer_id = c.id OFFSET 0) bc ON true
        LEFT JOIN customer_metrics m ON m.customer_id = c.id
        WHERE ${sql.join(filters, sql` AND `)} AND ${where} ${position}`;
    const limit = f.limit + 1 - rows.length;
    rows.push(
      ...(await queryRows<RawRow>(
        ex,
        ordered
          ? sql`${select} ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit}`
          : sql`WITH found AS MATERIALIZED (${select}) SELECT * FROM found ORDER BY "createdAt" DESC, id DESC LIMIT ${limit}`,
      )),
    );
  }
  const date = (v: string | Date | null) => (v === null ? null : new Date(v));
  return rows.map((r) => ({
    ...r,
    createdAt: new Date(r.createdAt!),
    updatedAt: new Date(r.updatedAt!),
    deletedAt: date(r.deletedAt),
    lastActiveAt: date(r.lastActiveAt),
  }));
}
