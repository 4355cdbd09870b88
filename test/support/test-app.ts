// Boots the real application (createApplication, as start-up does) on a fresh test database
// and the in-process Firestore emulator, with helpers for tokens and businesses.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { Redis } from 'ioredis';
import { parseConfig, type Config } from '../../src/config.js';
import { createFirestore, type FirestoreHandle } from '../../src/firestore/firestore.client.js';
import { createApplication } from '../../src/service.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres-warehouse.js';
import type { Role } from '../../src/auth/tokens.js';
import type { Warehouse } from '../../src/warehouse/warehouse.port.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestApp extends ReturnType<typeof createApplication> {
  config: Config;
  database: TestDatabase;
  firestore: FirestoreHandle;
  /** A new business and an admin token for it. */
  newBusiness(name?: string): Promise<{ id: string; token: string }>;
  tokenFor(businessId: string, role?: Role): string;
  close(): Promise<void>;
}

export async function createTestApp(
  opts: { env?: Record<string, string>; redis?: Redis; firestore?: FirestoreHandle; warehouse?: Warehouse; logger?: Logger } = {},
): Promise<TestApp> {
  // The projector runs when a test drives it (drain), unless a test turns SYNC_IN_PROCESS on.
  // Export archives and uploads go to a directory of this test's own, removed on close.
  const storageDir = await mkdtemp(path.join(tmpdir(), 'c360-files-'));
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    SYNC_IN_PROCESS: 'false',
    // The work queues run when a test drives them (queueWorker.drain()), not in the background.
    JOBS_IN_PROCESS: 'false',
    EXPORT_STORAGE_DIR: storageDir,
    ...opts.env,
  });
  const database = await createTestDatabase();
  const firestore = opts.firestore ?? (await createFirestore({ kind: 'embedded', port: 0, projectId: 'demo-test' }));
  const logger = opts.logger ?? pino({ level: 'silent' });
  // A test may bring its own warehouse (BigQuery over the fake); the default is the test database's schema.
  const warehouse = opts.warehouse ?? new PostgresWarehouse(database.handle.db, config.warehouse.kind === 'postgres' ? config.warehouse.schema : 'warehouse');
  await warehouse.ensureSchema();
  const application = createApplication({
    config,
    logger,
    database: database.handle,
    firestore,
    redis: opts.redis,
    warehouse,
  });
  const tokenFor = (businessId: string, role: Role = 'admin') =>
    application.tokens.sign({ subject: `test-${role}`, role, businessId });
  return {
    ...application,
    config,
    database,
    firestore,
    tokenFor,
    newBusiness: async (name = 'Test business') => {
      const b = await application.businesses.create(name);
      return { id: b.id, token: tokenFor(b.id) };
    },
    close: async () => {
      await application.projector.stop();
      await application.queueWorker.stop();
      await firestore.close();
      await database.drop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
