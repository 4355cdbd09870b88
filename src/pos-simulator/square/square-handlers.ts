// Square v2 endpoints the simulator serves (POS-APIS.md, "Square API v2"): locations, payments
// and refunds with time filters, sort and cursor paging, catalog list and search, customers
// list and search. List responses omit the array when it is empty (Square answers `{}`) and
// omit `cursor` on the last page. Reads see only what is visible now (eventual consistency).
import type { Request } from 'express';
import { z } from 'zod';
import type { SquareCatalogRecord, SquareCustomerRecord, SquarePaymentRecord, SquareRefundRecord } from '../data/sim-model.js';
import { DAY } from '../data/time-units.js';
import type { FaultInjector } from '../faults.js';
import { boundOf, cachedView, pageAfter, pageAfterView, type KeysetSpec } from '../keyset-page.js';
import type { SimClock } from '../sim-clock.js';
import { SquareApiError } from './square-errors.js';
import { makeCursor, parseEnum, parseLimit, parseSortOrder, parseTime, queryParam, readCursor } from './square-params.js';
import type { SquareStore } from './square-store.js';
import {
  catalogToWire,
  corruptSquareRecord,
  customerToWire,
  locationToWire,
  paymentToWire,
  refundToWire,
  rfc3339,
  type Json,
} from './square-wire.js';

export interface SquareHandlerContext {
  store: SquareStore;
  clock: SimClock;
  faults: FaultInjector;
  squareVersion: string;
}

export type SquareHandler = (ctx: SquareHandlerContext, req: Request) => Json;

const PAGE_MAX = 100;
const CATALOG_PAGE_SIZE = 100;
const CATALOG_SEARCH_MAX = 1000;

/** Applies the malformed-rows fault to one resource's records as they are served. */
function serve<T>(ctx: SquareHandlerContext, resource: string, records: T[], idOf: (r: T) => string, all: () => T[], toWire: (r: T) => Json): Json[] {
  const bad = ctx.faults.malformedIds(resource, () => all().map(idOf).sort());
  return records.map((r) => (bad?.ids.has(idOf(r)) ? corruptSquareRecord(resource, toWire(r), bad.kind) : toWire(r)));
}

function listBody(key: string, rows: Json[], cursor?: string): Json {
  return { ...(rows.length > 0 ? { [key]: rows } : {}), ...(cursor ? { cursor } : {}) };
}

// ---- payments and refunds ----

const timeQuerySchema = z.object({
  beginTime: z.number(),
  endTime: z.number().optional(),
  updatedBegin: z.number().optional(),
  updatedEnd: z.number().optional(),
  sortField: z.enum(['CREATED_AT', 'UPDATED_AT']),
  sortOrder: z.enum(['ASC', 'DESC']),
  locationId: z.string().optional(),
  status: z.string().optional(),
});
type TimeQuery = z.infer<typeof timeQuerySchema>;

function parseTimeQuery(ctx: SquareHandlerContext, req: Request, resource: 'payments' | 'refunds'): TimeQuery {
  const q = req.query;
  const beginTime = parseTime(queryParam(q.begin_time), 'begin_time') ?? ctx.clock.now() - 365 * DAY;
  const endTime = parseTime(queryParam(q.end_time), 'end_time');
  const updatedBegin = parseTime(queryParam(q.updated_at_begin_time), 'updated_at_begin_time');
  const updatedEnd = parseTime(queryParam(q.updated_at_end_time), 'updated_at_end_time');
  if ((endTime !== undefined && endTime < beginTime) || (updatedBegin !== undefined && updatedEnd !== undefined && updatedEnd < updatedBegin)) {
    throw SquareApiError.invalid('INVALID_TIME_RANGE', 'The end of the time range is before its beginning.');
  }
  const rawSortField = queryParam(q.sort_field);
  // OFFLINE_CREATED_AT exists in Square; with no offline payments here it orders like CREATED_AT.
  const sortField = parseEnum(rawSortField === 'OFFLINE_CREATED_AT' ? 'CREATED_AT' : rawSortField, ['CREATED_AT', 'UPDATED_AT'] as const, 'CREATED_AT', 'sort_field');
  let locationId = queryParam(q.location_id) || undefined;
  if (locationId !== undefined && !ctx.store.locations.some((l) => l.id === locationId)) {
    throw SquareApiError.notFound(`Location \`${locationId}\` not found.`);
  }
  // Payments without location_id cover the main location only; refunds cover all locations.
  if (resource === 'payments') locationId ??= ctx.store.mainLocation.id;
  const status = queryParam(q.status) || undefined;
  return {
    beginTime,
    ...(endTime !== undefined ? { endTime } : {}),
    ...(updatedBegin !== undefined ? { updatedBegin } : {}),
    ...(updatedEnd !== undefined ? { updatedEnd } : {}),
    sortField,
    sortOrder: parseSortOrder(queryParam(q.sort_order), 'DESC'),
    ...(locationId !== undefined ? { locationId } : {}),
    ...(status !== undefined ? { status } : {}),
  };
}

