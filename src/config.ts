// Every environment variable the service reads, parsed once with zod into a nested typed object.
// Nothing else in src/ reads process.env. Each variable is listed in the README's configuration table.
import cron from 'node-cron';
import { z } from 'zod';
import { DEFAULT_SOURCE_RANKING, parseSourceRanking } from './identity/survivorship.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const DEV_JWT_SECRET = 'dev-only-secret-change-me-in-production-0123456789';
// 32 bytes, base64. Seals POS credentials at rest; production must set its own.
export const DEV_CREDENTIALS_KEY = 'ZGV2LW9ubHktcG9zLWNyZWRlbnRpYWxzLWtleS0zMmI=';
const cronExpression = z.string().refine((v) => cron.validate(v), { message: 'must be a cron expression, e.g. */15 * * * *' });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  PGLITE_DATA_DIR: z.string().default('./data/pglite'),

  FIRESTORE_EMULATOR_HOST: optionalString,
  GOOGLE_APPLICATION_CREDENTIALS: optionalString,
  GOOGLE_CLOUD_PROJECT: z.string().default('demo-customer360'),
  EMBEDDED_FIRESTORE_PORT: int(0, 65535).default(0),

  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_JWT_SECRET),
  JWT_AUDIENCE: z.string().min(1).default('customer360-api'),
  JWT_ISSUER: z.string().min(1).default('customer360-auth'),
  JWT_EXPIRES_IN: z.string().regex(/^\d+[smhd]$/, 'must look like 15m, 24h or 7d').default('24h'),

  RATE_LIMIT_WINDOW_MS: int(1000, 3_600_000).default(60_000),
  RATE_LIMIT_MAX: int(1, 1_000_000).default(600),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/, 'must look like 256kb or 1mb').default('256kb'),

  DEMO_MODE: bool.optional(),

  SYNC_BATCH_SIZE: int(1, 5000).default(200),
  SYNC_MAX_ATTEMPTS: int(1, 100).default(10),
  SYNC_BACKOFF_BASE_MS: int(10, 3_600_000).default(1000),
  SYNC_BACKOFF_MAX_MS: int(10, 86_400_000).default(300_000),
  SYNC_POLL_INTERVAL_MS: int(50, 3_600_000).default(1000),
  SYNC_WAIT_TIMEOUT_MS: int(0, 60_000).default(3000),
  SYNC_FIRESTORE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  SYNC_IN_PROCESS: bool.default(true),
  RECONCILE_CRON: cronExpression.default('17 3 * * *'),
  JOBS_IN_PROCESS: bool.default(true),

  WAREHOUSE_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier').default('warehouse'),
  BIGQUERY_PROJECT_ID: optionalString,
  BIGQUERY_DATASET: z.string().regex(/^\w{1,1024}$/, 'must be letters, digits and underscores').default('customer360'),
  BIGQUERY_LOCATION: z.string().default('US'),
  BIGQUERY_API_ENDPOINT: optionalString.pipe(z.url().optional()),

  POS_CREDENTIALS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)' })
    .default(DEV_CREDENTIALS_KEY),
  SQUARE_API_URL: z.url().default('https://connect.squareup.com'),
  SQUARE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a Square-Version date like 2025-10-16').default('2025-10-16'),
  LIGHTSPEED_API_URL: z.url().default('https://api.lightspeedapp.com/API/V3'),
  LIGHTSPEED_TOKEN_URL: z.url().default('https://cloud.lightspeedapp.com/auth/oauth/token'),
  INGEST_SCHEDULE: cronExpression.default('*/15 * * * *'),
  INGEST_LOOKBACK_MINUTES: int(0, 7 * 24 * 60).default(60),
  INGEST_BACKFILL_DAYS: int(1, 3650).default(730),
  INGEST_MAX_RETRIES: int(0, 20).default(6),
  INGEST_BACKOFF_BASE_MS: int(1, 600_000).default(500),
  INGEST_BACKOFF_MAX_MS: int(1, 3_600_000).default(60_000),
  PREDICTIONS_CRON: cronExpression.default('30 2 * * *'),
  STANDING_CRON: cronExpression.default('20 * * * *'),
  JOBS_POLL_INTERVAL_MS: int(50, 3_600_000).default(2_000),
  EXPORT_STORAGE_DIR: z.string().min(1).default('data/exports'),
  IMPORT_MAX_BYTES: int(1, 10 * 1024 ** 3).default(100 * 1024 ** 2),
  BULK_MAX_CUSTOMERS: int(1, 1_000_000).default(10_000),
  SEARCH_SMALL_BUSINESS_MAX: int(0, 1_000_000).default(10_000),
  PREDICTION_MONTHLY_DISCOUNT_RATE: z.coerce.number().min(0).max(1).default(0.01),
  // 0 as in `lifetimes`: an L2 penalty on the raw parameters depends on the time unit (α in days is 7× α in weeks).
  PREDICTION_PENALIZER: z.coerce.number().min(0).max(10).default(0),
  INGEST_DEFAULT_PHONE_REGION: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO country code like US').default('US'),

  MEMORY_PROFILE_TTL_SECONDS: int(1, 86_400).default(300),
  MEMORY_LOADER_INTERVAL_MS: int(100, 3_600_000).default(30_000),
  MEMORY_LOADER_BATCH_SIZE: int(1, 10_000).default(500),
  // Survivorship of merged customers: sources, most trusted first (src/identity/survivorship.ts).
  MERGE_SOURCE_RANKING: z
    .string()
    .regex(/^\s*[A-Za-z0-9_-]{1,50}\s*(,\s*[A-Za-z0-9_-]{1,50}\s*)*$/, 'must be source names separated by commas, e.g. manual,square,lightspeed,import')
    .default(DEFAULT_SOURCE_RANKING.join(',')),
});

