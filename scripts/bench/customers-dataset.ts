// Generates N realistic customers of one business straight into PostgreSQL for bench:customers,
// set-based (one INSERT … SELECT FROM generate_series statement per chunk, every table of a chunk
// in that one statement), not through the API: a million customers in minutes, not hours.
//
// Deterministic: every value is a hash of the customer's index (not random()), so every run of the
// same N holds the same people; only the ids (and POS external ids) carry the run's salt, so runs
// can share a database. What it writes, per customer:
//   customers            names from small lists drawn with a skew (common names repeat, as they
//                        do), email first.last.<i>@example.com for 90% (walk-ins have none),
//                        a US phone for 80% typed three ways and stored E.164 in phone_normalized,
//                        status mostly active, 0-3 tags from a small vocabulary, created over 3 years
//                        with growth (more recent sign-ups), last_active_at after the last order
//   business_customers   the link, email_lowercase = lower(email), tier BRONZE until recalculated
//   customer_metrics     18% never bought; the others a mix of occasional (geometric, mean 3) and
//                        regular (mean 12) buyers; AOV lognormal around 45; returns and cancels;
//                        last order within 2 years, recent for frequent buyers; churn from recency;
//                        predicted CLV and next order for 70%
//   customer_engagement  consents, email/SMS counters, loyalty membership and points from spend
//   customer_addresses   one default address for 60%, country weighted (US 68%, CA, GB, AU, …)
//   customer_sources     the POS link for 85% (Square or Lightspeed)
// On a database the bench owns, the secondary indexes of these tables are dropped for the load and
// rebuilt after it (two at a time), as a bulk load does; then VACUUM ANALYZE.
import { performance } from 'node:perf_hooks';
import type pg from 'pg';

export const LOADED_TABLES = [
  'customers',
  'business_customers',
  'customer_metrics',
  'customer_engagement',
  'customer_addresses',
  'customer_sources',
] as const;

// Ordered roughly by frequency; the draw favours the front of each list (see `skewed`).
export const FIRST_NAMES = [
  'James', 'Mary', 'Michael', 'Jennifer', 'John', 'Linda', 'Robert', 'Patricia', 'David', 'Elizabeth',
  'William', 'Susan', 'Richard', 'Jessica', 'Joseph', 'Sarah', 'Thomas', 'Karen', 'Christopher', 'Lisa',
  'Charles', 'Nancy', 'Daniel', 'Sandra', 'Matthew', 'Ashley', 'Anthony', 'Emily', 'Mark', 'Michelle',
  'Steven', 'Amanda', 'Andrew', 'Melissa', 'Joshua', 'Stephanie', 'Kevin', 'Rebecca', 'Brian', 'Laura',
  'Jose', 'Maria', 'Luis', 'Ana', 'Carlos', 'Sofia', 'Juan', 'Camila', 'Miguel', 'Valentina',
  'Wei', 'Mei', 'Hiroshi', 'Yuki', 'Minh', 'Linh', 'Raj', 'Priya', 'Arjun', 'Ananya',
  'Mohammed', 'Fatima', 'Omar', 'Aisha', 'Ali', 'Layla', 'Noah', 'Olivia', 'Liam', 'Emma',
  'Ethan', 'Ava', 'Mason', 'Isabella', 'Lucas', 'Mia', 'Oliver', 'Charlotte', 'Elijah', 'Amelia',
  'Aiden', 'Harper', 'Logan', 'Evelyn', 'Jacob', 'Abigail', 'Benjamin', 'Ella', 'Henry', 'Grace',
  'Samuel', 'Chloe', 'Gabriel', 'Zoe', 'Owen', 'Nora', 'Julian', 'Hannah', 'Isaac', 'Lily',
  'Sebastian', 'Aurora', 'Mateo', 'Lucia', 'Leo', 'Ines', 'Hugo', 'Clara', 'Finn', 'Freya',
  'Declan', 'Siobhan', 'Niamh', 'Kai', 'Leilani', 'Dmitri', 'Natalia', 'Jürgen', 'Zoë', 'Renée',
];

