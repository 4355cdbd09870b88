// The erasure queue: customer_erasures rows are work-queue rows (src/jobs/work-queue.ts). After the
// request erased PostgreSQL, a worker runs the remaining steps (files, cache, warehouse, Firestore
// verification). A step the store refuses for now (BigQuery's streaming buffer) or that waits for
// the projector defers the row with RetryLater, which does not count as a failure. An error
// counts, but an erasure NEVER gives up (Art. 17: personal data may still be in the warehouse,
// files or caches): maxAttempts is unreachable, so it retries at the capped backoff (an hour)
// until it succeeds, and each failure's count and message (no PII) are kept on the record for an
// operator (GET /api/v1/erasures/{id}: failures, lastFailure).
import type { QueueHandler } from '../../jobs/queue-worker.js';
import { RetryLater, type QueueSpec } from '../../jobs/work-queue.js';
import type { ErasureService } from './erasure.service.js';

export const ERASURE_QUEUE: QueueSpec = {
  table: 'customer_erasures',
  leaseMs: 10 * 60_000,
  // Never FAILED: the largest value of the int attempts column, an hour apart is ~245,000 years.
  maxAttempts: 2_147_483_647,
  baseBackoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
};

export function erasureQueueHandler(erasures: ErasureService): QueueHandler {
  return {
    name: 'erasures',
    spec: ERASURE_QUEUE,
    async process(row, now) {
      try {
        await erasures.process(row.id, now);
      } catch (err) {
        if (!(err instanceof RetryLater)) {
          // Best effort: the queue records the failure (last_error, backoff) whatever happens here.
          await erasures.recordFailure(row.id, row.attempts, err, now).catch(() => undefined);
        }
        throw err;
      }
    },
  };
}
