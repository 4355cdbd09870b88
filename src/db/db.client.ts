// Client factory for the system of record: node-postgres when DATABASE_URL is set, otherwise
// PGlite in-process (data on disk under PGLITE_DATA_DIR, so a restart keeps it).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import type { Config } from '../config.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything that runs queries: the database or an open transaction. */
export type Executor = Db | Tx;

export type DatabaseHandle =
  | { kind: 'postgres'; db: Db; pool: pg.Pool; url: string; describe: string; close(): Promise<void> }
  | { kind: 'pglite'; db: Db; client: PGlite; describe: string; close(): Promise<void> };

/**
 * Settings of every session:
 * - jit off: JIT compiles short OLTP statements whose correlated subqueries (segment criteria)
 *   inflate cost estimates; measured ~60 ms of compile per segment membership query.
 * - no parallel workers: under many concurrent short queries they only add processes (search at
 *   32 clients ran with the load average at 12 on two cores).
 */
const SESSION_SETTINGS: [string, string][] = [
  ['jit', 'off'],
  ['max_parallel_workers_per_gather', '0'],
];

export function createDatabase(config: Config['database']): DatabaseHandle {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolMax, options: SESSION_SETTINGS.map(([k, v]) => `-c ${k}=${v}`).join(' ') });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const url = new URL(config.url);
    return {
      kind: 'postgres',
      db: drizzlePg(pool, { schema }),
      pool,
      url: config.url,
      describe: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: () => pool.end(),
    };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const client = new PGlite(config.dataDir, { extensions: { pg_trgm } });
  // PGlite has one session: settings made now hold for every query.
  void client.exec(SESSION_SETTINGS.map(([k, v]) => `SET ${k} = ${v};`).join('\n'));
  return {
    kind: 'pglite',
    db: drizzlePglite(client, { schema }),
    client,
    describe: `PGlite (embedded) in ${config.dataDir}`,
    close: () => client.close(),
  };
}

/**
 * A uuid[] parameter: one bind value however many ids (a parameter per id would hit the protocol's
 * 65,535-parameter limit on a large batch). The ids come from the database or validated input.
 */
export const uuidArray = (ids: string[]): SQL => sql`${`{${ids.join(',')}}`}::uuid[]`;

/** A text[] parameter, one bind value like uuidArray; each element quoted, so any text is safe. */
export function textArray(items: string[]): SQL {
  if (items.length === 0) return sql`${'{}'}::text[]`;
  // Most lists (a search's spellings: hundreds) hold no quote or backslash: quoted as one string.
  const literal = /[\\"]/.test(items.join(''))
    ? `{${items.map((item) => `"${item.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`
    : `{"${items.join('","')}"}`;
  return sql`${literal}::text[]`;
}

/** Rows of a raw SQL query; node-postgres and PGlite both answer with `{ rows }`. */
export async function queryRows<T>(ex: Executor, query: SQL): Promise<T[]> {
  const result: unknown = await ex.execute(query);
  return (result as { rows: T[] }).rows;
}

/**
 * Statement shapes that may be prepared by name, at most: each is kept on every pooled connection
 * (node-postgres never forgets one), so a caller that built endless shapes would grow them all.
 */
const MAX_NAMED_SHAPES = 256;
const namedShapes = new Map<string, string>();
const dialect = new PgDialect();

/**
 * Rows of a raw SQL query that runs often with the same text and different values (a search):
 * prepared by name on each connection, so PostgreSQL parses it once per connection and, where
 * its generic plan is as good as a planned one, stops planning it. Planning a search statement
 * cost two to three times its execution. Past MAX_NAMED_SHAPES texts, it runs as queryRows does.
 */
export async function queryRowsPrepared<T>(ex: Executor, query: SQL): Promise<T[]> {
  const built = dialect.sqlToQuery(query);
  let name = namedShapes.get(built.sql);
  if (name === undefined && namedShapes.size < MAX_NAMED_SHAPES) {
    name = `q_${createHash('sha1').update(built.sql).digest('base64url').slice(0, 24)}`;
    namedShapes.set(built.sql, name);
  }
  const result: unknown = await ex._.session.prepareQuery(built, undefined, name, false).execute();
  return (result as { rows: T[] }).rows;
}
