// Data exports (GDPR Art. 15 and 20, CCPA right to know): the API contract and the export record
// as the API shows it.
import { z } from 'zod';
import { uuidId } from '../../http/ids.js';
import { EXPORT_TYPES, type EXPORT_STATUSES } from '../../db/schema/index.js';

export type ExportType = (typeof EXPORT_TYPES)[number];
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** Archives are kept this long after the request, then deleted (status EXPIRED). */
export const EXPORT_RETENTION_DAYS = 30;

const uuid = uuidId;

export const exportRequestBody = z.strictObject({
  type: z.enum(EXPORT_TYPES, { message: `must be one of ${EXPORT_TYPES.join(', ')}` }),
  reason: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(1000, 'must be at most 1000 characters')
    .refine((s) => !s.includes('\u0000'), { message: 'must not contain NUL characters' })
    .optional(),
});
export type ExportRequest = z.output<typeof exportRequestBody>;

export const exportIdParams = z.strictObject({ id: uuid });
export const customerIdParams = z.strictObject({ id: uuid });
export const noQuery = z.strictObject({});
export const listExportsQuery = z.strictObject({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

/** An export as the API returns it (no file location: downloads go through the API). */
export interface ExportView {
  id: string;
  customerId: string;
  type: ExportType;
  status: ExportStatus;
  requestedBy: string;
  reason: string | null;
  attempts: number;
  /** Why the last attempt failed (never personal data). */
  lastError: string | null;
  sizeBytes: number | null;
  /** sha256 of the archive, hex. */
  checksum: string | null;
  expiresAt: string;
  startedAt: string | null;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set while the archive can be downloaded. */
  downloadUrl: string | null;
}
