// SQL of duplicate detection: candidate pairs of live customers of one business that share a
// normalised email (emailMatchKeySql) or an E.164 phone, or whose names are alike (pg_trgm), each
// with a score in [0, 1], in a stable order (score desc, then the two ids) for keyset paging.
//
// Cost (see the README): the business-wide listing reads the business's live customers once and
// pairs equal keys with hash joins (one pass, no per-customer probe); the name rule, only when
// `minScore` lets a name likeness alone qualify, probes the trigram index once per customer and
// keeps at most NAME_NEIGHBOURS neighbours each. One customer's candidates (`customerId`) are
// three index lookups (email key, phone, trigram).
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db, uuidArray } from '../db/db.client.js';
import { emailMatchKeySql } from '../db/schema/index.js';

/** Evidence weights; the score is 1 − Π(1 − weight) over the evidence a pair has. */
export const DUPLICATE_WEIGHTS = { email: 0.9, phone: 0.8, name: 0.5 } as const;
/** A name likeness counts as evidence from this trigram similarity on (times the name weight). */
export const NAME_MIN_SIMILARITY = 0.5;
/** Two names less alike than this weaken a pair found by email or phone (a family sharing a phone). */
export const NAME_CONFLICT_BELOW = 0.3;
export const NAME_CONFLICT_FACTOR = 0.7;
/** An email or phone shared by more live customers than this is no identity (a shop's own number, a placeholder). */
export const MAX_KEY_GROUP = 20;
/** The name search keeps, per customer, this many of the most similar names. */
export const NAME_NEIGHBOURS = 5;
/**
 * The business-wide name search probes the trigram index once per customer (about 0.25 ms each
 * at 5,000 customers, more as the index grows): past this it is cancelled rather than hold a
 * connection for minutes; one customer's candidates (`customerId`) stay cheap at any size.
 */
export const NAME_SEARCH_TIMEOUT_MS = 30_000;

export interface PairPosition {
  score: string;
  a: string;
  b: string;
}

export interface DuplicatePairRow {
  a: string;
  b: string;
  /** numeric(4,3) as text: exact, for the cursor. */
  score: string;
  same_email: boolean;
  same_email_key: boolean;
  same_phone: boolean;
  name_similarity: number | null;
}

export interface DuplicateSearch {
  businessId: string;
  minScore: number;
  limit: number;
  after?: PairPosition;
  /** Only pairs with this customer. */
  customerId?: string;
}

/** Whether a name likeness alone can reach minScore, and from which similarity on. */
export function nameSearchFloor(minScore: number): number | null {
  if (minScore > DUPLICATE_WEIGHTS.name) return null;
  return Math.max(NAME_MIN_SIMILARITY, Math.min(1, minScore / DUPLICATE_WEIGHTS.name));
}

const LIVE = sql`c.deleted_at IS NULL AND c.erased_at IS NULL AND c.merged_into_id IS NULL`;

/** One page of candidate pairs (limit + 1 rows: the extra one says another page exists). */
export async function findDuplicatePairs(db: Db, q: DuplicateSearch): Promise<DuplicatePairRow[]> {
  const floor = nameSearchFloor(q.minScore);
  return db.transaction(async (tx) => {
    // `%` compares with this session setting: the search takes only names at least this alike.
    if (floor !== null) await tx.execute(sql`SELECT set_config('pg_trgm.similarity_threshold', ${String(floor)}, true)`);
    // Grouping a million emails in memory rather than sorting them on disk.
    await tx.execute(sql`SELECT set_config('work_mem', '64MB', true)`);
    if (floor !== null && !q.customerId) await tx.execute(sql`SELECT set_config('statement_timeout', ${String(NAME_SEARCH_TIMEOUT_MS)}, true)`);
    return queryRows<DuplicatePairRow>(tx, q.customerId ? oneCustomerQuery(q, q.customerId, floor) : businessQuery(q, floor));
  });
}

/** The live customers of the business with their matching keys. */
const liveColumns = sql`c.id, ${emailMatchKeySql(sql`c.email`)} AS ekey, c.phone_normalized AS phone, lower(c.full_name) AS name`;

/**
 * emailMatchKeySql of an already lower-cased email, cheaper: only an address with a "+" or at
 * Gmail needs the regular expressions; any other valid address (one "@") is its own key.
 */
const foldLowerEmail = (email: SQL) =>
  sql`CASE WHEN ${email} LIKE '%+%' OR ${email} LIKE '%@gmail.com' OR ${email} LIKE '%@googlemail.com' THEN ${emailMatchKeySql(email)} ELSE ${email} END`;