function matchesTimeQuery(q: TimeQuery, r: { createdAt: number; updatedAt: number; locationId: string; status: string }): boolean {
  return (
    r.createdAt >= q.beginTime &&
    (q.endTime === undefined || r.createdAt < q.endTime) &&
    (q.updatedBegin === undefined || r.updatedAt >= q.updatedBegin) &&
    (q.updatedEnd === undefined || r.updatedAt < q.updatedEnd) &&
    (q.locationId === undefined || r.locationId === q.locationId) &&
    (q.status === undefined || r.status === q.status)
  );
}

function timeOrderedList<T extends SquarePaymentRecord | SquareRefundRecord>(
  ctx: SquareHandlerContext,
  req: Request,
  resource: 'payments' | 'refunds',
  all: () => T[],
  toWire: (r: T) => Json,
): Json {
  const cursor = readCursor(req.query.cursor, resource, timeQuerySchema);
  const q = cursor?.q ?? parseTimeQuery(ctx, req, resource);
  const limit = parseLimit(queryParam(req.query.limit), 'limit', { max: PAGE_MAX, fallback: PAGE_MAX, clampHigh: true });
  const spec: KeysetSpec<T> = {
    key: (r) => (q.sortField === 'UPDATED_AT' ? r.updatedAt : r.createdAt),
    id: (r) => r.id,
    descending: q.sortOrder === 'DESC',
  };
  const view = cachedView(all(), `${resource}:${JSON.stringify(q)}`, (r) => matchesTimeQuery(q, r), spec);
  const page = pageAfterView(view, spec, limit, cursor?.b);
  const last = page.rows[page.rows.length - 1];
  const next = page.hasAfter && last ? makeCursor(resource, q, boundOf(spec, last)) : undefined;
  return listBody(resource, serve(ctx, resource, page.rows, (r) => r.id, all, toWire), next);
}

export const listPayments: SquareHandler = (ctx, req) =>
  timeOrderedList(ctx, req, 'payments', () => ctx.store.payments.listVisible(ctx.clock.now()), paymentToWire);

export const listRefunds: SquareHandler = (ctx, req) =>
  timeOrderedList(ctx, req, 'refunds', () => ctx.store.refunds.listVisible(ctx.clock.now()), refundToWire);

export const getPayment: SquareHandler = (ctx, req) => {
  const id = String(req.params.id);
  const payment = ctx.store.payments.visible(id, ctx.clock.now());
  if (!payment) throw SquareApiError.notFound(`Could not find payment with id: ${id}`);
  const [wire] = serve(ctx, 'payments', [payment], (p) => p.id, () => ctx.store.payments.listVisible(ctx.clock.now()), paymentToWire);
  return { payment: wire };
};

export const getRefund: SquareHandler = (ctx, req) => {
  const id = String(req.params.id);
  const refund = ctx.store.refunds.visible(id, ctx.clock.now());
  if (!refund) throw SquareApiError.notFound(`Could not find refund with id: ${id}`);
  const [wire] = serve(ctx, 'refunds', [refund], (r) => r.id, () => ctx.store.refunds.listVisible(ctx.clock.now()), refundToWire);
  return { refund: wire };
};

// ---- locations ----

export const listLocations: SquareHandler = (ctx) => ({ locations: ctx.store.locations.map(locationToWire) });

// ---- catalog ----

const catalogQuerySchema = z.object({ types: z.array(z.string()), beginTime: z.number().optional(), includeDeleted: z.boolean() });
type CatalogQuery = z.infer<typeof catalogQuerySchema>;
const CATALOG_TYPES = ['ITEM', 'ITEM_VARIATION', 'CATEGORY'];

