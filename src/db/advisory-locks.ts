// Every PostgreSQL advisory lock key the service takes, in one place so no two jobs share one.
import type { DatabaseHandle } from './db.client.js';
export const ADVISORY_LOCKS = {
  migrations: 360_001,
  reconcile: 360_002,
  /** With hashtext(customer id) as the second key: one projector per customer at a time. */
  projection: 360_003,
  warehouseSchema: 360_004,
} as const;

/**
 * Runs fn while holding a session advisory lock, or returns `skipped` at once if another
 * instance holds it: a scheduled job runs once across instances.
 */
export async function withAdvisoryLock<T>(
  handle: DatabaseHandle,
  key: number,
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  if (handle.kind === 'pglite') {
    // One in-process connection: no other instance can share this database.
    return { ran: true, value: await fn() };
  }
  const client = await handle.pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (!rows[0]?.locked) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  } finally {
    client.release();
  }
}
