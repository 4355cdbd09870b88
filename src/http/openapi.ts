// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject } from 'zod-openapi';
import {
  customerIdParams,
  customerInput,
  customerPatch,
  listCustomersQuery,
  readQuery,
  writeQuery,
} from '../customers/customers.schema.js';
import { ERROR_STATUS } from '../errors.js';
import { segmentCriteriaSchema } from '../segments/segment-criteria.js';
import { createSegmentBody, listSegmentsQuery, segmentIdParams, segmentMembersPageQuery, updateSegmentBody } from '../segments/segments.schema.js';
import { auditsQuery, tierOverrideInput, updateTierConfiguration } from '../tiers/tiers.schema.js';
import { analyticsOverviewBody, analyticsOverviewQuery } from '../analytics/analytics.routes.js';
import { timelineItem, timelineQuery } from '../customers/timeline.routes.js';
import { domainEventBody, listEventsQuery } from '../events/events.routes.js';
import { SYNC_OPERATIONS, SYNC_STATUSES } from '../db/schema/index.js';
import { listSyncLogsQuery, retrySyncLogsBody, syncHealthQuery } from '../sync/sync.schema.js';
import { ingestStatusQuery, listIngestRunsQuery } from '../ingest/ingest.schema.js';
import { customerIdParams as memoryCustomerParams, learnBody, purchaseBody } from '../memory/memory.schema.js';
import { audienceQuery, audienceRecipientBody, preferencesBody, preferencesUpdate } from '../preferences/preferences.schema.js';
import { EXPORT_STATUSES, EXPORT_TYPES } from '../db/schema/privacy.js';
import { customerIdParams as exportCustomerParams, exportIdParams, exportRequestBody, listExportsQuery } from '../privacy/exports/exports.schema.js';
import { ERASURE_STATUSES } from '../db/schema/privacy.js';
import { eraseBody, eraseQuery, erasureIdParams, listErasuresQuery, STEP_NAMES } from '../privacy/erasure/erasure.schema.js';
import { duplicatesQuery, idParams as mergeIdParams, listMergesQuery, mergeBody } from '../identity/merge.schema.js';
import { IMPORT_FORMATS, IMPORT_STATUSES } from '../db/schema/privacy.js';
import { importIdParams, listImportsQuery, rejectionsQuery, uploadQuery, XLSX_CONTENT_TYPE } from '../imports/imports.schema.js';
import { bulkOperationIdParams, bulkRequestDoc, listBulkOperationsQuery } from '../bulk/bulk.schema.js';

const errorBody = z
  .object({
    success: z.literal(false),
    error: z.string(),
    code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
    details: z.unknown().optional(),
    requestId: z.string(),
    timestamp: z.string(),
  })
  .meta({ id: 'Error' });

const customerBody = z
  .looseObject({
    id: z.uuid(),
    version: z.number().int(),
    businessIds: z.array(z.uuid()),
    createdAt: z.string(),
    updatedAt: z.string(),
    deletedAt: z.string().nullable(),
  })
  .meta({ id: 'Customer', description: 'The whole customer aggregate as PostgreSQL holds it.' });

const writeMeta = z.object({
  version: z.number().int(),
  changed: z.boolean(),
  sync: z.enum(['completed', 'pending']),
});

const syncDay = z.object({
  date: z.string().meta({ description: 'UTC day, YYYY-MM-DD' }),
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int().meta({ description: 'pending or processing' }),
  dead: z.number().int(),
});

const syncHealthBody = z
  .object({
    days: z.array(syncDay).meta({ description: 'The last 7 UTC days, oldest first, zero-filled; rows counted by created day and current status' }),
    backlog: z.number().int().meta({ description: 'Rows pending, processing or failed now' }),
    dead: z.number().int().meta({ description: 'Rows dead now' }),
    oldestPendingAgeSeconds: z.number().nullable().meta({ description: 'Age of the oldest backlog row (the sync lag); null when the backlog is empty' }),
  })
  .meta({ id: 'SyncHealth' });

