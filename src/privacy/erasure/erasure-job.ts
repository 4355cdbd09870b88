// The erasure queue: customer_erasures rows are work-queue rows (src/jobs/work-queue.ts). After the
// request erased PostgreSQL, a worker runs the remaining steps (files, cache, warehouse, Firestore
// verification). A step the store refuses for now (BigQuery's streaming buffer) or that waits for
// the projector defers the row with RetryLater, which does not count as a failure; an error counts
// and, after maxAttempts, leaves the record FAILED with the message (no PII) for an operator.
import type { QueueHandler } from '../../jobs/queue-worker.js';
import type { QueueSpec } from '../../jobs/work-queue.js';
import type { ErasureService } from './erasure.service.js';

export const ERASURE_QUEUE: QueueSpec = {
  table: 'customer_erasures',
  leaseMs: 10 * 60_000,
  maxAttempts: 10,
  baseBackoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
};

export function erasureQueueHandler(erasures: ErasureService): QueueHandler {
  return {
    name: 'erasures',
    spec: ERASURE_QUEUE,
    process: (row, now) => erasures.process(row.id, now),
  };
}