function catalogPage(ctx: SquareHandlerContext, q: CatalogQuery, limit: number, after: ReturnType<typeof readCursor>, resource: string): Json {
  const now = ctx.clock.now();
  const visible = ctx.store.catalog.listVisible(now);
  const matching = visible.filter(
    (o) => q.types.includes(o.type) && (q.includeDeleted || !o.isDeleted) && (q.beginTime === undefined || o.updatedAt > q.beginTime),
  );
  const spec: KeysetSpec<SquareCatalogRecord> = { key: (o) => o.id, id: (o) => o.id, descending: false };
  const page = pageAfter(matching, spec, limit, after?.b);
  const variationsOf = (itemId: string) =>
    visible.filter((v) => v.variation?.itemId === itemId && (q.includeDeleted || !v.isDeleted)).sort((a, b) => (a.id < b.id ? -1 : 1));
  const toWire = (o: SquareCatalogRecord) => catalogToWire(o, variationsOf, ctx.squareVersion);
  const last = page.rows[page.rows.length - 1];
  const next = page.hasAfter && last ? makeCursor(resource, q, boundOf(spec, last)) : undefined;
  return listBody('objects', serve(ctx, 'catalog', page.rows, (o) => o.id, () => visible, toWire), next);
}

function parseTypes(raw: string[] | undefined): string[] {
  const types = (raw ?? CATALOG_TYPES).map((t) => t.trim().toUpperCase()).filter((t) => t !== '');
  return types.length > 0 ? types : CATALOG_TYPES;
}

/** GET /v2/catalog/list?types=…&cursor=…: fixed pages of 100, deleted objects left out. */
export const listCatalog: SquareHandler = (ctx, req) => {
  const cursor = readCursor(req.query.cursor, 'catalog.list', catalogQuerySchema);
  const q = cursor?.q ?? { types: parseTypes(queryParam(req.query.types)?.split(',')), includeDeleted: false };
  return catalogPage(ctx, q, CATALOG_PAGE_SIZE, cursor, 'catalog.list');
};

const catalogSearchBody = z.object({
  object_types: z.array(z.string()).optional(),
  begin_time: z.string().optional(),
  include_deleted_objects: z.boolean().optional(),
  cursor: z.string().optional(),
  limit: z.number().int().optional(),
});

/** POST /v2/catalog/search: objects changed after `begin_time` (exclusive), deleted ones on request. */
export const searchCatalog: SquareHandler = (ctx, req) => {
  const body = parseBody(catalogSearchBody, req.body);
  const cursor = readCursor(body.cursor, 'catalog.search', catalogQuerySchema);
  const beginTime = parseTime(body.begin_time, 'begin_time');
  const q = cursor?.q ?? {
    types: parseTypes(body.object_types),
    ...(beginTime !== undefined ? { beginTime } : {}),
    includeDeleted: body.include_deleted_objects ?? false,
  };
  // Square treats a limit that is not positive or above 1,000 as absent.
  const limit = body.limit !== undefined && body.limit > 0 && body.limit <= CATALOG_SEARCH_MAX ? body.limit : PAGE_MAX;
  const visible = ctx.store.catalog.listVisible(ctx.clock.now());
  const latest = visible.reduce((max, o) => Math.max(max, o.updatedAt), 0);
  return { ...catalogPage(ctx, q, limit, cursor, 'catalog.search'), latest_time: rfc3339(latest) };
};

// ---- customers ----

const customerQuerySchema = z.object({
  sortField: z.enum(['DEFAULT', 'CREATED_AT']),
  sortOrder: z.enum(['ASC', 'DESC']),
  createdAt: z.object({ start: z.number().optional(), end: z.number().optional() }).optional(),
  updatedAt: z.object({ start: z.number().optional(), end: z.number().optional() }).optional(),
  emailExact: z.string().optional(),
  emailFuzzy: z.string().optional(),
  phoneExact: z.string().optional(),
  referenceId: z.string().optional(),
});
type CustomerQuery = z.infer<typeof customerQuerySchema>;

const digits = (s: string) => s.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');

function matchesCustomer(q: CustomerQuery, c: SquareCustomerRecord): boolean {
  const inRange = (at: number, r?: { start?: number; end?: number }) => !r || ((r.start === undefined || at >= r.start) && (r.end === undefined || at < r.end));
  const email = c.emailAddress?.toLowerCase();
  return (
    inRange(c.createdAt, q.createdAt) &&
    inRange(c.updatedAt, q.updatedAt) &&
    (q.emailExact === undefined || email === q.emailExact.toLowerCase()) &&
    (q.emailFuzzy === undefined || (email?.includes(q.emailFuzzy.toLowerCase()) ?? false)) &&
    (q.phoneExact === undefined || (c.phoneNumber !== undefined && digits(c.phoneNumber) === digits(q.phoneExact))) &&
    (q.referenceId === undefined || c.referenceId === q.referenceId)
  );
}