const syncLogBody = z
  .object({
    id: z.uuid(),
    entityType: z.string(),
    entityId: z.uuid(),
    operation: z.enum(SYNC_OPERATIONS),
    entityVersion: z.number().int(),
    firestoreStatus: z.enum(SYNC_STATUSES),
    retryCount: z.number().int(),
    errorMessage: z.string().nullable(),
    changedFields: z.array(z.string()),
    contentHash: z.string(),
    nextAttemptAt: z.string(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'SyncLog', description: 'One outbox row: ids, a content hash and changed field names, never PII values.' });

const streamStats = z.object({ pages: z.number().int(), rows: z.number().int(), quarantined: z.number().int() });
const ingestRunBody = z
  .object({
    id: z.uuid(),
    connectionId: z.uuid(),
    provider: z.enum(['square', 'lightspeed']),
    trigger: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    pages: z.number().int(),
    rows: z.number().int(),
    quarantined: z.number().int(),
    linked: z.number().int().meta({ description: 'Transactions naming a customer, linked to a profile' }),
    unlinked: z.number().int().meta({ description: 'Transactions naming no customer (counted, not linked)' }),
    profilesCreated: z.number().int(),
    streams: z.record(z.string(), streamStats),
    error: z.string().nullable(),
  })
  .meta({ id: 'IngestRun' });
const ingestStatusBody = z
  .object({
    source: z.enum(['square', 'lightspeed']),
    connections: z.number().int(),
    lastSuccessAt: z.string().nullable(),
    lagSeconds: z.number().int().nullable().meta({ description: 'Seconds since the last successful run finished' }),
    lastRun: z.object({ status: z.string(), startedAt: z.string(), error: z.string().nullable() }).nullable(),
    transactions: z.number().int(),
    transactionsNamingCustomer: z.number().int(),
    linked: z.number().int(),
    linkedPct: z.number().nullable(),
    quarantined: z.number().int(),
  })
  .meta({ id: 'IngestSourceStatus' });

const memoryProfileBody = z
  .looseObject({
    customerId: z.uuid(),
    version: z.literal('1.0'),
    generatedAt: z.string(),
    identity: z.looseObject({}).optional().meta({ description: 'Only for roles that may read customers (PII)' }),
    preferences: z.looseObject({}),
    behavioral: z.looseObject({}),
    conversationHistory: z.looseObject({}),
    communication: z.looseObject({}),
    predictions: z.looseObject({}).nullable(),
    membership: z.looseObject({}).nullable(),
  })
  .meta({ id: 'MemoryProfile', description: 'The unified customer profile, cached for MEMORY_PROFILE_TTL_SECONDS and dropped on every memory write' });
const cacheMeta = z.object({ cache: z.enum(['hit', 'miss']) });
// The memory API lives beside /api/v1, under /api/memory.
const memoryServers = [{ url: '/api' }];

const errors = (...statuses: (keyof typeof ERROR_STATUS)[]) =>
  Object.fromEntries(
    statuses.map((code) => [
      String(ERROR_STATUS[code]),
      { description: code, content: { 'application/json': { schema: errorBody } } },
    ]),
  );

const ok = (description: string, data: z.ZodType, meta?: z.ZodType) => ({
  description,
  content: { 'application/json': { schema: z.object({ success: z.literal(true), data, ...(meta ? { meta } : {}) }) } },
});

const common = errors('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', 'INTERNAL_ERROR');
const ifMatch = z.object({ 'if-match': z.string().optional().meta({ description: 'Expected version, e.g. "v3"' }) });

const tierConfigurationBody = z
  .looseObject({ thresholds: updateTierConfiguration.shape.thresholds, downgradeGraceDays: z.number().int(), isDefault: z.boolean(), updatedBy: z.string().nullable() })
  .meta({ id: 'TierConfiguration' });
const recalculationBody = z
  .looseObject({ runId: z.uuid().nullable(), status: z.enum(['completed', 'deferred', 'skipped']), changed: z.number().int().optional(), entered: z.number().int().optional(), exited: z.number().int().optional() })
  .meta({ id: 'Recalculation', description: 'deferred: a recalculation already running picks the change up when it ends; skipped: a static segment (members assigned by bulk operations, never recalculated)' });
const segmentBody = z
  .looseObject({ id: z.uuid(), name: z.string(), description: z.string().nullable(), kind: z.enum(['dynamic', 'static']), criteria: segmentCriteriaSchema.nullable().meta({ description: 'null for a static segment' }), isActive: z.boolean(), timeRelative: z.boolean(), customerCount: z.number().int(), lastRecalculated: z.string().nullable() })
  .meta({ id: 'Segment' });
const paged = z.object({ nextCursor: z.string().nullable(), limit: z.number().int() });
const erasureBody = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    scope: z.enum(['person', 'business']).meta({ description: 'person: the whole record erased; business: a customer shared with other businesses, this business’s link and data erased' }),
    status: z.enum(ERASURE_STATUSES),
    reason: z.string(),
    requestedBy: z.string(),
    pendingSteps: z.array(z.enum(STEP_NAMES)).meta({ description: 'Steps not done yet, e.g. warehouse while BigQuery’s streaming buffer holds rows (retried by the job)' }),
    steps: z.array(
      z.object({
        name: z.enum(STEP_NAMES),
        status: z.enum(['pending', 'done']),
        completedAt: z.string().nullable(),
        detail: z.looseObject({}).meta({ description: 'Per table: action (delete, overwrite, unlink, deidentify) and row counts; never values' }),
      }),
    ),
    attempts: z.number().int(),
    failures: z.number().int().meta({ description: 'Attempts that failed with an error; an erasure never gives up, it retries at its capped backoff (an hour)' }),
    lastFailure: z.object({ error: z.string(), at: z.string() }).nullable().meta({ description: 'The last failed attempt (no personal data)' }),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'Erasure', description: 'Proof of a GDPR/CCPA erasure, without personal data: who, why, when, what each store did.' });