export const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Gomez', 'Phillips', 'Evans', 'Turner', 'Diaz', 'Parker', 'Cruz', 'Edwards', 'Collins', 'Reyes',
  'Stewart', 'Morris', 'Morales', 'Murphy', 'Cook', 'Rogers', 'Gutierrez', 'Ortiz', 'Morgan', 'Cooper',
  'Peterson', 'Bailey', 'Reed', 'Kelly', 'Howard', 'Ramos', 'Kim', 'Cox', 'Ward', 'Richardson',
  'Watson', 'Brooks', 'Chavez', 'Wood', 'James', 'Bennett', 'Gray', 'Mendoza', 'Ruiz', 'Hughes',
  'Price', 'Alvarez', 'Castillo', 'Sanders', 'Patel', 'Myers', 'Long', 'Ross', 'Foster', 'Jimenez',
  'Powell', 'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Bell', 'Coleman', 'Butler', 'Henderson', 'Barnes',
  'Gonzales', 'Fisher', 'Vasquez', 'Simmons', 'Romero', 'Jordan', 'Patterson', 'Alexander', 'Hamilton', 'Graham',
  'Reynolds', 'Griffin', 'Wallace', 'Moreno', 'West', 'Cole', 'Hayes', 'Bryant', 'Herrera', 'Gibson',
  'Ellis', 'Tran', 'Medina', 'Aguilar', 'Stevens', 'Murray', 'Ford', 'Castro', 'Marshall', 'Owens',
  'Harrison', 'Fernandez', 'McDonald', 'Woods', 'Washington', 'Kennedy', 'Wells', 'Vargas', 'Henry', 'Chen',
  'Freeman', 'Webb', 'Tucker', 'Guzman', 'Burns', 'Crawford', 'Olson', 'Simpson', 'Porter', 'Hunter',
  'Gordon', 'Mendez', 'Silva', 'Shaw', 'Snyder', 'Mason', 'Dixon', 'Munoz', 'Hunt', 'Hicks',
  'Holmes', 'Palmer', 'Wagner', 'Black', 'Robertson', 'Boyd', 'Rose', 'Stone', 'Salazar', 'Fox',
  'Warren', 'Mills', 'Meyer', 'Rice', 'Schmidt', 'Garza', 'Daniels', 'Ferguson', 'Nichols', 'Stephens',
  "O'Brien", "O'Connor", 'García', 'Müller', 'Núñez', 'Van der Berg', 'De la Cruz', 'Wang', 'Yamamoto', 'Kowalski',
];

const TAGS = ['newsletter', 'in-store', 'online', 'local', 'birthday-club', 'promo-responsive', 'high-value', 'wholesale', 'staff', 'gift-buyer'];
const CATEGORIES = ['Apparel', 'Footwear', 'Accessories', 'Home', 'Beauty', 'Electronics', 'Grocery', 'Toys', 'Books', 'Outdoor'];
const AREA_CODES = ['415', '510', '650', '408', '212', '646', '718', '310', '323', '213', '312', '773', '617', '206', '512', '305', '702', '303', '404', '602', '503', '619', '214', '713', '202'];
const STREETS = ['Main St', 'Oak Ave', 'Maple St', 'Cedar Ln', 'Park Ave', 'Pine St', 'Elm St', 'Washington Blvd', 'Lake Dr', 'Hill Rd', 'Sunset Blvd', 'Market St', 'High St', 'Church Rd', 'Station Rd', 'King St', 'Queen St', 'Mission St', 'Broadway', 'River Rd'];

interface City {
  countryCode: string;
  country: string;
  city: string;
  state: string | null;
  stateCode: string | null;
  /** The postal code's fixed part; digits follow for numeric systems. */
  postal: string;
  /** Random digits appended to `postal`. */
  digits: number;
}