function customerPage(ctx: SquareHandlerContext, q: CustomerQuery, limit: number, after: ReturnType<typeof readCursor>, resource: string): Json {
  const all = () => ctx.store.customers.listVisible(ctx.clock.now());
  const spec: KeysetSpec<SquareCustomerRecord> = {
    key: (c) => (q.sortField === 'CREATED_AT' ? c.createdAt : `${c.givenName}\u0000${c.familyName}`.toLowerCase()),
    id: (c) => c.id,
    descending: q.sortOrder === 'DESC',
  };
  const page = pageAfter(all().filter((c) => matchesCustomer(q, c)), spec, limit, after?.b);
  const last = page.rows[page.rows.length - 1];
  const next = page.hasAfter && last ? makeCursor(resource, q, boundOf(spec, last)) : undefined;
  return listBody('customers', serve(ctx, 'customers', page.rows, (c) => c.id, all, customerToWire), next);
}

/** GET /v2/customers: limit 1–100, out of range is a 400 (VALUE_TOO_LOW / VALUE_TOO_HIGH). */
export const listCustomers: SquareHandler = (ctx, req) => {
  const cursor = readCursor(req.query.cursor, 'customers.list', customerQuerySchema);
  const limit = parseLimit(queryParam(req.query.limit), 'limit', { max: PAGE_MAX, fallback: PAGE_MAX, clampHigh: false });
  const q = cursor?.q ?? {
    sortField: parseEnum(queryParam(req.query.sort_field), ['DEFAULT', 'CREATED_AT'] as const, 'DEFAULT', 'sort_field'),
    sortOrder: parseSortOrder(queryParam(req.query.sort_order), 'ASC'),
  };
  return customerPage(ctx, q, limit, cursor, 'customers.list');
};

const timeRange = z.object({ start_at: z.string().optional(), end_at: z.string().optional() }).optional();
const customerSearchBody = z.object({
  cursor: z.string().optional(),
  limit: z.number().int().optional(),
  query: z
    .object({
      filter: z
        .object({
          created_at: timeRange,
          updated_at: timeRange,
          email_address: z.object({ exact: z.string().optional(), fuzzy: z.string().optional() }).optional(),
          phone_number: z.object({ exact: z.string().optional() }).optional(),
          reference_id: z.object({ exact: z.string().optional() }).optional(),
        })
        .optional(),
      sort: z.object({ field: z.string().optional(), order: z.string().optional() }).optional(),
    })
    .optional(),
});

function range(r: { start_at?: string; end_at?: string } | undefined, field: string) {
  if (!r) return undefined;
  const start = parseTime(r.start_at, `query.filter.${field}.start_at`);
  const end = parseTime(r.end_at, `query.filter.${field}.end_at`);
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

/** POST /v2/customers/search {query:{filter:{updated_at:{start_at,end_at}}}, cursor, limit}. */
export const searchCustomers: SquareHandler = (ctx, req) => {
  const body = parseBody(customerSearchBody, req.body);
  const cursor = readCursor(body.cursor, 'customers.search', customerQuerySchema);
  const limit = parseLimit(body.limit, 'limit', { max: PAGE_MAX, fallback: PAGE_MAX, clampHigh: false });
  const filter = body.query?.filter;
  const createdAt = range(filter?.created_at, 'created_at');
  const updatedAt = range(filter?.updated_at, 'updated_at');
  const q: CustomerQuery = cursor?.q ?? {
    sortField: parseEnum(body.query?.sort?.field, ['DEFAULT', 'CREATED_AT'] as const, 'DEFAULT', 'query.sort.field'),
    sortOrder: parseSortOrder(body.query?.sort?.order, 'ASC'),
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
    ...(filter?.email_address?.exact !== undefined ? { emailExact: filter.email_address.exact } : {}),
    ...(filter?.email_address?.fuzzy !== undefined ? { emailFuzzy: filter.email_address.fuzzy } : {}),
    ...(filter?.phone_number?.exact !== undefined ? { phoneExact: filter.phone_number.exact } : {}),
    ...(filter?.reference_id?.exact !== undefined ? { referenceId: filter.reference_id.exact } : {}),
  };
  return customerPage(ctx, q, limit, cursor, 'customers.search');
};

export const getCustomer: SquareHandler = (ctx, req) => {
  const id = String(req.params.id);
  const customer = ctx.store.customers.visible(id, ctx.clock.now());
  if (!customer) throw SquareApiError.notFound(`Customer with ID \`${id}\` not found.`);
  const [wire] = serve(ctx, 'customers', [customer], (c) => c.id, () => ctx.store.customers.listVisible(ctx.clock.now()), customerToWire);
  return { customer: wire };
};

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw SquareApiError.invalid(issue?.code === 'invalid_type' ? 'INCORRECT_TYPE' : 'INVALID_VALUE', issue?.message ?? 'Invalid request body.', field);
  }
  return parsed.data;
}
