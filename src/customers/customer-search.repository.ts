// The customer list and search query of one business. Filters: status, tag, tier, segment, spend
// range, last visit range. Free text, by its shape:
//   - an email (has an @, or a dot and no space): emails starting with it (or containing it, when
//     it starts with @);
//   - a phone number (4 or more digits, no letters): phones ending with the digits, then phones
//     containing them;
//   - anything else is a name. One word: the exact last name, then the exact first name, then
//     names or emails containing it, then first or last names one edit away. Several words: the
//     exact full name, then full names one edit per word away, then full names containing the
//     text. An edit (name-spelling.ts): "jon smith" finds John Smith, "garcia" García.
// Within each group, and without text, newest first. Groups are read one after the other, each
// in (created_at, id) order up to what the page still needs; the order is total, so keyset
// pages never skip or repeat a customer.
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, textArray, type Executor } from '../db/db.client.js';
import type { KeysetPosition } from '../db/keyset.js';
import { combineNames, foldName, spellingsOf } from './name-spelling.js';

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
type MatchGroup =
  /**
   * `ordered`: read in date order through an index that holds it (an exact name, or no text):
   * stops at the page. `sorted`: every match is read through its own index and then sorted:
   * bounded by the number of matches, where the planner, misjudging a trigram or prefix
   * condition as common, could instead walk the whole date index for a rare one.
   */
  | { read: 'ordered'; where: SQL }
  | { read: 'sorted'; where: SQL }
  /**
   * `each`: for each of a few names, the customers whose `column` is that name, read in date order
   * through the column's name index up to the page, then merged: a misspelt common name
   * ("smiht") costs a page per spelling, not the tens of thousands of Smiths.
   */
  | { read: 'each'; branches: { column: SQL; names: string[]; where: SQL }[] };

/** A group known from the text alone, or one that needs the vocabulary (looked up only when reached). */
type GroupSource = MatchGroup | ((ex: Executor) => Promise<MatchGroup | null>);

/** Candidates per word typed, and full names tried, at most: each is one index probe. */
const MAX_SPELLINGS_PER_WORD = 8;
const MAX_FULL_NAMES = 32;
/** Spellings looked up in the vocabulary for one search, about: a full name's words one edit away. */
const MAX_SPELLINGS_LOOKED_UP = 2000;

function matchGroups(text: string): GroupSource[] {
  const q = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const digits = q.replace(/\D/g, '');
  if (q.includes('@') || (/\./.test(q) && !/\s/.test(q))) {
    const where = q.startsWith('@') ? sql`c.email_lowercase LIKE ${`%${escapeLike(q)}%`}` : sql`c.email_lowercase LIKE ${`${escapeLike(q)}%`}`;
    return [{ read: 'sorted', where }];
  }
  if (digits.length >= 4 && !/[a-z]/.test(q)) {
    // The last digits of a number are what staff type: ends-with first (idx_customers_phone_reversed).
    const endsWith = sql`reverse(c.phone_normalized) LIKE ${`${[...digits].reverse().join('')}%`}`;
    return [
      { read: 'sorted', where: endsWith },
      { read: 'sorted', where: sql`c.phone_normalized LIKE ${`%${digits}%`} AND (${endsWith}) IS NOT TRUE` },
    ];
  }
  return q.includes(' ') ? fullNameGroups(q) : oneNameGroups(q);
}

/**
 * One word: the exact last name, then the exact first name, then names or emails containing it
 * (it may be the start of a name being typed: "smi"), then first or last names one edit away.
 */
function oneNameGroups(q: string): GroupSource[] {
  const pattern = `%${escapeLike(q)}%`;
  const exact = sql`(lower(c.last_name) = ${q} OR lower(c.first_name) = ${q})`;
  const contains = sql`(lower(c.full_name) LIKE ${pattern} OR c.email_lowercase LIKE ${pattern})`;
  const misspelt = async (ex: Executor): Promise<MatchGroup | null> => {
    const names = (await vocabularySpellings(ex, [q]))[0]!.filter((n) => n !== q);
    if (names.length === 0) return null;
    const before = sql`(${contains}) IS NOT TRUE AND ${exact} IS NOT TRUE`;
    // A customer whose first and last names are both candidates is read once, by the last name.
    const notByLast = sql`(lower(c.last_name) = ANY(${textArray(names)})) IS NOT TRUE`;
    return {
      read: 'each',
      branches: [
        { column: sql`lower(c.last_name)`, names, where: before },
        { column: sql`lower(c.first_name)`, names, where: sql`${before} AND ${notByLast}` },
      ],
    };
  };
  return [
    { read: 'ordered', where: sql`lower(c.last_name) = ${q}` },
    { read: 'ordered', where: sql`lower(c.first_name) = ${q} AND (lower(c.last_name) = ${q}) IS NOT TRUE` },
    { read: 'sorted', where: sql`${contains} AND ${exact} IS NOT TRUE` },
    misspelt,
  ];
}

