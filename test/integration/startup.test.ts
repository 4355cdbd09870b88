// Start-up as `npm start` does it: PGlite and the in-process Firestore emulator, migrations
// once under concurrency, and an invalid environment that lists every problem and exits 1.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/db.client.js';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate.js';
import { startService } from '../../src/service.js';
import { buildCustomer } from '../support/builders.js';
import { createTestDatabase } from '../support/test-database.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'c360-smoke-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start on embedded defaults', () => {
  const config = parseConfig({ PGLITE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });

  it('uses PGlite and the in-process emulator, serves the API with the demo token, and keeps data across a restart', async () => {
    expect(config.database.kind).toBe('pglite');
    expect(config.firestore.kind).toBe('embedded');
    expect(config.redis.kind).toBe('memory');

    const first = await startService(config, pino({ level: 'silent' }));
    let customerId: string;
    try {
      const ready = await fetch(`${first.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: { name: string }[] }).checks.map((c) => c.name)).toEqual(['postgres', 'firestore']);
      const headers = { Authorization: `Bearer ${first.demo!.token}`, 'Content-Type': 'application/json' };
      const created = await fetch(`${first.url}/api/v1/customers`, { method: 'POST', headers, body: JSON.stringify(buildCustomer({ firstName: 'Philippa', lastName: 'Woodhouse' })) });
      expect(created.status).toBe(201);
      customerId = ((await created.json()) as { data: { id: string } }).data.id;
      const openapi = await fetch(`${first.url}/api/v1/openapi.json`);
      expect(((await openapi.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/customers/{id}');
      // Demo mode ingests from the built-in POS simulator at once: linked customers show up.
      let status: { source: string; linkedPct: number | null; lastRun: { status: string } | null }[] = [];
      for (let i = 0; i < 120 && !(status.length === 2 && status.every((s) => s.lastRun?.status === 'succeeded')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const res = await fetch(`${first.url}/api/v1/ingest/status`, { headers });
        status = ((await res.json()) as { data: typeof status }).data;
      }
      expect(status.map((s) => [s.source, s.lastRun?.status, s.linkedPct])).toEqual([
        ['lightspeed', 'succeeded', 100],
        ['square', 'succeeded', 100],
      ]);
      const list = await fetch(`${first.url}/api/v1/customers?limit=200`, { headers });
      expect(((await list.json()) as { data: unknown[] }).data.length).toBeGreaterThan(100);
      // Search on PGlite too: a misspelt full name, and a misspelt single word.
      for (const q of ['philippa woodhuose', 'woodhose']) {
        const found = await fetch(`${first.url}/api/v1/customers?q=${encodeURIComponent(q)}`, { headers });
        expect(((await found.json()) as { data: { id: string }[] }).data.map((c) => c.id), q).toContain(customerId);
      }
    } finally {
      await first.close();
    }

    const second = await startService(config, pino({ level: 'silent' }));
    try {
      // Same demo business (seeded once) and the customer is still there.
      expect(second.demo!.businessId).toBe(first.demo!.businessId);
      const read = await fetch(`${second.url}/api/v1/customers/${customerId}`, {
        headers: { Authorization: `Bearer ${second.demo!.token}` },
      });
      expect(read.status).toBe(200);
    } finally {
      await second.close();
    }
  }, 120_000);
});

describe('migrations', () => {
  it('apply once when two instances start together', async () => {
    const db = await createTestDatabase({ migrated: false });
    const a = createDatabase({ kind: 'postgres', url: db.url, poolMax: 2 });
    const b = createDatabase({ kind: 'postgres', url: db.url, poolMax: 2 });
    try {
      await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
      const files = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'));
      const applied = await db.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(applied.rows[0].n).toBe(files.length);
      const tables = await db.pool.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
      expect(tables.rows[0].n).toBeGreaterThanOrEqual(12);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});

describe('configuration', () => {
  it('lists every problem of an invalid environment and exits 1', async () => {
    const failure = await run('npx', ['tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'abc', DATABASE_URL: 'http://not-postgres', JWT_SECRET: 'short', LOG_LEVEL: 'loud' },
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    for (const name of ['PORT', 'DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL']) expect(failure?.stderr).toContain(name);
  });

  it('refuses the development JWT secret in production', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });
});
