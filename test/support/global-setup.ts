// Once per test run: build a template database with every migration applied (named by a hash
// of the migrations, so it is rebuilt only when they change). Test files clone it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/db/db.client.js';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate.js';
import { databaseUrl, TEST_PG_ADMIN_URL } from './env.js';

function migrationsHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(MIGRATIONS_FOLDER);
  return hash.digest('hex').slice(0, 12);
}

export default async function setup(project: TestProject) {
  const template = `c360_tpl_${migrationsHash()}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${template}_building"`).catch(async () => {
        await admin.query(`DROP DATABASE IF EXISTS "${template}_building" WITH (FORCE)`);
        await admin.query(`CREATE DATABASE "${template}_building"`);
      });
      const handle = createDatabase({ kind: 'postgres', url: databaseUrl(`${template}_building`), poolMax: 2 });
      await migrateDatabase(handle);
      await handle.close();
      await admin.query(`ALTER DATABASE "${template}_building" RENAME TO "${template}"`);
    }
  } finally {
    await admin.end();
  }
  project.provide('templateDatabase', template);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
