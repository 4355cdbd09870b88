// The customer list and search query of one business. Filters: status, tag, tier, segment, spend
// range, last visit range. Free text, by its shape:
//   - an email (has an @, or a dot and no space): emails starting with it (or containing it, when
//     it starts with @);
//   - a phone number (4 or more digits, no letters): phones ending with the digits, then phones
//     containing them;
//   - anything else is a name. One word: the exact last name, then the exact first name, then
//     first or last names starting with it (it may be a name being typed: "smi"), then names or
//     emails containing it, then first or last names one edit away. Several words: the
//     exact full name, last name or first name, then full names one edit per word away, then
//     full names containing the text. An edit (name-spelling.ts): "jon smith" finds John Smith,
//     "garcia" García.
// Within each group, and without text, newest first. The groups are read by a few statements,
// one after the other and only while the page is short, each statement up to a page in (group,
// created_at, id) order; the order is total, so keyset pages never skip or repeat a customer.
// Every statement is prepared by name (queryRowsPrepared): its text depends on the shape of the
// search, never on the words. A small business beside larger ones (BusinessSizes) is searched in
// one statement instead: one pass over its own customers, each given the first group it matches,
// for the same rows in the same order; through the customers' indexes it would walk every
// business's customers of a common name. The list without text walks the business's own links.
import { sql, type SQL } from 'drizzle-orm';
import { queryRowsPrepared, textArray, type Executor } from '../db/db.client.js';
import type { KeysetPosition } from '../db/keyset.js';
import { foldName, spellingsOf } from './name-spelling.js';

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
  /**
   * A small business (BusinessSizes) is searched in one pass over its own customers; a large one
   * through the customers' indexes, statement by statement. Either way the same rows in the same
   * order. Without text, every business is listed through its own links.
   */
  smallBusiness?: boolean;
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
 * One statement of a search: the parts of one or more consecutive match groups, best group first.
 * A part is a condition on the customer row that excludes the groups before it (`IS NOT TRUE`: a
 * null column must not hide a row from a later group), read one of four ways:
 * - `business`: the business's own customers in date order through its links' index
 *   (idx_business_customers_newest), stopping at the page: the list without text, which must not
 *   walk other businesses' customers to fill a small business's page;
 * - `ordered`: in date order through an index that holds it (an exact name, or no text), stopping
 *   at the page;
 * - `sorted`: every match through its own index, then sorted: bounded by the number of matches,
 *   where the planner, misjudging a trigram or prefix condition as common, could instead walk the
 *   whole date index for a rare one;
 * - `dated`: every match's date and id from an index that holds them (the email prefix index),
 *   sorted, then the customers read newest first, stopping at the page: an email prefix shared by
 *   thousands ("clara.") sorts index entries instead of reading every customer;
 * - `each`: for each name of one of the statement's name lists, the customers whose `column` is
 *   that name, newest first up to the page, through the column's name index: a misspelt common
 *   name ("smiht") costs a page per spelling, and a word being typed ("smi") a page per name
 *   starting with it, not the tens of thousands of Smiths.
 * Within a statement a group is computed only when the groups before it leave the page short,
 * and a later statement runs only when the earlier ones do.
 */
interface Read {
  /** The name lists its parts read or exclude. */
  lists?: NameList[];
  parts: Part[];
}

/**
 * Names looked up in SQL, a CTE `cte(name)` of each statement that reads it, for `each` parts and
 * exclusions: computed once per statement, and only if a part that reads it is reached (its SQL
 * is built only when the statement runs: the spellings of a word are a few hundred strings).
 */
interface NameList {
  cte: 'names' | 'prefixes';
  sql: () => SQL;
}

type Part = { group: number; where: SQL } & ({ read: 'business' | 'ordered' | 'sorted' | 'dated' } | { read: 'each'; column: SQL; list: NameList });

/** Candidates per word typed, and full names tried, at most: each is one index probe. */
const MAX_SPELLINGS_PER_WORD = 8;
/**
 * Names starting with a word, at most (alphabetically first): each is one index probe. A name
 * past them that starts with the word is found with the names containing it.
 */
const MAX_PREFIX_NAMES = 48;
const MAX_FULL_NAMES = 32;
/** Combinations of candidates ranked to pick the full names: their product per text, at most. */
const MAX_COMBINATIONS = 1000;
/** Spellings looked up in the vocabulary for one search, about: a full name's words one edit away. */
const MAX_SPELLINGS_LOOKED_UP = 2000;