const exportBody = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    type: z.enum(EXPORT_TYPES).meta({ description: 'GDPR_FULL: everything (Art. 15); GDPR_BASIC: profile and transactions; BUSINESS_ANALYTICS: aggregates, no personal data' }),
    status: z.enum(EXPORT_STATUSES),
    requestedBy: z.string(),
    reason: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    sizeBytes: z.number().int().nullable(),
    checksum: z.string().nullable().meta({ description: 'sha256 of the archive, hex' }),
    expiresAt: z.string().meta({ description: '30 days after the request: the archive is deleted and the export EXPIRED' }),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    downloadUrl: z.string().nullable(),
  })
  .meta({ id: 'DataExport', description: 'A GDPR/CCPA data export request: PENDING → PROCESSING → COMPLETED | FAILED, then EXPIRED' });

const duplicatePairBody = z
  .object({
    customerIds: z.tuple([z.uuid(), z.uuid()]).meta({ description: 'The pair, lower id first' }),
    score: z.number().min(0).max(1).meta({ description: '1 − Π(1 − weight) over the evidence: email 0.9, phone 0.8, name 0.5 × similarity; × 0.7 when the names differ (similarity < 0.3)' }),
    reasons: z.array(
      z.object({ rule: z.enum(['email', 'phone', 'name']), detail: z.string(), similarity: z.number().optional() }).meta({ description: 'Which rule matched (never the values)' }),
    ),
    customers: z.array(z.looseObject({ id: z.uuid() }).nullable()).meta({ description: 'Both customers: id, names, email, phone, createdAt' }),
  })
  .meta({ id: 'DuplicatePair' });

const mergeView = z
  .object({
    id: z.uuid(),
    businessId: z.uuid(),
    survivorId: z.uuid(),
    mergedId: z.uuid(),
    mergedBy: z.string(),
    reason: z.string().nullable(),
    decisions: z.looseObject({}).meta({
      description:
        'ranking, sources (the source each record was trusted as), fields (per field: rule, from survivor|merged|both, source, at; never values), preferences, moved (row counts); after an undo, undo (restored, removed, keptChanged, notRestored, movedBack)',
    }),
    createdAt: z.string(),
    undoUntil: z.string().meta({ description: '30 days after the merge' }),
    undoneAt: z.string().nullable(),
    undoneBy: z.string().nullable(),
    status: z.enum(['active', 'undone', 'final']).meta({ description: 'final: the undo window has closed' }),
  })
  .meta({ id: 'Merge', description: 'A merge of mergedId into survivorId (the pre-merge snapshot, which holds personal data, is never returned)' });

const importBody = z
  .object({
    id: z.uuid(),
    status: z.enum(IMPORT_STATUSES),
    format: z.enum(IMPORT_FORMATS),
    fileName: z.string().nullable(),
    sizeBytes: z.number().int(),
    bytesRead: z.number().int().meta({ description: 'Progress while PROCESSING; equals sizeBytes once COMPLETED' }),
    rowsProcessed: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    rejected: z.number().int().meta({ description: 'Rows refused: GET /imports/{id}/rejections says why' }),
    attempts: z.number().int(),
    lastError: z.string().nullable().meta({ description: 'Why the import failed (e.g. an unknown column), or why the last attempt did' }),
    requestedBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'CustomerImport', description: 'A CSV/Excel import: PENDING → PROCESSING → COMPLETED | FAILED, with its progress and counts' });