function businessQuery(q: DuplicateSearch, floor: number | null): SQL {
  const names = floor === null
    ? sql``
    : sql`UNION
      SELECT least(x.id, m.id), greatest(x.id, m.id)
      FROM (
        SELECT c.id, lower(c.full_name) AS name
        FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = ${q.businessId}::uuid AND ${LIVE} AND c.full_name IS NOT NULL
      ) x CROSS JOIN LATERAL (
        SELECT c.id FROM customers c
        WHERE lower(c.full_name) % x.name AND c.id <> x.id AND ${LIVE}
          AND EXISTS (SELECT 1 FROM business_customers bc WHERE bc.business_id = ${q.businessId}::uuid AND bc.customer_id = c.id)
        ORDER BY similarity(lower(c.full_name), x.name) DESC, c.id
        LIMIT ${NAME_NEIGHBOURS}
      ) m`;
  // The pairs are few next to the customers, but the planner cannot tell from grouped CTEs: the
  // OFFSET 0 laterals keep it from hash- or merge-joining whole tables to fetch them (6 s instead
  // of 1 s at a million customers), so every holder and paired customer is one index lookup.
  // Emails: the business's own copies (business_customers.email_lowercase, an index-only scan of
  // its unique index), folded and grouped; only the holders of a shared key are read. Phones: the
  // E.164 phone index, grouped (index-only), then the holders of a shared phone in this business.
  return sql`
    WITH emails AS (
      SELECT bc.email_lowercase AS email, ${foldLowerEmail(sql`bc.email_lowercase`)} AS ekey
      FROM business_customers bc WHERE bc.business_id = ${q.businessId}::uuid AND bc.email_lowercase IS NOT NULL
    ),
    shared_emails AS (SELECT ekey, array_agg(email) AS emails FROM emails GROUP BY ekey HAVING count(*) >= 2),
    email_holders AS (
      SELECT h.id, k.ekey FROM shared_emails k CROSS JOIN LATERAL (
        SELECT c.id FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = ${q.businessId}::uuid AND bc.email_lowercase = ANY(k.emails) AND ${LIVE}
        OFFSET 0
      ) h
    ),
    email_groups AS (SELECT ekey FROM email_holders GROUP BY ekey HAVING count(*) BETWEEN 2 AND ${MAX_KEY_GROUP}),
    shared_phones AS (SELECT phone_normalized AS phone FROM customers WHERE phone_normalized IS NOT NULL GROUP BY 1 HAVING count(*) >= 2),
    phone_holders AS (
      SELECT h.id, k.phone FROM shared_phones k CROSS JOIN LATERAL (
        SELECT c.id FROM customers c JOIN business_customers bc ON bc.business_id = ${q.businessId}::uuid AND bc.customer_id = c.id
        WHERE c.phone_normalized = k.phone AND ${LIVE}
        OFFSET 0
      ) h
    ),
    phone_groups AS (SELECT phone FROM phone_holders GROUP BY phone HAVING count(*) BETWEEN 2 AND ${MAX_KEY_GROUP}),
    by_email AS (SELECT h.id, h.ekey FROM email_holders h JOIN email_groups g ON g.ekey = h.ekey),
    by_phone AS (SELECT h.id, h.phone FROM phone_holders h JOIN phone_groups g ON g.phone = h.phone),
    pairs AS (
      SELECT x.id AS a, y.id AS b FROM by_email x JOIN by_email y ON y.ekey = x.ekey AND x.id < y.id
      UNION
      SELECT x.id, y.id FROM by_phone x JOIN by_phone y ON y.phone = x.phone AND x.id < y.id
      ${names}
    )
    ${scoredPage(q)}`;
}

function oneCustomerQuery(q: DuplicateSearch, customerId: string, floor: number | null): SQL {
  const names = floor === null
    ? sql``
    : sql`UNION (
        SELECT c.id FROM customers c, focus f
        WHERE lower(c.full_name) % f.name AND c.id <> f.id AND ${LIVE}
          AND EXISTS (SELECT 1 FROM business_customers bc WHERE bc.business_id = ${q.businessId}::uuid AND bc.customer_id = c.id)
        ORDER BY similarity(lower(c.full_name), f.name) DESC, c.id
        LIMIT ${NAME_NEIGHBOURS * 4})`;
  return sql`
    WITH focus AS MATERIALIZED (SELECT ${liveColumns} FROM customers c WHERE c.id = ${customerId}::uuid),
    found AS (
      SELECT c.id FROM customers c, focus f WHERE ${emailMatchKeySql(sql`c.email`)} = f.ekey AND c.id <> f.id
      UNION
      SELECT c.id FROM customers c, focus f WHERE c.phone_normalized = f.phone AND c.id <> f.id
      ${names}
    ),
    live AS MATERIALIZED (
      SELECT ${liveColumns}
      FROM found JOIN customers c ON c.id = found.id
      JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${q.businessId}::uuid
      WHERE ${LIVE}
      UNION ALL SELECT * FROM focus
    ),
    email_groups AS (SELECT ekey FROM live WHERE ekey IS NOT NULL GROUP BY ekey HAVING count(*) BETWEEN 2 AND ${MAX_KEY_GROUP}),
    phone_groups AS (SELECT phone FROM live WHERE phone IS NOT NULL GROUP BY phone HAVING count(*) BETWEEN 2 AND ${MAX_KEY_GROUP}),
    pairs AS (
      SELECT least(f.id, l.id) AS a, greatest(f.id, l.id) AS b FROM live l, focus f WHERE l.id <> f.id
    )
    ${scoredPage(q)}`;
}