function searchReads(text: string): Read[] {
  const q = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const digits = q.replace(/\D/g, '');
  if (q.includes('@') || (/\./.test(q) && !/\s/.test(q))) {
    return q.startsWith('@')
      ? [{ parts: [{ read: 'sorted', group: 0, where: sql`c.email_lowercase LIKE ${`%${escapeLike(q)}%`}` }] }]
      : [{ parts: [{ read: 'dated', group: 0, where: sql`c.email_lowercase LIKE ${`${escapeLike(q)}%`}` }] }];
  }
  if (digits.length >= 4 && !/[a-z]/.test(q)) {
    // The last digits of a number are what staff type: ends-with first (idx_customers_phone_reversed).
    const endsWith = sql`reverse(c.phone_normalized) LIKE ${`${[...digits].reverse().join('')}%`}`;
    // One statement: the numbers containing the digits are read only if those ending with them
    // leave the page short (four digits end one number in 10,000; six, one in a million).
    return [
      {
        parts: [
          { read: 'sorted', group: 0, where: endsWith },
          { read: 'sorted', group: 1, where: sql`c.phone_normalized LIKE ${`%${digits}%`} AND (${endsWith}) IS NOT TRUE` },
        ],
      },
    ];
  }
  return q.includes(' ') ? fullNameReads(q) : oneNameReads(q);
}

/**
 * One word: the exact last name, then the exact first name, then first or last names starting
 * with it (a name being typed: "smi"), then names or emails containing it, then first or last
 * names one edit away.
 */
function oneNameReads(q: string): Read[] {
  const pattern = `%${escapeLike(q)}%`;
  const exact = sql`(lower(c.last_name) = ${q} OR lower(c.first_name) = ${q})`;
  const contains = sql`(lower(c.full_name) LIKE ${pattern} OR c.email_lowercase LIKE ${pattern})`;
  // The names starting with the word, through the vocabulary's prefix index.
  const prefixes: NameList = {
    cte: 'prefixes',
    sql: () => sql`SELECT v.name FROM customer_name_vocabulary v
      WHERE v.name LIKE ${`${escapeLike(q)}%`} AND v.name <> ${q} ORDER BY v.name LIMIT ${MAX_PREFIX_NAMES}`,
  };
  const startsWith = sql`(lower(c.last_name) IN (SELECT name FROM prefixes) OR lower(c.first_name) IN (SELECT name FROM prefixes))`;
  // The names one edit away, the word's own spelling first ("garcía" for "garcia"), then by name.
  const misspelt: NameList = {
    cte: 'names',
    sql: () => {
      const spellings = spellingsOf(q);
      return sql`SELECT v.name FROM customer_name_vocabulary v
        WHERE v.folded = ANY(${textArray(spellings)}) AND v.name <> ${q}
        ORDER BY v.folded = ${spellings[0]!} DESC, v.name LIMIT ${MAX_SPELLINGS_PER_WORD}`;
    },
  };
  const before = sql`(${contains}) IS NOT TRUE AND ${exact} IS NOT TRUE AND ${startsWith} IS NOT TRUE`;
  // A statement each for the exact names: a common last name fills the page with the first,
  // which plans only it. The names containing the word are read only if those starting with it
  // leave the page short ("mar" finds a page of Martins before any trigram look-up).
  return [
    { parts: [{ read: 'ordered', group: 0, where: sql`lower(c.last_name) = ${q}` }] },
    { parts: [{ read: 'ordered', group: 1, where: sql`lower(c.first_name) = ${q} AND (lower(c.last_name) = ${q}) IS NOT TRUE` }] },
    {
      lists: [prefixes],
      parts: [
        { read: 'each', group: 2, column: sql`lower(c.last_name)`, list: prefixes, where: sql`${exact} IS NOT TRUE` },
        // A customer whose first and last names both start with it is read once, by the last name.
        {
          read: 'each',
          group: 2,
          column: sql`lower(c.first_name)`,
          list: prefixes,
          where: sql`${exact} IS NOT TRUE AND (lower(c.last_name) IN (SELECT name FROM prefixes)) IS NOT TRUE`,
        },
        { read: 'sorted', group: 3, where: sql`${contains} AND ${exact} IS NOT TRUE AND ${startsWith} IS NOT TRUE` },
      ],
    },
    {
      lists: [misspelt, prefixes],
      parts: [
        { read: 'each', group: 4, column: sql`lower(c.last_name)`, list: misspelt, where: before },
        // A customer whose first and last names are both candidates is read once, by the last name.
        {
          read: 'each',
          group: 4,
          column: sql`lower(c.first_name)`,
          list: misspelt,
          where: sql`${before} AND (lower(c.last_name) IN (SELECT name FROM names)) IS NOT TRUE`,
        },
      ],
    },
  ];
}

