// The customer list and search query of one business. Filters: status, tag, tier, segment, spend
// range, last visit range. Free text matches name, email and phone through pg_trgm indexes:
// substrings, and similar spellings (`%`, trigram similarity ≥ pg_trgm.similarity_threshold,
// 0.3 by default), so "jon smtih" finds John Smith. Without text the order is newest first;
// with text, best match first. Text with an @ matches emails only. Both orders are total (ties broken by id), so keyset pages never
// skip or repeat a customer.
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
  /** Newest-first position (no text), or best-match position (text). */
  after?: KeysetPosition | { score: number; id: string };
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
  score: number | null;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function searchCustomers(ex: Executor, f: CustomerSearch): Promise<CustomerListRow[]> {
  const q = f.q?.toLowerCase();
  const conditions: SQL[] = [sql`bc.business_id = ${f.businessId}`];
  if (!f.includeDeleted) conditions.push(sql`c.deleted_at IS NULL`);
  if (f.status) conditions.push(sql`c.status = ${f.status}`);
  if (f.tag) conditions.push(sql`c.tags @> ARRAY[${f.tag}]::text[]`);
  if (f.tier) conditions.push(sql`bc.loyalty_tier = ${f.tier}`);
  if (f.segmentId) {
    conditions.push(sql`EXISTS (SELECT 1 FROM customer_segment_assignments a WHERE a.segment_id = ${f.segmentId} AND a.customer_id = c.id)`);
  }
  if (f.minSpent !== undefined) conditions.push(sql`coalesce(m.total_spent, 0) >= ${String(f.minSpent)}::numeric`);
  if (f.maxSpent !== undefined) conditions.push(sql`coalesce(m.total_spent, 0) <= ${String(f.maxSpent)}::numeric`);
  if (f.lastVisitFrom) conditions.push(sql`m.last_order_date >= ${f.lastVisitFrom}::date`);
  if (f.lastVisitTo) conditions.push(sql`m.last_order_date <= ${f.lastVisitTo}::date`);

  let score: SQL = sql`NULL::real`;
  if (q) {
    const pattern = `%${escapeLike(q)}%`;
    const digits = q.replace(/\D/g, '');
    const phone = digits.length >= 4 && !/[a-z]/.test(q);
    // Text with an @ is an email: matched as a substring of emails only, never as a name.
    const email = q.includes('@');
    const matches = [
      ...(email ? [] : [sql`lower(c.full_name) % ${q}`, sql`lower(c.full_name) LIKE ${pattern}`]),
      sql`c.email_lowercase LIKE ${pattern}`,
      ...(phone ? [sql`c.phone_normalized LIKE ${`%${digits}%`}`] : []),
    ];
    conditions.push(sql`(${sql.join(matches, sql` OR `)})`);
    // An exact substring ranks first; then by trigram similarity of name or email.
    score = sql`(greatest(similarity(lower(c.full_name), ${q}), similarity(c.email_lowercase, ${q}))
      + CASE WHEN lower(c.full_name) LIKE ${pattern} OR c.email_lowercase LIKE ${pattern} ${phone ? sql`OR c.phone_normalized LIKE ${`%${digits}%`}` : sql``} THEN 1 ELSE 0 END)::real`;
  }
  const after = f.after;
  const position =
    after === undefined
      ? sql`true`
      : 'score' in after
        ? sql`(score < ${after.score}::real OR (score = ${after.score}::real AND id > ${after.id}::uuid))`
        : sql`(created_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)`;

  const rows = await queryRows<CustomerListRow & { createdAt: string | Date; updatedAt: string | Date; deletedAt: string | Date | null; lastActiveAt: string | Date | null }>(
    ex,
    sql`SELECT * FROM (
          SELECT c.id, c.version::int AS version, c.email, c.phone_normalized AS phone, c.first_name AS "firstName",
            c.last_name AS "lastName", c.full_name AS "fullName", c.status, c.customer_type AS "customerType", c.tags,
            bc.loyalty_tier AS "loyaltyTier", coalesce(m.total_spent, 0)::float8 AS "totalSpent", m.last_order_date::text AS "lastVisit",
            c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.deleted_at AS "deletedAt", c.last_active_at AS "lastActiveAt",
            to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt",
            c.created_at, ${score} AS score
          FROM business_customers bc
          JOIN customers c ON c.id = bc.customer_id
          LEFT JOIN customer_metrics m ON m.customer_id = c.id
          WHERE ${sql.join(conditions, sql` AND `)}
        ) x
        WHERE ${position}
        ORDER BY ${q ? sql`score DESC, id ASC` : sql`created_at DESC, id DESC`}
        LIMIT ${f.limit + 1}`,
  );
  return rows.map(({ created_at: _c, ...r }: typeof rows[number] & { created_at?: unknown }) => ({
    ...r,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
    deletedAt: r.deletedAt === null ? null : new Date(r.deletedAt),
    lastActiveAt: r.lastActiveAt === null ? null : new Date(r.lastActiveAt),
  }));
}
