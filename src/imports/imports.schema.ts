// The imports API's contract: the accepted file types, the upload's query, and the list and
// rejection-page queries. The file's rows are validated by import-row.ts.
import { z } from 'zod';
import { uuidId } from '../http/ids.js';

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Request Content-Type → file format. */
export const IMPORT_CONTENT_TYPES = {
  'text/csv': 'csv',
  [XLSX_CONTENT_TYPE]: 'xlsx',
} as const;

export const uploadQuery = z.strictObject({
  // Shown back in the import's record only; the stored file's name is ours.
  fileName: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    // eslint-disable-next-line no-control-regex
    .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), { message: 'must not contain control characters' })
    .optional(),
});

export const importIdParams = z.strictObject({ id: uuidId });

export const listImportsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const rejectionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The last row number of the previous page. */
  cursor: z.coerce.number({ message: 'is not a cursor this API returned' }).int().min(0).optional(),
});
