// A work queue in a PostgreSQL table: rows that carry status, attempts, next_attempt_at,
// lease_expires_at and last_error (exports, erasures, imports). Any number of workers claim rows
// with FOR UPDATE SKIP LOCKED, so each row is processed by one worker at a time; a worker that
// dies loses its lease and the row is claimed again. Failures retry with exponential backoff and
// jitter until maxAttempts, then the row is FAILED. Time comes from the caller (JS clock), so
// tests can move it.
import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../db/db.client.js';

export type QueueTable = 'customer_data_exports' | 'customer_erasures' | 'customer_imports';

export interface QueueSpec {
  table: QueueTable;
  /** How long a claim holds before another worker may take the row over. */
  leaseMs: number;
  /** Failed attempts (thrown errors) before the row is FAILED. RetryLater does not count. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, capped at maxBackoffMs, with jitter. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export interface ClaimedRow {
  id: string;
  /** This attempt's number, from 1. */
  attempts: number;
}

/** Thrown by a handler when the work cannot finish yet (e.g. rows in BigQuery's streaming buffer). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

const table = (spec: QueueSpec) => sql.identifier(spec.table);

/**
 * Claims the next due row (PENDING and due, or PROCESSING with an expired lease). A row whose
 * worker was lost on its last attempt is FAILED instead of being tried once more.
 */
export async function claimNext(ex: Executor, spec: QueueSpec, now: Date): Promise<ClaimedRow | undefined> {
  const at = now.toISOString();
  await ex.execute(
    sql`UPDATE ${table(spec)} SET status = 'FAILED', lease_expires_at = NULL, last_error = 'the worker was lost during the last attempt', updated_at = ${at}::timestamptz
        WHERE status = 'PROCESSING' AND lease_expires_at < ${at}::timestamptz AND attempts >= ${spec.maxAttempts}`,
  );
  const lease = new Date(now.getTime() + spec.leaseMs).toISOString();
  const [row] = await queryRows<ClaimedRow>(
    ex,
    sql`UPDATE ${table(spec)} SET status = 'PROCESSING', attempts = attempts + 1, lease_expires_at = ${lease}::timestamptz, updated_at = ${at}::timestamptz
        WHERE id = (SELECT id FROM ${table(spec)}
                    WHERE (status = 'PENDING' AND next_attempt_at <= ${at}::timestamptz)
                       OR (status = 'PROCESSING' AND lease_expires_at < ${at}::timestamptz)
                    ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, attempts`,
  );
  return row;
}

/** Delay before the next attempt after `attempts` failures: base·2^(attempts−1), capped, ±25 % jitter. */
export function backoffMs(spec: QueueSpec, attempts: number, random: () => number = Math.random): number {
  const plain = Math.min(spec.maxBackoffMs, spec.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(plain * (0.75 + random() * 0.5));
}

/** Only the claim that is still current may settle a row: a worker whose lease expired (and whose row another worker took over) changes nothing. */
const stillClaimed = (row: ClaimedRow) => sql`id = ${row.id} AND status = 'PROCESSING' AND attempts = ${row.attempts}`;

/**
 * Records a failed attempt: back to PENDING after a backoff, or FAILED once maxAttempts is
 * reached. Returns the status written. The message must not hold PII (it is shown by the API).
 */
export async function recordFailure(ex: Executor, spec: QueueSpec, row: ClaimedRow, message: string, now: Date): Promise<'PENDING' | 'FAILED'> {
  const status = row.attempts >= spec.maxAttempts ? 'FAILED' : 'PENDING';
  const next = new Date(now.getTime() + backoffMs(spec, row.attempts)).toISOString();
  await ex.execute(
    sql`UPDATE ${table(spec)} SET status = ${status}, next_attempt_at = ${next}::timestamptz, lease_expires_at = NULL,
          last_error = ${message.slice(0, 2000)}, updated_at = ${now.toISOString()}::timestamptz
        WHERE ${stillClaimed(row)}`,
  );
  return status;
}

/** Puts the row back to PENDING, due after `delayMs`, without counting it as a failure. */
export async function retryLater(ex: Executor, spec: QueueSpec, row: ClaimedRow, delayMs: number, note: string, now: Date): Promise<void> {
  const next = new Date(now.getTime() + delayMs).toISOString();
  await ex.execute(
    sql`UPDATE ${table(spec)} SET status = 'PENDING', attempts = attempts - 1, next_attempt_at = ${next}::timestamptz, lease_expires_at = NULL,
          last_error = ${note.slice(0, 2000)}, updated_at = ${now.toISOString()}::timestamptz
        WHERE ${stillClaimed(row)}`,
  );
}
