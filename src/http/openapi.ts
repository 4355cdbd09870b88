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
  .looseObject({ runId: z.uuid().nullable(), status: z.enum(['completed', 'deferred']), changed: z.number().int().optional(), entered: z.number().int().optional(), exited: z.number().int().optional() })
  .meta({ id: 'Recalculation', description: 'deferred: a recalculation already running picks the change up when it ends' });
const segmentBody = z
  .looseObject({ id: z.uuid(), name: z.string(), description: z.string().nullable(), criteria: segmentCriteriaSchema, isActive: z.boolean(), timeRelative: z.boolean(), customerCount: z.number().int(), lastRecalculated: z.string().nullable() })
  .meta({ id: 'Segment' });
const paged = z.object({ nextCursor: z.string().nullable(), limit: z.number().int() });

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
            summary: 'List and search customers: filters, typo-tolerant text over name, email and phone (containing matches before similar spellings, newest first), cursor paged',
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
            summary: 'Create a segment; its members are calculated at once',
            requestBody: { content: { 'application/json': { schema: createSegmentBody.extend({ criteria: segmentCriteriaSchema }) } } },
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
            summary: 'Soft-delete a customer',
            requestParams: { path: customerIdParams, query: writeQuery, header: ifMatch },
            responses: { '200': ok('Deleted', customerBody, writeMeta), ...errors('INVALID_INPUT', 'NOT_FOUND', 'CONFLICT'), ...common },
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
