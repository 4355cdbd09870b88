// GDPR/CCPA erasure: request validation, the steps an erasure record keeps (no PII: counts,
// table names, storage keys and times) and the record as the API shows it.
import { z } from 'zod';
import { uuidId } from '../../http/ids.js';
import { ERASURE_STATUSES } from '../../db/schema/privacy.js';

const reason = z.string().trim().min(1, 'is required').max(1000);

/** `DELETE /customers/{id}?erase=true[&reason=…]`: the query of the erasure branch. */
export const eraseQuery = z.strictObject({
  erase: z.literal('true', { error: 'must be true (leave it out for a soft delete)' }),
  reason: reason.optional(),
});

/** The body of the erasure request; the reason may come here or in the query. */
export const eraseBody = z.object({ reason: reason.optional() }).loose();

export const erasureIdParams = z.strictObject({ id: uuidId });

export const listErasuresQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: z.enum(ERASURE_STATUSES).optional(),
  customerId: uuidId.optional(),
});
export type ListErasuresQuery = z.infer<typeof listErasuresQuery>;

/**
 * person: the customer belonged to this business only; the person's record is erased everywhere.
 * business: the customer is shared with other businesses; this business's link and everything it
 * holds about the person go, the shared identity stays for the others (see the README).
 */
export type ErasureScope = 'person' | 'business';
export type StepStatus = 'pending' | 'done';

export interface WarehouseTableStep {
  action: 'delete' | 'deidentify';
  status: StepStatus;
  /** Stored rows deleted or de-identified (on BigQuery, row versions), summed over the attempts that ran. */
  rows: number;
  /** Attempts BigQuery refused because rows were still in its streaming buffer. */
  refusals: number;
  completedAt?: string;
}

/** customer_erasures.steps: what each store reported. Nothing here identifies the person. */
export interface ErasureSteps {
  scope: ErasureScope;
  /** The customer, then duplicates merged into it (same person), whose records were erased. */
  customerIds: string[];
  postgres: { status: 'done'; completedAt: string; tables: Record<string, { action: string; rows: number }> };
  /** Export archives of the customer in file storage (keys are uuids, cleared once deleted). */
  files: { status: StepStatus; keys: string[]; deleted: number; completedAt?: string };
  cache: { status: StepStatus; completedAt?: string };
  warehouse: { status: StepStatus; tables: Record<string, WarehouseTableStep>; completedAt?: string };
  /**
   * Verified, never written: the projector removes the documents (or, for `business`, this
   * business's part). `requeued`: times the projector had given up (outbox row dead) and a
   * `repair` outbox row was appended so it tries again.
   */
  firestore: { status: StepStatus; documentsLeft?: number; checkedAt?: string; completedAt?: string; requeued?: number };
  /** Failed attempts of the job (it never gives up; see erasure-job.ts) and the last error, without PII. */
  failures?: { count: number; lastError: string; lastFailedAt: string };
}

export const STEP_NAMES = ['postgres', 'files', 'cache', 'warehouse', 'firestore'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface ErasureView {
  id: string;
  customerId: string;
  scope: ErasureScope;
  status: (typeof ERASURE_STATUSES)[number];
  reason: string;
  requestedBy: string;
  /** Steps not finished yet (e.g. `warehouse` while BigQuery's streaming buffer holds rows). */
  pendingSteps: StepName[];
  steps: { name: StepName; status: StepStatus; completedAt: string | null; detail: Record<string, unknown> }[];
  attempts: number;
  /** Attempts that failed with an error so far (the job keeps retrying at its capped backoff). */
  failures: number;
  /** The last failed attempt's error and time (lastError below may instead be the note of a deferral). */
  lastFailure: { error: string; at: string } | null;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}