// Weight per country (sums to 100), cities drawn evenly within a country.
const COUNTRIES: { weight: number; cities: City[] }[] = [
  {
    weight: 68,
    cities: [
      ['San Francisco', 'California', 'CA', '941'], ['Los Angeles', 'California', 'CA', '900'], ['San Diego', 'California', 'CA', '921'],
      ['New York', 'New York', 'NY', '100'], ['Brooklyn', 'New York', 'NY', '112'], ['Chicago', 'Illinois', 'IL', '606'],
      ['Houston', 'Texas', 'TX', '770'], ['Austin', 'Texas', 'TX', '787'], ['Dallas', 'Texas', 'TX', '752'],
      ['Seattle', 'Washington', 'WA', '981'], ['Portland', 'Oregon', 'OR', '972'], ['Boston', 'Massachusetts', 'MA', '021'],
      ['Miami', 'Florida', 'FL', '331'], ['Atlanta', 'Georgia', 'GA', '303'], ['Denver', 'Colorado', 'CO', '802'],
      ['Phoenix', 'Arizona', 'AZ', '850'], ['Las Vegas', 'Nevada', 'NV', '891'], ['Washington', 'District of Columbia', 'DC', '200'],
    ].map(([city, state, stateCode, postal]) => ({ countryCode: 'US', country: 'United States', city: city!, state: state!, stateCode: stateCode!, postal: postal!, digits: 2 })),
  },
  {
    weight: 10,
    cities: [
      ['Toronto', 'Ontario', 'ON', 'M5V 2T'], ['Vancouver', 'British Columbia', 'BC', 'V6B 1A'], ['Montréal', 'Quebec', 'QC', 'H2X 1Y'],
      ['Calgary', 'Alberta', 'AB', 'T2P 2M'],
    ].map(([city, state, stateCode, postal]) => ({ countryCode: 'CA', country: 'Canada', city: city!, state: state!, stateCode: stateCode!, postal: postal!, digits: 1 })),
  },
  {
    weight: 8,
    cities: [['London', 'SW1A 1A'], ['Manchester', 'M1 1A'], ['Bristol', 'BS1 4D'], ['Edinburgh', 'EH1 1Y']].map(([city, postal]) => ({
      countryCode: 'GB', country: 'United Kingdom', city: city!, state: null, stateCode: null, postal: postal!, digits: 0,
    })),
  },
  {
    weight: 5,
    cities: [['Sydney', 'New South Wales', 'NSW', '20'], ['Melbourne', 'Victoria', 'VIC', '30'], ['Brisbane', 'Queensland', 'QLD', '40']].map(
      ([city, state, stateCode, postal]) => ({ countryCode: 'AU', country: 'Australia', city: city!, state: state!, stateCode: stateCode!, postal: postal!, digits: 2 }),
    ),
  },
  { weight: 3, cities: [['Berlin', '10'], ['München', '80'], ['Hamburg', '20']].map(([city, postal]) => ({ countryCode: 'DE', country: 'Germany', city: city!, state: null, stateCode: null, postal: postal!, digits: 3 })) },
  { weight: 2, cities: [['Paris', '750'], ['Lyon', '690']].map(([city, postal]) => ({ countryCode: 'FR', country: 'France', city: city!, state: null, stateCode: null, postal: postal!, digits: 2 })) },
  { weight: 2, cities: [['Ciudad de México', '06'], ['Guadalajara', '44']].map(([city, postal]) => ({ countryCode: 'MX', country: 'Mexico', city: city!, state: null, stateCode: null, postal: postal!, digits: 3 })) },
  { weight: 1, cities: [{ countryCode: 'IE', country: 'Ireland', city: 'Dublin', state: null, stateCode: null, postal: 'D02 X', digits: 3 }] },
  { weight: 1, cities: [{ countryCode: 'NL', country: 'Netherlands', city: 'Amsterdam', state: null, stateCode: null, postal: '101', digits: 1 }] },
];

/** 1,000 slots, each naming a city index, so a uniform draw over slots honours the country weights. */
function citySlots(): { cities: City[]; slots: number[] } {
  const cities = COUNTRIES.flatMap((c) => c.cities);
  const slots: number[] = [];
  let offset = 0;
  for (const country of COUNTRIES) {
    const n = country.weight * 10;
    for (let k = 0; k < n; k++) slots.push(offset + (k % country.cities.length) + 1); // 1-based for SQL arrays
    offset += country.cities.length;
  }
  return { cities, slots };
}