/**
 * Several words: the exact full name, the exact last name ("de la cruz"), the exact first name
 * ("mary ann"), then full names one edit per word away, in one statement whose misspelt group
 * (and its vocabulary lookup) is computed only if the exact ones leave the page short; then full
 * names containing the text. A full name typed whole is more likely a typo away from the name
 * meant than the start of a longer one, and the misspelt lookup is cheap where a trigram search
 * for text made of common names is not. (An email has no spaces: it is not searched.)
 */
function fullNameReads(q: string): Read[] {
  let built: SQL | undefined;
  const names: NameList = { cte: 'names', sql: () => (built ??= fullNameCandidates(q)) };
  const notExactFull = sql`(lower(c.full_name) = ${q}) IS NOT TRUE`;
  const notExactPart = sql`(lower(c.last_name) = ${q} OR lower(c.first_name) = ${q}) IS NOT TRUE`;
  return [
    {
      lists: [names],
      parts: [
        { read: 'ordered', group: 0, where: sql`lower(c.full_name) = ${q}` },
        { read: 'ordered', group: 1, where: sql`lower(c.last_name) = ${q} AND ${notExactFull}` },
        { read: 'ordered', group: 2, where: sql`lower(c.first_name) = ${q} AND ${notExactFull} AND (lower(c.last_name) = ${q}) IS NOT TRUE` },
        // The candidates never include the text itself.
        { read: 'each', group: 3, column: sql`lower(c.full_name)`, list: names, where: notExactPart },
      ],
    },
    {
      lists: [names],
      parts: [
        {
          read: 'sorted',
          group: 4,
          where: sql`lower(c.full_name) LIKE ${`%${escapeLike(q)}%`} AND ${notExactFull} AND (lower(c.full_name) IN (SELECT name FROM names)) IS NOT TRUE AND ${notExactPart}`,
        },
      ],
    },
  ];
}

/**
 * The full names one edit per word away that customers could have, closest first, at
 * most MAX_FULL_NAMES: every combination of one candidate per word, ranked by the sum of the
 * candidates' ranks. A word's candidates are the vocabulary's names whose accent-folded spelling
 * is the word's own (first) or one edit away, and always the word as typed (last), which may be
 * part of a name the vocabulary holds only as a whole ("Mary Ann").
 */