/**
 * Several words: the exact full name, then full names one edit per word away, then full names
 * containing the text. A full name typed whole is more likely a typo away from the name meant
 * than the start of a longer one, and the misspelt lookup is cheap where a trigram search for
 * text made of common names is not. (An email has no spaces: it is not searched.)
 */
function fullNameGroups(q: string): GroupSource[] {
  const words = q.split(' ');
  let spelt: Promise<string[]> | undefined;
  const misspeltNames = (ex: Executor) =>
    (spelt ??= vocabularySpellings(ex, words).then((candidates) => {
      const options = candidates.map((found, i) => [...new Set([...found, words[i]!])]);
      return combineNames(options, MAX_FULL_NAMES + 1).filter((n) => n !== q).slice(0, MAX_FULL_NAMES);
    }));
  const notExact = sql`(lower(c.full_name) = ${q}) IS NOT TRUE`;
  return [
    { read: 'ordered', where: sql`lower(c.full_name) = ${q}` },
    async (ex) => {
      const names = await misspeltNames(ex);
      return names.length === 0 ? null : { read: 'each', branches: [{ column: sql`lower(c.full_name)`, names, where: notExact }] };
    },
    async (ex) => {
      const names = await misspeltNames(ex);
      const notMisspelt = names.length === 0 ? sql`true` : sql`(lower(c.full_name) = ANY(${textArray(names)})) IS NOT TRUE`;
      return { read: 'sorted', where: sql`lower(c.full_name) LIKE ${`%${escapeLike(q)}%`} AND ${notExact} AND ${notMisspelt}` };
    },
  ];
}

/**
 * For each word, the first and last names customers have whose accent-folded spelling is the
 * word's or one edit away from it: the word's own spelling first, then by name.
 */
async function vocabularySpellings(ex: Executor, words: string[]): Promise<string[][]> {
  // Text of many words (up to 200 characters) would look up ~56 spellings a letter: past the
  // budget, the remaining words are looked up as typed.
  let budget = MAX_SPELLINGS_LOOKED_UP;
  const spellings = words.map((w) => {
    const all = budget > 0 ? spellingsOf(w) : [foldName(w)];
    budget -= all.length;
    return all;
  });
  const rows = await queryRows<{ name: string; folded: string }>(
    ex,
    sql`SELECT v.name, v.folded FROM customer_name_vocabulary v WHERE v.folded = ANY(${textArray([...new Set(spellings.flat())])}) ORDER BY v.name`,
  );
  return spellings.map((all) => {
    const own = rows.filter((r) => r.folded === all[0]);
    const near = rows.filter((r) => r.folded !== all[0] && all.includes(r.folded));
    return [...own, ...near].slice(0, MAX_SPELLINGS_PER_WORD).map((r) => r.name);
  });
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

  const groups: GroupSource[] = f.q ? matchGroups(f.q) : [{ read: 'ordered', where: sql`true` }];
  const after = f.after;
  const rows: RawRow[] = [];
  // Group by group, and only as far as the page needs: a later (costlier, fuzzier) group is not
  // read when the earlier ones fill the page.
  for (let group = after?.group ?? 0; group < groups.length && rows.length <= f.limit; group++) {
    const source = groups[group]!;
    const match = typeof source === 'function' ? await source(ex) : source;
    if (!match) continue;
    const position = after && group === after.group ? sql`AND (c.created_at, c.id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``;
    const select = (where: SQL) => sql`SELECT c.id, c.version::int AS version, c.email, c.phone_normalized AS phone, c.first_name AS "firstName",
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
    const newestFirst = sql`ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit}`;
    const sortFound = sql`SELECT * FROM found ORDER BY "createdAt" DESC, id DESC LIMIT ${limit}`;
    let query: SQL;
    if (match.read === 'ordered') query = sql`${select(match.where)} ${newestFirst}`;
    else if (match.read === 'sorted') query = sql`WITH found AS MATERIALIZED (${select(match.where)}) ${sortFound}`;
    else {
      const branches = match.branches.map(
        (b) => sql`SELECT f.* FROM unnest(${textArray(b.names)}) AS s(name)
                     CROSS JOIN LATERAL (${select(sql`${b.column} = s.name AND ${b.where}`)} ${newestFirst}) f`,
      );
      query = sql`WITH found AS MATERIALIZED (${sql.join(branches, sql` UNION ALL `)}) ${sortFound}`;
    }
    rows.push(...(await queryRows<RawRow>(ex, query)));
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