export interface GenerateOptions {
  /** A connection of its own: the helpers are session-local (pg_temp) functions. */
  client: pg.ClientBase;
  businessId: string;
  n: number;
  chunk?: number;
  /** Drop the tables' secondary indexes for the load and rebuild them after (own database only). */
  rebuildIndexes: boolean;
  /** Opens a second connection for building indexes two at a time. */
  connect?: () => Promise<pg.ClientBase & { end(): Promise<void> }>;
  /** "Now" for every date in the data (last orders within 2 years of it, and so on). */
  now: Date;
  /** Distinguishes this run's ids and external ids from another run's in the same database. */
  salt: string;
  onProgress?: (line: string) => void;
}

export interface GenerateReport {
  seconds: number;
  loadSeconds: number;
  indexSeconds: number;
  analyzeSeconds: number;
  rows: Record<string, number>;
}

export async function generateCustomers(o: GenerateOptions): Promise<GenerateReport> {
  const t0 = performance.now();
  const progress = o.onProgress ?? (() => undefined);
  const chunk = o.chunk ?? 100_000;
  if (!/^[0-9a-f]{1,32}$/.test(o.salt)) throw new Error('salt must be lowercase hex');
  const { client } = o;
  await client.query(`SET synchronous_commit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '1GB'`);
  await createHelpers(client, o.salt, o.now);

  let dropped: { name: string; def: string }[] = [];
  if (o.rebuildIndexes) {
    const { rows } = await client.query<{ name: string; def: string }>(
      `SELECT ci.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      [LOADED_TABLES],
    );
    dropped = rows;
    for (const r of rows) await client.query(`DROP INDEX public."${r.name}"`);
    progress(`dropped ${rows.length} secondary indexes for the load`);
  }

  const { cities, slots } = citySlots();
  const params = {
    first: FIRST_NAMES,
    last: LAST_NAMES,
    tags: TAGS,
    categories: CATEGORIES,
    areaCodes: AREA_CODES,
    streets: STREETS,
    slots,
    cc: cities.map((c) => c.countryCode),
    country: cities.map((c) => c.country),
    city: cities.map((c) => c.city),
    state: cities.map((c) => c.state),
    stateCode: cities.map((c) => c.stateCode),
    postal: cities.map((c) => c.postal),
    digits: cities.map((c) => c.digits),
  };
  const rows: Record<string, number> = Object.fromEntries(LOADED_TABLES.map((t) => [t, 0]));
  const l0 = performance.now();
  for (let from = 1; from <= o.n; from += chunk) {
    const to = Math.min(o.n, from + chunk - 1);
    const c0 = performance.now();
    const { rows: counts } = await client.query<Record<string, number>>(CHUNK_SQL, [
      from,
      to,
      o.businessId,
      params.first,
      params.last,
      params.tags,
      params.categories,
      params.areaCodes,
      params.streets,
      params.slots,
      params.cc,
      params.country,
      params.city,
      params.state,
      params.stateCode,
      params.postal,
      params.digits,
      o.salt,
    ]);
    for (const [table, count] of Object.entries(counts[0] ?? {})) rows[table] = (rows[table] ?? 0) + Number(count);
    progress(`generated customers ${from}-${to} in ${((performance.now() - c0) / 1000).toFixed(1)} s`);
  }
  const loadSeconds = (performance.now() - l0) / 1000;

  const i0 = performance.now();
  if (dropped.length > 0) await rebuild(client, dropped, o.connect, progress);
  const indexSeconds = (performance.now() - i0) / 1000;

  const a0 = performance.now();
  for (const t of LOADED_TABLES) await client.query(`VACUUM (ANALYZE) public."${t}"`);
  const analyzeSeconds = (performance.now() - a0) / 1000;
  await client.query(`RESET synchronous_commit; RESET work_mem; RESET maintenance_work_mem`);
  return { seconds: (performance.now() - t0) / 1000, loadSeconds, indexSeconds, analyzeSeconds, rows };
}

/** Two connections take indexes from one queue (GIN builds are single-threaded in PostgreSQL 15). */
async function rebuild(
  client: pg.ClientBase,
  indexes: { name: string; def: string }[],
  connect: GenerateOptions['connect'],
  progress: (line: string) => void,
): Promise<void> {
  const queue = [...indexes];
  const work = async (c: pg.ClientBase) => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const t = performance.now();
      await c.query(next.def);
      progress(`built ${next.name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  };
  const second = connect ? await connect() : undefined;
  try {
    if (second) await second.query(`SET maintenance_work_mem = '1GB'`);
    await Promise.all([work(client), ...(second ? [work(second)] : [])]);
  } finally {
    await second?.end();
  }
}

/**
 * Session-local helpers (pg_temp, gone with the connection; nothing is left in the database):
 * bench_u(i, k) a uniform [0, 1) draw per customer and purpose; bench_id(i) a version-4-shaped
 * UUID (the API validates ids as RFC UUIDs); bench_z(i, k) a standard normal (Box-Muller).
 */
async function createHelpers(client: pg.ClientBase, salt: string, now: Date): Promise<void> {
  await client.query(`
    CREATE OR REPLACE FUNCTION pg_temp.bench_u(i bigint, k int) RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS
      $$ SELECT (hashint8extended(i * 64 + k, 360) & 9007199254740991)::float8 / 9007199254740992.0 $$;
    CREATE OR REPLACE FUNCTION pg_temp.bench_z(i bigint, k int) RETURNS float8 IMMUTABLE PARALLEL SAFE LANGUAGE sql AS
      $$ SELECT sqrt(-2 * ln(1 - pg_temp.bench_u(i, k))) * cos(2 * pi() * pg_temp.bench_u(i, k + 1)) $$;
    CREATE OR REPLACE FUNCTION pg_temp.bench_id(i bigint) RETURNS uuid IMMUTABLE PARALLEL SAFE LANGUAGE sql AS
      $$ SELECT overlay(overlay(md5('${salt}:' || i) placing '4' from 13) placing '8' from 17)::uuid $$;
    CREATE OR REPLACE FUNCTION pg_temp.bench_now() RETURNS timestamptz IMMUTABLE PARALLEL SAFE LANGUAGE sql AS
      $$ SELECT '${now.toISOString()}'::timestamptz $$;
  `);
}

// One statement per chunk: `g` draws every customer's values once (materialised, as it is read by
// every insert); each table is a data-modifying CTE over it; the final SELECT counts the rows.
// Foreign keys to customers are checked at the end of the statement, after its rows exist.
const CHUNK_SQL = `
WITH base AS (
  SELECT i, pg_temp.bench_id(i) AS id,
    ($4::text[])[1 + floor(cardinality($4::text[]) * power(pg_temp.bench_u(i, 1), 1.3))::int] AS first_name,
    ($5::text[])[1 + floor(cardinality($5::text[]) * power(pg_temp.bench_u(i, 2), 1.3))::int] AS last_name,
    pg_temp.bench_u(i, 3) < 0.90 AS has_email,
    pg_temp.bench_u(i, 4) < 0.80 AS has_phone,
    pg_temp.bench_now() - make_interval(secs => 1095 * 86400 * power(pg_temp.bench_u(i, 5), 1.4)) AS created_at,
    pg_temp.bench_u(i, 6) AS u_status, pg_temp.bench_u(i, 7) AS u_type, pg_temp.bench_u(i, 8) AS u_tags,
    -- Orders: 18% none; of the buyers 75% occasional (geometric, mean 3), 25% regular (mean 12).
    CASE WHEN pg_temp.bench_u(i, 9) < 0.18 THEN 0
         ELSE least(500, 1 + floor(ln(1 - pg_temp.bench_u(i, 10))
                / ln(1 - 1.0 / CASE WHEN pg_temp.bench_u(i, 11) < 0.75 THEN 3 ELSE 12 END))::int) END AS orders,
    -- Average order value: lognormal with mean 45.
    exp(ln(45) - 0.18 + 0.6 * pg_temp.bench_z(i, 12)) AS aov,
    pg_temp.bench_u(i, 14) AS u_recency, pg_temp.bench_u(i, 15) AS u_first, pg_temp.bench_u(i, 16) AS u_cancel,
    pg_temp.bench_u(i, 17) AS u_return, pg_temp.bench_u(i, 18) AS u_churn, pg_temp.bench_u(i, 19) AS u_predicted,
    pg_temp.bench_u(i, 20) AS u_phone, pg_temp.bench_u(i, 21) AS u_email, pg_temp.bench_u(i, 22) AS u_sms,
    pg_temp.bench_u(i, 23) AS u_loyal, pg_temp.bench_u(i, 24) AS u_address, pg_temp.bench_u(i, 25) AS u_source,
    pg_temp.bench_u(i, 26) AS u_items, pg_temp.bench_u(i, 27) AS u_dob
  FROM generate_series($1::bigint, $2::bigint) AS i
), drawn AS (
  SELECT b.*,
    floor(b.orders * 0.06 * b.u_cancel * 2)::int AS cancelled,
    floor(b.orders * 0.08 * b.u_return * 2)::int AS returned,
    greatest(b.created_at, pg_temp.bench_now() - interval '730 days') AS window_start
  FROM base b
), g AS MATERIALIZED (
  SELECT o.*,
    greatest(o.orders - o.cancelled, 0) AS completed,
    CASE WHEN o.orders > 0 THEN pg_temp.bench_now()
      - (pg_temp.bench_now() - o.window_start) * power(o.u_recency, 1 + o.orders / 4.0) END AS last_order,
    lower(translate(o.first_name, 'áéíóúñüëçÁÉÍÓÚÑÜ'' -', 'aeiounuecAEIOUNU')) || '.'
      || lower(translate(o.last_name, 'áéíóúñüëçÁÉÍÓÚÑÜ'' -', 'aeiounuecAEIOUNU')) || '.' || o.i || '@example.com' AS email_address,
    ($8::text[])[1 + floor(cardinality($8::text[]) * pg_temp.bench_u(o.i, 30))::int] AS area,
    (200 + floor(800 * pg_temp.bench_u(o.i, 31)))::int AS exchange,
    lpad(floor(10000 * pg_temp.bench_u(o.i, 32))::text, 4, '0') AS line
  FROM drawn o
), m AS (
  SELECT g.*,
    round((g.completed * g.aov * (0.85 + 0.3 * g.u_first))::numeric, 2) AS spent,
    round((g.returned * g.aov * 0.8)::numeric, 2) AS refunded,
    CASE WHEN g.orders > 0 THEN g.created_at + (g.last_order - g.created_at) * power(g.u_first, 3) END AS first_order,
    CASE WHEN g.orders > 0 THEN extract(epoch FROM pg_temp.bench_now() - g.last_order) / 86400 END AS recency_days
  FROM g
), scored AS (
  SELECT m.*,
    greatest(m.spent - m.refunded, 0) AS net,
    round(least(1, greatest(0, CASE WHEN m.orders = 0 THEN 0.5 + 0.4 * m.u_churn
      ELSE 0.08 + 0.8 * m.recency_days / 730 + 0.2 * (m.u_churn - 0.5) - 0.02 * least(m.orders, 10) END))::numeric, 2) AS churn,
    m.u_loyal < CASE WHEN m.orders >= 3 THEN 0.8 ELSE 0.35 END AS loyalty_member
  FROM m
), c AS (
  INSERT INTO customers (id, email, phone, phone_normalized, first_name, last_name, status, customer_type, date_of_birth,
    created_at, updated_at, last_active_at, tags, custom_attributes, version)
  SELECT s.id,
    CASE WHEN s.has_email THEN s.email_address END,
    CASE WHEN NOT s.has_phone THEN NULL
         WHEN s.u_phone < 0.4 THEN '+1' || s.area || s.exchange || s.line
         WHEN s.u_phone < 0.7 THEN '(' || s.area || ') ' || s.exchange || '-' || s.line
         ELSE s.area || '-' || s.exchange || '-' || s.line END,
    CASE WHEN s.has_phone THEN '+1' || s.area || s.exchange || s.line END,
    s.first_name, s.last_name,
    CASE WHEN s.u_status < 0.88 THEN 'active' WHEN s.u_status < 0.95 THEN 'inactive' WHEN s.u_status < 0.98 THEN 'vip'
         WHEN s.u_status < 0.995 THEN 'pending' ELSE 'blocked' END,
    CASE WHEN NOT s.has_email OR s.u_type < 0.18 THEN 'guest' WHEN s.u_type < 0.95 THEN 'registered'
         WHEN s.u_type < 0.99 THEN 'wholesale' ELSE 'affiliate' END,
    CASE WHEN s.u_dob < 0.4 THEN date '1950-01-01' + floor(s.u_dob / 0.4 * 365 * 55)::int END,
    s.created_at,
    greatest(s.created_at, coalesce(s.last_order, s.created_at)),
    least(pg_temp.bench_now(), coalesce(s.last_order, s.created_at) + make_interval(secs => 3 * 86400 * s.u_items)),
    CASE WHEN s.u_tags < 0.45 THEN '{}'::text[]
         WHEN s.u_tags < 0.80 THEN ARRAY[($6::text[])[1 + floor(s.u_tags * 1000)::int % cardinality($6::text[])]]
         WHEN s.u_tags < 0.95 THEN ARRAY[($6::text[])[1 + floor(s.u_tags * 1000)::int % 5], ($6::text[])[6 + floor(s.u_tags * 7919)::int % 5]]
         ELSE ARRAY['newsletter', ($6::text[])[2 + floor(s.u_tags * 1000)::int % 4], ($6::text[])[6 + floor(s.u_tags * 7919)::int % 5]] END,
    CASE WHEN s.u_tags > 0.9 THEN jsonb_build_object('preferredContactTime', CASE WHEN s.u_sms < 0.5 THEN 'morning' ELSE 'evening' END)
         ELSE '{}'::jsonb END,
    1
  FROM scored s
  RETURNING 1
), bc AS (
  INSERT INTO business_customers (business_id, customer_id, email_lowercase, created_at, customer_created_at)
  SELECT $3::uuid, s.id, CASE WHEN s.has_email THEN lower(s.email_address) END, s.created_at, s.created_at FROM scored s
  RETURNING 1
), cm AS (
  INSERT INTO customer_metrics (customer_id, total_orders, completed_orders, cancelled_orders, returned_orders, total_spent,
    total_refunded, net_revenue, average_order_value, lifetime_value, total_items_purchased, favorite_category,
    first_order_date, last_order_date, email_opens, email_clicks, email_open_rate, email_click_rate, churn_probability,
    predicted_next_order_date, predicted_lifetime_value, propensity_score, calculated_at, updated_at)
  SELECT s.id, s.orders, s.completed, s.cancelled, s.returned, s.spent, s.refunded, s.net,
    CASE WHEN s.completed > 0 THEN round(s.spent / s.completed, 2) ELSE 0 END,
    s.net,
    s.completed * (1 + floor(3 * s.u_items))::int,
    CASE WHEN s.completed > 0 THEN ($7::text[])[1 + floor(cardinality($7::text[]) * power(s.u_items, 1.5))::int] END,
    (s.first_order AT TIME ZONE 'UTC')::date, (s.last_order AT TIME ZONE 'UTC')::date,
    floor(s.u_email * 40)::int, floor(s.u_email * s.u_email * 12)::int,
    round((s.u_email * 60)::numeric, 2), round((s.u_email * s.u_email * 18)::numeric, 2),
    s.churn,
    CASE WHEN s.u_predicted < 0.7 AND s.orders > 0
      THEN ((s.last_order + make_interval(days => (20 + floor(200 * s.u_churn))::int)) AT TIME ZONE 'UTC')::date END,
    CASE WHEN s.u_predicted < 0.7 THEN round((s.net * (0.3 + 1.7 * (1 - s.churn)) + 20 * s.u_predicted)::numeric, 2) END,
    CASE WHEN s.u_predicted < 0.7 THEN round(((1 - s.churn) * (0.5 + 0.5 * s.u_predicted))::numeric, 2) END,
    pg_temp.bench_now() - interval '6 hours', pg_temp.bench_now() - interval '6 hours'
  FROM scored s
  RETURNING 1
), ce AS (
  INSERT INTO customer_engagement (customer_id, email_consent, email_consent_date, total_emails_sent, total_emails_opened,
    total_emails_clicked, email_engagement_score, sms_consent, sms_consent_date, total_sms_sent, total_sessions,
    total_page_views, loyalty_member, loyalty_points, loyalty_lifetime_points, calculated_at, updated_at)
  SELECT s.id,
    s.has_email AND s.u_email < 0.6, CASE WHEN s.has_email AND s.u_email < 0.6 THEN s.created_at END,
    CASE WHEN s.has_email AND s.u_email < 0.6 THEN floor(extract(epoch FROM pg_temp.bench_now() - s.created_at) / 604800)::int ELSE 0 END,
    CASE WHEN s.has_email AND s.u_email < 0.6 THEN floor(extract(epoch FROM pg_temp.bench_now() - s.created_at) / 604800 * s.u_email * 0.6)::int ELSE 0 END,
    CASE WHEN s.has_email AND s.u_email < 0.6 THEN floor(extract(epoch FROM pg_temp.bench_now() - s.created_at) / 604800 * s.u_email * 0.1)::int ELSE 0 END,
    CASE WHEN s.has_email AND s.u_email < 0.6 THEN round(s.u_email::numeric, 2) END,
    s.has_phone AND s.u_sms < 0.3, CASE WHEN s.has_phone AND s.u_sms < 0.3 THEN s.created_at END,
    CASE WHEN s.has_phone AND s.u_sms < 0.3 THEN floor(extract(epoch FROM pg_temp.bench_now() - s.created_at) / 1209600)::int ELSE 0 END,
    s.orders + floor(s.orders * 3 * s.u_items)::int, (s.orders + floor(s.orders * 3 * s.u_items)::int) * 4,
    s.loyalty_member,
    CASE WHEN s.loyalty_member THEN floor(s.spent * (1 - 0.6 * s.u_loyal))::int ELSE 0 END,
    CASE WHEN s.loyalty_member THEN floor(s.spent)::int ELSE 0 END,
    pg_temp.bench_now() - interval '6 hours', pg_temp.bench_now() - interval '6 hours'
  FROM scored s
  RETURNING 1
), ca AS (
  INSERT INTO customer_addresses (customer_id, address_type, is_default, first_name, last_name, address_line1, city,
    state_province, state_province_code, country, country_code, postal_code, created_at, updated_at)
  SELECT s.id,
    CASE WHEN s.u_address < 0.3 THEN 'both' WHEN s.u_address < 0.5 THEN 'shipping' ELSE 'billing' END, true,
    s.first_name, s.last_name,
    (1 + floor(9999 * pg_temp.bench_u(s.i, 40)))::int || ' ' || ($9::text[])[1 + floor(cardinality($9::text[]) * pg_temp.bench_u(s.i, 41))::int],
    ($13::text[])[k.city], ($14::text[])[k.city], ($15::text[])[k.city], ($12::text[])[k.city], ($11::text[])[k.city],
    ($16::text[])[k.city] || CASE WHEN ($17::int[])[k.city] > 0
      THEN lpad(floor(power(10, ($17::int[])[k.city]) * pg_temp.bench_u(s.i, 42))::text, ($17::int[])[k.city], '0')
      ELSE chr(65 + floor(26 * pg_temp.bench_u(s.i, 42))::int) END,
    s.created_at, s.created_at
  FROM scored s CROSS JOIN LATERAL (SELECT ($10::int[])[1 + floor(1000 * pg_temp.bench_u(s.i, 43))::int] AS city) k
  WHERE s.u_address < 0.6
  RETURNING 1
), cs AS (
  INSERT INTO customer_sources (customer_id, source, external_id, source_data, first_synced_at, last_synced_at, created_at, updated_at)
  SELECT s.id,
    CASE WHEN s.u_source < 0.6 THEN 'square' ELSE 'lightspeed' END,
    CASE WHEN s.u_source < 0.6 THEN upper(substr(md5('sq:' || $18::text || s.i), 1, 26))
         ELSE 'bench-' || $18::text || ':' || s.i END,
    jsonb_build_object('locationId', CASE WHEN s.u_source < 0.3 THEN 'L-MAIN' ELSE 'L-ONLINE' END),
    s.created_at, pg_temp.bench_now() - interval '1 hour', s.created_at, pg_temp.bench_now() - interval '1 hour'
  FROM scored s
  WHERE s.u_source < 0.85
  RETURNING 1
)
SELECT (SELECT count(*) FROM c)::int AS customers, (SELECT count(*) FROM bc)::int AS business_customers,
  (SELECT count(*) FROM cm)::int AS customer_metrics, (SELECT count(*) FROM ce)::int AS customer_engagement,
  (SELECT count(*) FROM ca)::int AS customer_addresses, (SELECT count(*) FROM cs)::int AS customer_sources
`;