function fullNameCandidates(q: string): SQL {
  const words = q.split(' ');
  // Fewer candidates per word as the words grow, so the combinations ranked stay few; text of many
  // words (up to 200 characters) past the spelling budget is looked up as typed.
  const perWord = Math.min(MAX_SPELLINGS_PER_WORD, Math.max(0, Math.floor(MAX_COMBINATIONS ** (1 / words.length)) - 1));
  let budget = MAX_SPELLINGS_LOOKED_UP;
  const candidates = words.map((word, i) => {
    const spellings = budget > 0 && perWord > 0 ? spellingsOf(word) : [foldName(word)];
    budget -= spellings.length;
    return sql`(SELECT name, min(rank) AS rank FROM (
        (SELECT v.name, row_number() OVER (ORDER BY v.folded = ${spellings[0]!} DESC, v.name) AS rank
           FROM customer_name_vocabulary v WHERE v.folded = ANY(${textArray(spellings)}) ORDER BY 2 LIMIT ${perWord})
        UNION ALL SELECT ${word}::text, ${perWord + 1}::bigint) x GROUP BY name) ${sql.raw(`w${i}`)}`;
  });
  const alias = (i: number, column: string) => sql.raw(`w${i}.${column}`);
  const fullName = sql`concat_ws(' ', ${sql.join(words.map((_, i) => alias(i, 'name')), sql`, `)})`;
  return sql`SELECT ${fullName} FROM ${sql.join(candidates, sql` CROSS JOIN `)}
    WHERE ${fullName} <> ${q}
    ORDER BY ${sql.join(words.map((_, i) => alias(i, 'rank')), sql` + `)}, ${sql.join(words.map((_, i) => alias(i, 'rank')), sql`, `)}
    LIMIT ${MAX_FULL_NAMES}`;
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

  // The page and one more (is there a next page?), in the text: with a LIMIT known when the
  // statement is prepared, PostgreSQL can keep one plan for it (given a parameter, it plans for
  // a tenth of the rows), and every statement of the search reads the same page size whatever
  // the earlier ones found, so the text stays the same. Rows past the page are dropped below.
  if (!Number.isInteger(f.limit) || f.limit < 1) throw new Error(`invalid search limit ${f.limit}`);
  const limit = sql.raw(String(f.limit + 1));
  const reads: Read[] = f.q ? searchReads(f.q) : [{ parts: [{ read: 'business', group: 0, where: sql`true` }] }];
  const after = f.after;
  const rows: RawRow[] = [];
  // Where the matches are found, the customer's own columns and tier are read; the spend and last
  // visit (a join) and the cursor's text only for the page: a search that sorts a hundred matches
  // (the last 4 digits of a phone) joins twenty-one.
  const needsMetrics = f.minSpent !== undefined || f.maxSpent !== undefined || f.lastVisitFrom !== undefined || f.lastVisitTo !== undefined;
  const columns = (group: number | SQL) => sql`c.id, c.version, c.email, c.phone_normalized, c.first_name, c.last_name,
          c.full_name, c.status, c.customer_type, c.tags, bc.loyalty_tier, c.created_at, c.updated_at, c.deleted_at,
          c.last_active_at, ${typeof group === 'number' ? sql.raw(String(group)) : group}::int AS grp`;
  const metricsJoin = needsMetrics ? sql`LEFT JOIN customer_metrics m ON m.customer_id = c.id` : sql``;
  const filtered = sql.join(filters, sql` AND `);
  // Rows after the cursor's position within its group, in newest-first order.
  const pastCursor = (at: SQL, id: SQL) => sql`(${at}, ${id}) < (${after!.at}::timestamptz, ${after!.id}::uuid)`;
  // The customer's row, one probe of its primary key (OFFSET 0 keeps it a probe).
  const customerOf = (id: SQL) => sql`JOIN LATERAL (SELECT * FROM customers c0 WHERE c0.id = ${id} OFFSET 0) c ON true`;
  // A probe of the link's primary key per candidate (OFFSET 0 keeps it a probe): joined as a
  // table, the planner hashed all of the business's links for every search.
  const link = sql`JOIN LATERAL (SELECT l.business_id, l.loyalty_tier FROM business_customers l
                      WHERE l.business_id = ${f.businessId} AND l.customer_id = c.id OFFSET 0) bc ON true`;
  const select = (group: number, where: SQL) => sql`SELECT ${columns(group)}
        FROM customers c ${link} ${metricsJoin}
        WHERE ${filtered} AND ${where}`;
  const newestFirst = sql`ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit}`;
  // A later page starts inside its cursor's group and skips the groups before it.
  const positioned = (part: Part) => (after && part.group === after.group ? sql`${part.where} AND ${pastCursor(sql`c.created_at`, sql`c.id`)}` : part.where);
  // The business's links carry the customer's created_at (customer_created_at), in their own index.
  const ofBusiness = (part: Part) => sql`(SELECT ${columns(part.group)}
        FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        ${metricsJoin}
        WHERE ${filtered} AND ${part.where}
          ${after && part.group === after.group ? sql`AND ${pastCursor(sql`bc.customer_created_at`, sql`bc.customer_id`)}` : sql``}
        ORDER BY bc.customer_created_at DESC, bc.customer_id DESC LIMIT ${limit})`;
  // The matches' dates and ids sorted (an index-only read), then a probe of each customer in turn.
  const dated = (part: Part) => sql`(SELECT ${columns(part.group)}
        FROM (SELECT c.id, c.created_at FROM customers c WHERE ${positioned(part)} ORDER BY c.created_at DESC, c.id DESC OFFSET 0) k
        ${customerOf(sql`k.id`)} ${link} ${metricsJoin}
        WHERE ${filtered}
        ORDER BY k.created_at DESC, k.id DESC LIMIT ${limit})`;
  const partQuery = (part: Part) => {
    if (part.read === 'business') return ofBusiness(part);
    if (part.read === 'dated') return dated(part);
    if (part.read === 'each') {
      return sql`SELECT f.* FROM ${sql.raw(part.list.cte)} s CROSS JOIN LATERAL (${select(part.group, sql`${part.column} = s.name AND ${positioned(part)}`)} ${newestFirst}) f`;
    }
    const one = select(part.group, positioned(part));
    return part.read === 'ordered' ? sql`(${one} ${newestFirst})` : one;
  };
  // The page from the statement's CTEs, read in turn under one LIMIT (`inTurn`): each customer
  // with its spend, last visit and cursor text.
  const page = (ctes: SQL[], inTurn: SQL[]) =>
    queryRowsPrepared<RawRow>(
      ex,
      sql`WITH ${sql.join(ctes, sql`, `)}
          SELECT p.id, p.version::int AS version, p.email, p.phone_normalized AS phone, p.first_name AS "firstName",
            p.last_name AS "lastName", p.full_name AS "fullName", p.status, p.customer_type AS "customerType", p.tags,
            p.loyalty_tier AS "loyaltyTier", coalesce(m.total_spent, 0)::float8 AS "totalSpent", m.last_order_date::text AS "lastVisit",
            p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.deleted_at AS "deletedAt", p.last_active_at AS "lastActiveAt",
            to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt", p.grp AS "group"
          FROM (SELECT * FROM (${sql.join(inTurn, sql` UNION ALL `)}) u LIMIT ${limit}) p
          LEFT JOIN customer_metrics m ON m.customer_id = p.id
          ORDER BY p.grp, p.created_at DESC, p.id DESC`,
    );
  const listCtes = (lists: NameList[]) =>
    [...new Map(lists.map((list) => [list.cte, list])).values()].map((list) => sql`${sql.raw(list.cte)} (name) AS MATERIALIZED (${list.sql()})`);

  if (f.smallBusiness && f.q) {
    // A small business: one pass over its own customers, each given the first group it matches.
    // It costs the size of the business whatever the text, where the customers' indexes would walk
    // every business's customers of a common name.
    const parts = reads.flatMap((read) => read.parts);
    const lists = reads.flatMap((read) => read.lists ?? []);
    const matches = (part: Part) =>
      part.read === 'each' ? sql`${part.column} IN (SELECT name FROM ${sql.raw(part.list.cte)}) AND (${part.where})` : sql`(${part.where})`;
    const groupOf = sql`CASE ${sql.join(parts.map((part) => sql`WHEN ${matches(part)} THEN ${sql.raw(String(part.group))}`), sql` `)} END`;
    const beyond = after ? sql`AND (x.grp > ${after.group}::int OR (x.grp = ${after.group}::int AND ${pastCursor(sql`x.created_at`, sql`x.id`)}))` : sql``;
    const onePass = sql`g AS MATERIALIZED (SELECT * FROM (SELECT ${columns(groupOf)}
        FROM business_customers bc ${customerOf(sql`bc.customer_id`)} ${metricsJoin}
        WHERE ${filtered}) x
      WHERE x.grp IS NOT NULL ${beyond}
      ORDER BY x.grp, x.created_at DESC, x.id DESC LIMIT ${limit})`;
    rows.push(...(await page([...listCtes(lists), onePass], [sql`SELECT * FROM g`])));
  } else {
    // Statement by statement, and only as far as the page needs: a later (costlier, fuzzier)
    // group is not read when the earlier ones fill the page.
    for (const read of reads) {
      if (rows.length > f.limit) break;
      const parts = read.parts.filter((part) => !after || part.group >= after.group);
      if (parts.length === 0) continue;
      // A group's parts are one CTE (g0, g1, …), read newest first up to the page, and the groups
      // follow one another under one LIMIT. PostgreSQL runs the branches of a UNION ALL in turn
      // (no parallel workers: db.client.ts) and computes a CTE only when it is first read, so a
      // group after a full page (and the names it reads) is never computed.
      const groups = [...new Set(parts.map((part) => part.group))];
      const ctes = groups.map(
        (g) => sql`${sql.raw(`g${g}`)} AS MATERIALIZED (${sql.join(parts.filter((part) => part.group === g).map(partQuery), sql` UNION ALL `)})`,
      );
      ctes.unshift(...listCtes(read.lists ?? []));
      const inTurn = groups.map((g) => sql`(SELECT * FROM ${sql.raw(`g${g}`)} ORDER BY created_at DESC, id DESC LIMIT ${limit})`);
      rows.push(...(await page(ctes, inTurn)));
    }
  }
  rows.splice(f.limit + 1);
  const date = (v: string | Date | null) => (v === null ? null : new Date(v));
  return rows.map((r) => ({
    ...r,
    createdAt: new Date(r.createdAt!),
    updatedAt: new Date(r.updatedAt!),
    deletedAt: date(r.deletedAt),
    lastActiveAt: date(r.lastActiveAt),
  }));
}
