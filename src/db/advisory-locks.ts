// Every PostgreSQL advisory lock key the service takes, in one place so no two jobs share one.
import type { DatabaseHandle } from './db.client.js';
export const ADVISORY_LOCKS = {
  migrations: 360_001,
  reconcile: 360_002,
  /** With hashtext(customer id) as the second key: one projector per customer at a time. */
  projection: 360_003,
  warehouseSchema: 360_004,
  /** With hashtext(connection id) as the second key: one ingestion run per POS connection at a time. */
  ingest: 360_005,
  /** One memory interactions loader at a time (its batches are read, upserted, then marked). */
  memoryLoader: 360_006,
  /** The nightly prediction job: one instance refits and rescores at a time. */
  predictions: 360_007,
  /** With hashtext(business id): one whole-business tier recalculation at a time. */
  tiers: 360_008,
  /** With hashtext(segment id): one recalculation of a segment at a time. */
  segment: 360_009,
  /** The scheduled standing job (due downgrades, rolling windows, time-relative segments). */
  standingSchedule: 360_010,
} as const;

/**
 * Runs fn while holding a session advisory lock, or returns `skipped` at once if another
 * instance holds it: a scheduled job runs once across instances.
 */
export async function withAdvisoryLock<T>(
  handle: DatabaseHandle,
  key: number | { key: number; id: string },
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  // Within one process a lock is held by name; this also covers PGlite, which has one connection
  // and no other instance that could share the database.
  const name = typeof key === 'number' ? String(key) : `${key.key}/${key.id}`;
  if (heldHere.has(name)) return { ran: false };
  heldHere.add(name);
  try {
    if (handle.kind === 'pglite') return { ran: true, value: await fn() };
    const [sqlArgs, params] = typeof key === 'number' ? ['$1', [key]] : ['$1, hashtext($2)', [key.key, key.id]];
    const client = await handle.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${sqlArgs}) AS locked`, params);
      if (!rows[0]?.locked) return { ran: false };
      try {
        return { ran: true, value: await fn() };
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${sqlArgs})`, params);
      }
    } finally {
      client.release();
    }
  } finally {
    heldHere.delete(name);
  }
}

const heldHere = new Set<string>();
