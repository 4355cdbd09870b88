// A fresh PostgreSQL database for one test file, cloned from the migrated template, dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/db.client.js';
import { databaseUrl, TEST_PG_ADMIN_URL } from './env.js';

export interface TestDatabase {
  name: string;
  url: string;
  handle: DatabaseHandle;
  /** A plain node-postgres pool on the same database, for assertions and fault injection. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `c360_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    const template = opts.migrated === false ? 'template0' : inject('templateDatabase');
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const handle = createDatabase({ kind: 'postgres', url, poolMax: 8 });
  if (handle.kind !== 'postgres') throw new Error('unreachable');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) ends connections a closing pool may still hold.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    handle,
    pool,
    drop: async () => {
      await handle.close();
      await pool.end();
      const a = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