const importRejectionBody = z
  .object({ rowNumber: z.number().int().meta({ description: 'Data row, from 1 (the header is row 0; empty rows are not counted)' }), errors: z.array(z.object({ field: z.string(), message: z.string() })) })
  .meta({ id: 'ImportRejection', description: 'The column and the reason, never the value' });
const bulkOperationBody = z
  .looseObject({
    id: z.uuid(),
    operation: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    matched: z.number().int(),
    changed: z.number().int(),
    skipped: z.number().int().meta({ description: 'Left unchanged because the change would break a rule (more than 100 tags)' }),
    unchanged: z.number().int(),
    selection: z.looseObject({}).meta({ description: '{ customerIds } or { filter }; a filter’s free-text q is kept as { redacted: true, length }' }),
    durationMs: z.number().int().nullable(),
  })
  .meta({ id: 'BulkOperation', description: 'The audit of a bulk operation: what, on whom (selection), by whom, why, counts' });

const op = (o: ZodOpenApiOperationObject): ZodOpenApiOperationObject => ({ security: [{ bearer: [] }], ...o });

export function buildOpenApiDocument() {
  return createDocument(
    {
      openapi: '3.1.0',
      info: { title: 'Customer 360 operations API', version: '1.0.0' },
      servers: [{ url: '/api/v1' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      paths: {
        '/customers': {
          get: op({
            summary: 'List and search customers: filters, typo-tolerant text over name, email and phone (exact names, then containing matches and spellings one edit per word away, newest first within each), cursor paged',
            requestParams: { query: listCustomersQuery },
            responses: { '200': ok('A page of customers', z.array(customerBody), z.object({ nextCursor: z.string().nullable() })), ...errors('INVALID_INPUT'), ...common },
          }),
          post: op({
            summary: 'Create a customer',
            requestParams: { query: writeQuery },
            requestBody: { content: { 'application/json': { schema: customerInput } } },
            responses: { '201': ok('Created', customerBody, writeMeta), ...errors('INVALID_INPUT', 'CONFLICT', 'PAYLOAD_TOO_LARGE'), ...common },
          }),
        },
        '/tiers/configuration': {
          get: op({ summary: 'The tier thresholds in force (the defaults until the business saves its own)', responses: { '200': ok('The configuration', tierConfigurationBody), ...common } }),
          put: op({
            summary: 'Save thresholds (audited, with a reason; admin only) and re-evaluate every customer of the business',
            requestBody: { content: { 'application/json': { schema: updateTierConfiguration } } },
            responses: { '200': ok('Saved', tierConfigurationBody, z.object({ recalculation: recalculationBody })), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/tiers/audits': {
          get: op({ summary: 'Threshold changes, newest first: who, when, previous and new values, reason', requestParams: { query: auditsQuery }, responses: { '200': ok('A page of audits', z.array(z.looseObject({})), paged), ...errors('INVALID_INPUT'), ...common } }),
        },
        '/tiers/recalculate': {
          post: op({ summary: 'Re-evaluate every customer’s tier now (admin only; one run per business at a time)', responses: { '200': ok('The run', recalculationBody), ...errors('CONFLICT'), ...common } }),
        },
        '/customers/{id}/tier-override': {
          put: op({
            summary: 'Pin the customer’s tier, with a reason (admin only)',
            requestParams: { path: customerIdParams },
            requestBody: { content: { 'application/json': { schema: tierOverrideInput } } },
            responses: { '200': ok('The customer', customerBody, z.object({ version: z.number().int(), changed: z.boolean() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
          delete: op({
            summary: 'Clear the override: evaluation takes over (a customer above what they qualify for enters the grace period)',
            requestParams: { path: customerIdParams },
            responses: { '200': ok('The customer', customerBody, z.object({ version: z.number().int(), changed: z.boolean() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/segments': {
          get: op({ summary: 'Segments of the business with their sizes (newest first)', requestParams: { query: listSegmentsQuery }, responses: { '200': ok('A page of segments', z.array(segmentBody), paged), ...errors('INVALID_INPUT'), ...common } }),
          post: op({
            summary: 'Create a segment: dynamic (the default; criteria required, members calculated at once) or static (no criteria; members assigned by POST /customers/bulk)',
            requestBody: { content: { 'application/json': { schema: createSegmentBody.safeExtend({ criteria: segmentCriteriaSchema.optional() }) } } },
            responses: { '201': ok('Created', segmentBody, z.object({ recalculation: recalculationBody })), ...errors('INVALID_INPUT', 'CONFLICT'), ...common },
          }),
        },
        '/segments/{id}': {
          get: op({ summary: 'One segment', requestParams: { path: segmentIdParams }, responses: { '200': ok('The segment', segmentBody), ...errors('NOT_FOUND'), ...common } }),
          put: op({
            summary: 'Change name, description, criteria or isActive; members are recalculated',
            requestParams: { path: segmentIdParams },
            requestBody: { content: { 'application/json': { schema: updateSegmentBody } } },
            responses: { '200': ok('Updated', segmentBody, z.object({ recalculation: recalculationBody })), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'), ...common },
          }),
          delete: op({ summary: 'Delete a segment: every member leaves it', requestParams: { path: segmentIdParams }, responses: { '200': ok('Deleted', z.object({ id: z.uuid(), deleted: z.literal(true) }), z.object({ recalculation: recalculationBody })), ...errors('NOT_FOUND'), ...common } }),
        },
        '/segments/{id}/recalculate': {
          post: op({ summary: 'Recalculate the segment’s members now (entered and exited counts)', requestParams: { path: segmentIdParams }, responses: { '200': ok('The run', recalculationBody), ...errors('NOT_FOUND', 'CONFLICT'), ...common } }),
        },
        '/segments/{id}/customers': {
          get: op({ summary: 'Members in customer id order (cursor = the last id)', requestParams: { path: segmentIdParams, query: segmentMembersPageQuery }, responses: { '200': ok('A page of members', z.array(z.looseObject({ id: z.uuid() })), paged), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common } }),
        },
        '/recalculations': {
          get: op({ summary: 'Tier and segment recalculation runs, newest first', responses: { '200': ok('A page of runs', z.array(z.looseObject({ id: z.uuid(), kind: z.enum(['tiers', 'segment']) })), paged), ...common } }),
        },
        '/customers/import': {
          post: op({
            summary: 'Import customers from a CSV or .xlsx file sent as the raw body (streamed to storage, at most IMPORT_MAX_BYTES); processed by the worker, idempotent by email',
            requestParams: { query: uploadQuery },
            requestBody: {
              content: {
                'text/csv': { schema: z.string().meta({ description: 'Header row first; see the README for the accepted columns' }) },
                [XLSX_CONTENT_TYPE]: { schema: z.string().meta({ format: 'binary', description: 'First worksheet, first row as the header' }) },
              },
            },
            responses: { '202': ok('Queued (Location: /api/v1/imports/{id})', importBody), ...errors('INVALID_INPUT', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'), ...common },
          }),
        },
        '/imports': {
          get: op({ summary: 'Imports of the business, newest first', requestParams: { query: listImportsQuery }, responses: { '200': ok('A page of imports', z.array(importBody), paged), ...errors('INVALID_INPUT'), ...common } }),
        },
        '/imports/{id}': {
          get: op({ summary: 'An import: status, progress (bytesRead, rowsProcessed) and counts', requestParams: { path: importIdParams }, responses: { '200': ok('The import', importBody), ...errors('NOT_FOUND'), ...common } }),
        },
        '/imports/{id}/rejections': {
          get: op({
            summary: 'Rejected rows in row order (cursor = the last row number)',
            requestParams: { path: importIdParams, query: rejectionsQuery },
            responses: { '200': ok('A page of rejections', z.array(importRejectionBody), paged), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/customers/bulk': {
          post: op({
            summary: 'Change many customers at once (tags, tier override, static segment membership) for a list of ids or a filter, audited; at most BULK_MAX_CUSTOMERS',
            requestBody: { content: { 'application/json': { schema: bulkRequestDoc } } },
            responses: { '200': ok('Done (Location: /api/v1/bulk-operations/{id})', bulkOperationBody), ...errors('INVALID_INPUT', 'CONFLICT'), ...common },
          }),
        },
        '/bulk-operations': {
          get: op({ summary: 'The audit of bulk operations, newest first', requestParams: { query: listBulkOperationsQuery }, responses: { '200': ok('A page of operations', z.array(bulkOperationBody), paged), ...errors('INVALID_INPUT'), ...common } }),
        },
        '/bulk-operations/{id}': {
          get: op({ summary: 'One bulk operation', requestParams: { path: bulkOperationIdParams }, responses: { '200': ok('The operation', bulkOperationBody), ...errors('NOT_FOUND'), ...common } }),
        },
        '/customers/{id}': {
          get: op({
            summary: 'The customer aggregate with loyalty status, tier progress, CLV, segments, days since the last visit and the at-risk flag',
            requestParams: { path: customerIdParams, query: readQuery },
            responses: { '200': ok('The customer', customerBody), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
          put: op({
            summary: 'Replace the whole aggregate (sections left out are cleared; activities are append-only)',
            requestParams: { path: customerIdParams, query: writeQuery, header: ifMatch },
            requestBody: { content: { 'application/json': { schema: customerInput } } },
            responses: { '200': ok('Replaced', customerBody, writeMeta), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE'), ...common },
          }),
          patch: op({
            summary: 'Change only the given fields (object sections merge, arrays replace)',
            requestParams: { path: customerIdParams, query: writeQuery, header: ifMatch },
            requestBody: { content: { 'application/json': { schema: customerPatch } } },
            responses: { '200': ok('Updated', customerBody, writeMeta), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE'), ...common },
          }),
          delete: op({
            summary:
              'Soft-delete a customer; with erase=true, GDPR/CCPA erasure instead (admin only, with a reason in the body or ?reason=): PII overwritten, data deleted or de-identified in every store, 202 with the erasure record',
            requestParams: { path: customerIdParams, query: writeQuery.extend({ erase: eraseQuery.shape.erase.optional(), reason: eraseQuery.shape.reason }), header: ifMatch },
            requestBody: { required: false, content: { 'application/json': { schema: eraseBody } } },
            responses: {
              '200': ok('Deleted', customerBody, writeMeta),
              '202': ok('Erasure accepted: PostgreSQL done, the other stores follow (Location: /api/v1/erasures/{id})', erasureBody),
              ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'),
              ...common,
            },
          }),
        },
        '/erasures': {
          get: op({
            summary: 'Erasure records of the business, newest first (admin only)',
            requestParams: { query: listErasuresQuery },
            responses: { '200': ok('A page of erasures', z.array(erasureBody), paged), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/erasures/{id}': {
          get: op({
            summary: 'One erasure: status (PENDING, PROCESSING, COMPLETED; it never gives up), which steps are still pending, failures and the last error (admin only)',
            requestParams: { path: erasureIdParams },
            responses: { '200': ok('The erasure', erasureBody), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/customers/{id}/preferences': {
          get: op({
            summary: 'The customer’s communication preferences with the caller’s business (the defaults, isDefault, when none are stored)',
            requestParams: { path: customerIdParams },
            responses: { '200': ok('The preferences', preferencesBody), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
          put: op({
            summary: 'Change any subset of the preferences (merged onto the current values); quiet hours are set as a pair',
            requestParams: { path: customerIdParams, header: ifMatch },
            requestBody: { content: { 'application/json': { schema: preferencesUpdate } } },
            responses: {
              '200': ok('The preferences; changed is false when no value changed (no version bump)', preferencesBody, z.object({ version: z.number().int(), changed: z.boolean() })),
              ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'),
              ...common,
            },
          }),
        },
        '/customers/duplicates': {
          get: op({
            summary:
              'Candidate duplicate pairs among the business’s live customers: same normalised email (case, +tag, Gmail dots), same E.164 phone, similar names (pg_trgm); score desc, then ids, cursor paged. A name likeness alone qualifies only when minScore ≤ 0.5; customerId lists one customer’s candidates',
            requestParams: { query: duplicatesQuery },
            responses: { '200': ok('A page of pairs', z.array(duplicatePairBody), paged.extend({ minScore: z.number() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/customers/{id}/merge': {
          post: op({
            summary:
              'Merge sourceId into this customer (admin, staff) in one transaction: fields follow survivorship (most recent non-null value from the most trusted source, MERGE_SOURCE_RANKING or sourceRanking); sources, addresses, IP addresses, activities, transactions, memory interactions, preferences and hand-assigned segments move; metrics are recomputed; the merged customer is kept as a tombstone (mergedIntoId) and leaves Firestore. 400 for itself, 404 for a customer the business does not have, 409 for one already merged or shared with another business',
            requestParams: { path: customerIdParams },
            requestBody: { content: { 'application/json': { schema: mergeBody } } },
            responses: { '201': ok('Merged (Location: /api/v1/merges/{id})', z.object({ merge: mergeView, customer: customerBody }), z.object({ version: z.number().int() })), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'), ...common },
          }),
        },
        '/merges': {
          get: op({
            summary: 'The business’s merges, newest first; customerId: merges the customer took part in',
            requestParams: { query: listMergesQuery },
            responses: { '200': ok('A page of merges', z.array(mergeView), paged), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/merges/{id}': {
          get: op({ summary: 'One merge: who, when, why, every decision, undo status', requestParams: { path: mergeIdParams }, responses: { '200': ok('The merge', mergeView), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common } }),
        },
        '/merges/{id}/undo': {
          post: op({
            summary:
              'Undo a merge within 30 days (admin, staff): both customers as they were before it, in one transaction; what the survivor gained or changed since the merge stays with it. 409 when already undone, after 30 days, or when the survivor has since been merged away',
            requestParams: { path: mergeIdParams },
            responses: { '200': ok('Undone', z.object({ merge: mergeView, survivor: customerBody, merged: customerBody })), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'), ...common },
          }),
        },
        '/customers/{id}/export': {
          post: op({
            summary: 'Request a data export of the customer (admin, service): 202 with the PENDING export; a worker builds the zip (export.json + csv/<table>.csv) with retries',
            requestParams: { path: exportCustomerParams },
            requestBody: { content: { 'application/json': { schema: exportRequestBody } } },
            responses: { '202': ok('Accepted (Location: /api/v1/exports/{id})', exportBody), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/customers/{id}/exports': {
          get: op({
            summary: 'The customer’s export requests, newest first (admin, service)',
            requestParams: { path: exportCustomerParams, query: listExportsQuery },
            responses: { '200': ok('Exports', z.array(exportBody)), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/exports/{id}': {
          get: op({
            summary: 'One export: status, attempts, size, checksum, expiry (admin, service)',
            requestParams: { path: exportIdParams },
            responses: { '200': ok('The export', exportBody), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/exports/{id}/download': {
          get: op({
            summary: 'The archive of a COMPLETED export (application/zip, x-checksum-sha256); 409 with details.status when it is PENDING, PROCESSING, FAILED or EXPIRED; another business’s export is 404',
            requestParams: { path: exportIdParams },
            responses: {
              '200': { description: 'The zip archive', content: { 'application/zip': { schema: z.string().meta({ format: 'binary' }) } } },
              ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'),
              ...common,
            },
          }),
        },
        '/audiences': {
          get: op({
            summary: 'Customers the caller’s business may message on a channel for a purpose (opt-outs and quiet hours applied; customer id order, cursor paged)',
            requestParams: { query: audienceQuery },
            responses: { '200': ok('A page of recipients', z.array(audienceRecipientBody), z.object({ nextCursor: z.string().nullable() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/customers/{id}/timeline': {
          get: op({
            summary: 'The customer’s activities, purchases, tier, segment and preference changes as one stream (newest first, cursor paged)',
            requestParams: { path: customerIdParams, query: timelineQuery },
            responses: { '200': ok('A page of timeline items', z.array(timelineItem), z.object({ nextCursor: z.string().nullable(), limit: z.number().int() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/analytics/overview': {
          get: op({
            summary: 'Customer analytics of the caller’s business: tiers, segments, CLV by tier, churn, new customers per day, upgrade rate (admin and analyst)',
            requestParams: { query: analyticsOverviewQuery },
            responses: { '200': ok('The overview', analyticsOverviewBody), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/events': {
          get: op({
            summary: 'Domain events of the caller’s business in feed order (writing transaction, then id); poll with after = meta.nextAfter (admin and service)',
            requestParams: { query: listEventsQuery },
            responses: { '200': ok('Events after the given position', z.array(domainEventBody), z.object({ nextAfter: z.string().nullable(), limit: z.number().int() })), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/sync/health': {
          get: op({
            summary: 'Outbox health of the caller’s business: 7 days by status, backlog, dead rows and lag (admin only)',
            requestParams: { query: syncHealthQuery },
            responses: { '200': ok('Sync health', syncHealthBody), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/sync/logs': {
          get: op({
            summary: 'Outbox rows of the caller’s business (newest first, cursor paged; admin only)',
            requestParams: { query: listSyncLogsQuery },
            responses: { '200': ok('A page of sync logs', z.array(syncLogBody), z.object({ nextCursor: z.string().nullable() })), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/ingest/runs': {
          get: op({
            summary: 'POS ingestion runs of the caller’s business (newest first, cursor paged; admin and analyst)',
            requestParams: { query: listIngestRunsQuery },
            responses: { '200': ok('A page of runs', z.array(ingestRunBody), z.object({ nextCursor: z.string().nullable() })), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/ingest/status': {
          get: op({
            summary: 'Per POS source: last success, lag, transaction counts and linked % (admin and analyst)',
            requestParams: { query: ingestStatusQuery },
            responses: { '200': ok('Status per source', z.array(ingestStatusBody)), ...errors('INVALID_INPUT'), ...common },
          }),
        },
        '/memory/learn': {
          servers: memoryServers,
          post: op({
            summary: 'Record an interaction (stored at once; loaded into the warehouse in batches)',
            requestBody: { content: { 'application/json': { schema: learnBody } } },
            responses: {
              '201': ok('Recorded', z.object({ id: z.uuid(), customerId: z.uuid(), occurredAt: z.string() })),
              ...errors('INVALID_INPUT', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE'),
              ...common,
            },
          }),
        },
        '/memory/purchase/{customerId}': {
          servers: memoryServers,
          post: op({
            summary: 'Record a purchase made outside the POS systems (idempotent by orderId); refreshes the customer’s metrics',
            requestParams: { path: memoryCustomerParams },
            requestBody: { content: { 'application/json': { schema: purchaseBody } } },
            responses: {
              '201': ok('Created', z.object({ orderId: z.string(), customerId: z.uuid(), status: z.literal('created'), metricsChanged: z.boolean() })),
              '200': ok('Replayed or corrected', z.object({ orderId: z.string(), customerId: z.uuid(), status: z.enum(['updated', 'unchanged']), metricsChanged: z.boolean() })),
              ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'),
              ...common,
            },
          }),
        },
        '/memory/profile/{customerId}': {
          servers: memoryServers,
          get: op({
            summary: 'The unified customer profile',
            requestParams: { path: memoryCustomerParams },
            responses: { '200': ok('The profile', memoryProfileBody, cacheMeta), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/memory/context/{customerId}': {
          servers: memoryServers,
          get: op({
            summary: 'Context for an agent: profile, last 10 interactions, predictions, recommendations',
            requestParams: { path: memoryCustomerParams },
            responses: {
              '200': ok(
                'The context',
                z.object({ profile: memoryProfileBody, recentInteractions: z.array(z.looseObject({})), predictions: z.looseObject({}).nullable(), recommendations: z.array(z.looseObject({})) }),
                cacheMeta,
              ),
              ...errors('INVALID_INPUT', 'NOT_FOUND'),
              ...common,
            },
          }),
        },
        '/memory/predict/{customerId}': {
          servers: memoryServers,
          post: op({
            summary: 'Compute and store the customer’s predictions now',
            requestParams: { path: memoryCustomerParams },
            responses: { '200': ok('The predictions', z.looseObject({ customerId: z.uuid() })), ...errors('INVALID_INPUT', 'NOT_FOUND'), ...common },
          }),
        },
        '/memory/forget/{customerId}': {
          servers: memoryServers,
          delete: op({
            summary: 'Forget the customer’s memory: interactions and predictions in PostgreSQL and the warehouse, and the cached profile (admin, service)',
            requestParams: { path: memoryCustomerParams },
            responses: {
              '200': ok(
                'What was deleted; warehousePending: the warehouse refused for now (BigQuery streaming buffer), call again later',
                z.object({
                  deleted: z.object({ interactions: z.number().int(), predictions: z.number().int(), warehouseInteractions: z.number().int(), warehousePredictions: z.number().int() }),
                  warehousePending: z.boolean(),
                }),
              ),
              ...errors('INVALID_INPUT', 'NOT_FOUND'),
              ...common,
            },
          }),
        },
        '/sync/retry': {
          post: op({
            summary: 'Put failed and dead rows back to pending, due now, with a fresh retry budget (admin only)',
            requestBody: {
              description: 'Exactly one of `ids` (these rows) or `all: true` (every failed or dead row of the business)',
              content: { 'application/json': { schema: retrySyncLogsBody } },
            },
            responses: { '200': ok('How many rows were reset', z.object({ retried: z.number().int() })), ...errors('INVALID_INPUT'), ...common },
          }),
        },
      },
    },
    {
      // Request timestamps are parsed into Dates; the document shows the wire format (a string).
      override: ({ jsonSchema, zodSchema }) => {
        if (zodSchema._zod.def.type === 'pipe' && jsonSchema.type === undefined && jsonSchema.format === undefined) {
          jsonSchema.type = 'string';
        }
      },
    },
  );
}