export type Env = z.input<typeof envSchema>;

export function parseConfig(env: Record<string, string | undefined>) {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${problems.join('\n')}`, problems);
  }
  const e = result.data;
  if (e.NODE_ENV === 'production' && e.JWT_SECRET === DEV_JWT_SECRET) {
    throw new ConfigError('Invalid environment:\n  JWT_SECRET: must be set in production', ['JWT_SECRET']);
  }
  if (e.NODE_ENV === 'production' && e.POS_CREDENTIALS_KEY === DEV_CREDENTIALS_KEY) {
    throw new ConfigError('Invalid environment:\n  POS_CREDENTIALS_KEY: must be set in production', ['POS_CREDENTIALS_KEY']);
  }
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, bodyLimit: e.BODY_LIMIT },
    log: { level: e.LOG_LEVEL },
    database: e.DATABASE_URL
      ? ({ kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX } as const)
      : ({ kind: 'pglite', dataDir: e.PGLITE_DATA_DIR } as const),
    firestore: e.FIRESTORE_EMULATOR_HOST
      ? ({ kind: 'emulator', host: e.FIRESTORE_EMULATOR_HOST, projectId: e.GOOGLE_CLOUD_PROJECT } as const)
      : e.GOOGLE_APPLICATION_CREDENTIALS
        ? ({ kind: 'google', projectId: e.GOOGLE_CLOUD_PROJECT } as const)
        : ({ kind: 'embedded', port: e.EMBEDDED_FIRESTORE_PORT, projectId: e.GOOGLE_CLOUD_PROJECT } as const),
    redis: e.REDIS_URL ? ({ kind: 'redis', url: e.REDIS_URL } as const) : ({ kind: 'memory' } as const),
    jwt: { secret: e.JWT_SECRET, audience: e.JWT_AUDIENCE, issuer: e.JWT_ISSUER, expiresIn: e.JWT_EXPIRES_IN },
    rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_MS, max: e.RATE_LIMIT_MAX },
    sync: {
      batchSize: e.SYNC_BATCH_SIZE,
      retry: { maxAttempts: e.SYNC_MAX_ATTEMPTS, baseDelayMs: e.SYNC_BACKOFF_BASE_MS, maxDelayMs: e.SYNC_BACKOFF_MAX_MS },
      pollIntervalMs: e.SYNC_POLL_INTERVAL_MS,
      waitTimeoutMs: e.SYNC_WAIT_TIMEOUT_MS,
      firestoreTimeoutMs: e.SYNC_FIRESTORE_TIMEOUT_MS,
      inProcess: e.SYNC_IN_PROCESS,
      reconcileCron: e.RECONCILE_CRON,
    },
    /** Cron jobs (ingest schedules) also run in the API process; advisory locks keep each tick single. */
    jobsInProcess: e.JOBS_IN_PROCESS,
    warehouse: e.BIGQUERY_PROJECT_ID
      ? ({
          kind: 'bigquery',
          projectId: e.BIGQUERY_PROJECT_ID,
          dataset: e.BIGQUERY_DATASET,
          location: e.BIGQUERY_LOCATION,
          apiEndpoint: e.BIGQUERY_API_ENDPOINT,
        } as const)
      : ({ kind: 'postgres', schema: e.WAREHOUSE_PG_SCHEMA } as const),
    ingest: {
      credentialsKey: e.POS_CREDENTIALS_KEY,
      square: { apiUrl: e.SQUARE_API_URL, version: e.SQUARE_API_VERSION },
      lightspeed: { apiUrl: e.LIGHTSPEED_API_URL, tokenUrl: e.LIGHTSPEED_TOKEN_URL },
      defaultSchedule: e.INGEST_SCHEDULE,
      lookbackMs: e.INGEST_LOOKBACK_MINUTES * 60_000,
      backfillDays: e.INGEST_BACKFILL_DAYS,
      retry: { maxRetries: e.INGEST_MAX_RETRIES, baseDelayMs: e.INGEST_BACKOFF_BASE_MS, maxDelayMs: e.INGEST_BACKOFF_MAX_MS },
      defaultPhoneRegion: e.INGEST_DEFAULT_PHONE_REGION,
    },
    memory: {
      profileTtlSeconds: e.MEMORY_PROFILE_TTL_SECONDS,
      loader: { intervalMs: e.MEMORY_LOADER_INTERVAL_MS, batchSize: e.MEMORY_LOADER_BATCH_SIZE },
      predictions: {
        cron: e.PREDICTIONS_CRON,
        monthlyDiscountRate: e.PREDICTION_MONTHLY_DISCOUNT_RATE,
        penalizer: e.PREDICTION_PENALIZER,
      },
    },
    standing: { cron: e.STANDING_CRON },
    identity: { sourceRanking: parseSourceRanking(e.MERGE_SOURCE_RANKING) },
    // Work queues (exports, erasures, imports): how often a worker looks for due rows, and where files go.
    jobs: { pollIntervalMs: e.JOBS_POLL_INTERVAL_MS, storageDir: e.EXPORT_STORAGE_DIR },
    // Largest import file accepted (bytes), and most customers one bulk operation may change.
    imports: { maxBytes: e.IMPORT_MAX_BYTES },
    bulk: { maxCustomers: e.BULK_MAX_CUSTOMERS },
    // A business with at most this many customers, under a fiftieth of all, is searched in one pass
    // over its own customers instead of through every business's indexes (0: never).
    search: { smallBusinessMax: e.SEARCH_SMALL_BUSINESS_MAX },
    // Demo mode seeds a demo business and prints a token; on by default except in production.
    demoMode: e.DEMO_MODE ?? e.NODE_ENV !== 'production',
  };
}

export type Config = ReturnType<typeof parseConfig>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

/** Reads the process environment; prints every problem and exits 1 when it is invalid. */
export function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