/**
 * Scores the pairs (the query's `pairs`, with its `email_groups` and `phone_groups`: keys shared
 * by 2 to MAX_KEY_GROUP live customers), keeps those at minScore or above past the cursor, in
 * (score desc, a, b) order. Only the paired customers are read, by primary key.
 */
function scoredPage(q: DuplicateSearch): SQL {
  const w = DUPLICATE_WEIGHTS;
  const ekey = (alias: string) => emailMatchKeySql(sql.raw(`${alias}.email`));
  return sql`,
    evidence AS (
      SELECT p.a, p.b,
        lower(x.email) = lower(y.email) AS same_email,
        ${ekey('x')} = ${ekey('y')} AND ${ekey('x')} IN (SELECT ekey FROM email_groups) AS same_email_key,
        x.phone_normalized = y.phone_normalized AND x.phone_normalized IN (SELECT phone FROM phone_groups) AS same_phone,
        similarity(lower(x.full_name), lower(y.full_name)) AS name_similarity
      FROM pairs p
        CROSS JOIN LATERAL (SELECT * FROM customers WHERE id = p.a OFFSET 0) x
        CROSS JOIN LATERAL (SELECT * FROM customers WHERE id = p.b OFFSET 0) y
    ),
    scored AS MATERIALIZED (
      SELECT e.*, round(((1
          - (1 - CASE WHEN e.same_email_key THEN ${w.email}::float8 ELSE 0 END)
          * (1 - CASE WHEN e.same_phone THEN ${w.phone}::float8 ELSE 0 END)
          * (1 - CASE WHEN e.name_similarity >= ${NAME_MIN_SIMILARITY}::float8 THEN ${w.name}::float8 * e.name_similarity ELSE 0 END))
          * CASE WHEN e.name_similarity < ${NAME_CONFLICT_BELOW}::float8 THEN ${NAME_CONFLICT_FACTOR}::float8 ELSE 1 END)::numeric, 3) AS score
      FROM evidence e
    )
    SELECT a::text, b::text, score::text, coalesce(same_email, false) AS same_email, coalesce(same_email_key, false) AS same_email_key,
      coalesce(same_phone, false) AS same_phone, name_similarity
    FROM scored
    WHERE score >= ${q.minScore}::numeric AND score > 0
      ${q.after ? sql`AND (score < ${q.after.score}::numeric OR (score = ${q.after.score}::numeric AND (a, b) > (${q.after.a}::uuid, ${q.after.b}::uuid)))` : sql``}
    ORDER BY score DESC, a, b
    LIMIT ${q.limit + 1}`;
}

/** Whether the customer is a live customer of the business: linked to it, not deleted, erased or merged away. */
export async function isLiveCustomerOf(db: Db, businessId: string, customerId: string): Promise<boolean> {
  const rows = await queryRows<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM customers c JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${businessId}::uuid
        WHERE c.id = ${customerId}::uuid AND c.deleted_at IS NULL AND c.erased_at IS NULL AND c.merged_into_id IS NULL`,
  );
  return rows.length > 0;
}

/** Display fields of the customers of a page (the API is entitled to them; logs never get them). */
export async function loadPairCustomers(db: Db, ids: string[]) {
  if (ids.length === 0) return new Map<string, PairCustomer>();
  const rows = await queryRows<PairCustomer>(
    db,
    sql`SELECT id::text, first_name AS "firstName", last_name AS "lastName", email, phone_normalized AS phone, created_at AS "createdAt"
        FROM customers WHERE id = ANY(${uuidArray(ids)})`,
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export interface PairCustomer {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  createdAt: Date;
}

/** PostgreSQL cancelled the statement at statement_timeout (SQLSTATE 57014); drizzle wraps the driver's error. */
export function isStatementTimeout(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if ((current as { code?: unknown }).code === '57014') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
