// What goes into an export, per type, read from every store through the customer data map:
//   GDPR_FULL           every PostgreSQL table, the Firestore documents, the warehouse rows (of the
//                       customer and of each duplicate profile merged into it, labelled), and
//                       the Art. 15 facts (purposes, categories, sources, recipients, retention,
//                       the logic of the predictions)
//   GDPR_BASIC          the profile and transactions (the entries marked `basic`)
//   BUSINESS_ANALYTICS  aggregates only: no names, contact data, addresses, ids of the person or
//                       of their POS accounts
// The result is plain JSON (export.json) plus one table per CSV file.
import { sql } from 'drizzle-orm';
import { DocumentReference, GeoPoint, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { queryRows, type Db } from '../../db/db.client.js';
import type { Warehouse } from '../../warehouse/warehouse.port.js';
import { WAREHOUSE_TABLES } from '../../warehouse/warehouse-tables.js';
import {
  ART15_GENERAL,
  CACHE_ENTRIES,
  FIRESTORE_CUSTOMER_PATHS,
  PG_CUSTOMER_TABLES,
  WAREHOUSE_CUSTOMER_TABLES,
  readFirestoreDocs,
  readPgRows,
  personProfiles,
  readWarehouseRows,
  type Art15Facts,
  type FirestoreDoc,
  type PgRows,
  type PgTableEntry,
  type WarehouseEntry,
  type WarehouseRows,
} from '../customer-data-map.js';
import type { ExportRow } from './exports.repository.js';

export const EXPORT_FORMAT = 'customer360.export/v1';

export interface CsvTable {
  /** Path inside the archive, e.g. csv/customers.csv. */
  path: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

export interface ExportContent {
  json: Record<string, unknown>;
  csv: CsvTable[];
}

export interface ExportStores {
  db: Db;
  firestore: Firestore;
  warehouse: Warehouse;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Firestore and warehouse values as JSON: timestamps as ISO text, geo points as { latitude, longitude }. */
export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (value instanceof GeoPoint) return { latitude: value.latitude, longitude: value.longitude };
  if (value instanceof DocumentReference) return value.path;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return null;
}

/**
 * A customer's Firestore documents are shared by every business they deal with; the export of
 * one business shows only that business's entries (tenants never see each other's standing).
 */
function forBusiness(doc: FirestoreDoc, businessId: string): { path: string; data: Json } {
  const data = { ...doc.data };
  if (Array.isArray(data.businessIds)) data.businessIds = (data.businessIds as unknown[]).filter((id) => id === businessId);
  if (data.businesses && typeof data.businesses === 'object') {
    const own = (data.businesses as Record<string, unknown>)[businessId];
    data.businesses = own === undefined ? {} : { [businessId]: own };
  }
  return { path: doc.path, data: toJson(data) };
}

const tableColumnsCache = new Map<string, string[]>();

/** A PostgreSQL table's columns in order (the CSV header even when the customer has no row there). */
async function pgColumns(db: Db, table: string): Promise<string[]> {
  const cached = tableColumnsCache.get(table);
  if (cached) return cached;
  const rows = await queryRows<{ column_name: string }>(
    db,
    sql`SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`,
  );
  const columns = rows.map((r) => r.column_name);
  if (columns.length > 0) tableColumnsCache.set(table, columns);
  return columns;
}

function header(row: ExportRow, generatedAt: Date) {
  return {
    format: EXPORT_FORMAT,
    exportId: row.id,
    type: row.exportType,
    businessId: row.businessId,
    requestedAt: row.createdAt.toISOString(),
    generatedAt: generatedAt.toISOString(),
  };
}

function art15Category(store: string, name: string, facts: Art15Facts, rows: number) {
  return { store, name, rows, ...facts };
}

/** Reads the stores and shapes the export of one request. */
export async function collectExport(stores: ExportStores, row: ExportRow, now: Date): Promise<ExportContent> {
  switch (row.exportType) {
    case 'GDPR_FULL':
      return collectPersonal(stores, row, now, false);
    case 'GDPR_BASIC':
      return collectPersonal(stores, row, now, true);
    case 'BUSINESS_ANALYTICS':
      return collectAnalytics(stores, row, now);
  }
}

/** One profile's data as the export holds it. */
interface ProfileData {
  customerId: string;
  postgres: PgRows;
  warehouse: Record<string, Json[]>;
  warehouseRaw: WarehouseRows;
  firestore: { path: string; data: Json }[];
}

async function readProfile(stores: ExportStores, customerId: string, businessId: string, pgTables: PgTableEntry[], whTables: WarehouseEntry[], basic: boolean): Promise<ProfileData> {
  const postgres = await readPgRows(stores.db, customerId, businessId, pgTables);
  const warehouseRaw = await readWarehouseRows(stores.warehouse, customerId, businessId, whTables);
  const warehouse: Record<string, Json[]> = {};
  for (const entry of whTables) warehouse[entry.table] = (warehouseRaw[entry.table] ?? []).map((r) => toJson(r));
  const firestore = basic ? [] : (await readFirestoreDocs(stores.firestore, customerId)).map((d) => forBusiness(d, businessId));
  return { customerId, postgres, warehouse, warehouseRaw, firestore };
}

/**
 * GDPR_FULL / GDPR_BASIC: the customer and every duplicate profile merged into it (personProfiles,
 * the same list erasure erases), each read through the data map's single-profile conditions. The
 * customer's data is at the top level (postgres, firestore, warehouse; csv/<table>.csv); each
 * merged-away profile's under mergedAwayProfiles[] (csv/merged-away/<its id>/<table>.csv), named
 * as such.
 */
async function collectPersonal(stores: ExportStores, row: ExportRow, now: Date, basic: boolean): Promise<ExportContent> {
  const { customerId, businessId } = row;
  const pgTables = PG_CUSTOMER_TABLES.filter((e) => !basic || e.basic);
  const whTables = WAREHOUSE_CUSTOMER_TABLES.filter((e) => !basic || e.basic);
  const [main, ...merged] = await Promise.all(
    (await personProfiles(stores.db, customerId, businessId)).map((id) => readProfile(stores, id, businessId, pgTables, whTables, basic)),
  );
  const profiles = [main!, ...merged];

  const csv: CsvTable[] = [];
  for (const profile of profiles) {
    const dir = profile === main ? 'csv' : `csv/merged-away/${profile.customerId}`;
    for (const entry of pgTables) {
      csv.push({ path: `${dir}/${entry.table}.csv`, columns: await pgColumns(stores.db, entry.table), rows: profile.postgres[entry.table] ?? [] });
    }
    for (const entry of whTables) {
      csv.push({ path: `${dir}/warehouse/${entry.table}.csv`, columns: WAREHOUSE_TABLES[entry.table].columns.map((c) => c.name), rows: profile.warehouseRaw[entry.table] ?? [] });
    }
    if (!basic) csv.push({ path: `${dir}/firestore.csv`, columns: ['path', 'data'], rows: profile.firestore });
  }

  const sum = (rows: (p: ProfileData) => number) => profiles.reduce((n, p) => n + rows(p), 0);
  const categories = [
    ...pgTables.map((e) => art15Category('postgresql', e.table, e.art15, sum((p) => p.postgres[e.table]?.length ?? 0))),
    ...(basic
      ? []
      : FIRESTORE_CUSTOMER_PATHS.map((f) => art15Category('firestore', f.path, f.art15, sum((p) => p.firestore.filter((d) => matchesPath(d.path, f.path)).length)))),
    ...whTables.map((e) => art15Category('warehouse', e.table, e.art15, sum((p) => p.warehouse[e.table]?.length ?? 0))),
  ];
  const sections = (p: ProfileData) => ({ postgres: p.postgres, ...(basic ? {} : { firestore: p.firestore }), warehouse: p.warehouse });
  return {
    json: {
      ...header(row, now),
      customerId,
      note: basic
        ? 'Your profile and transactions as this business holds them. Ask for a full export (GDPR_FULL) for everything else.'
        : 'Everything this business holds about you in this service: the record (postgres), the copy the admin interface reads (firestore) and the analytics warehouse (warehouse).',
      ...sections(main!),
      mergedAwayProfiles: merged.map((p) => ({
        customerId: p.customerId,
        mergedIntoId: (p.postgres.customers?.[0]?.merged_into_id as string | undefined) ?? null,
        note: 'An earlier duplicate profile of yours, merged into the one above; what is still held under it.',
        ...sections(p),
      })),
      ...(basic ? {} : { caches: CACHE_ENTRIES.map((c) => ({ store: c.store, description: c.description, note: 'Built from the data above; kept for minutes only.' })) }),
      art15: { ...ART15_GENERAL, categories },
    },
    csv,
  };
}

/** customers/<id>/addresses/<doc> matches the template customers/{id}/addresses/{docId}. */
function matchesPath(path: string, template: string): boolean {
  const a = path.split('/');
  const b = template.split('/');
  return a.length === b.length && b.every((part, i) => part.startsWith('{') || part === a[i]);
}

// ---------------------------------------------------------------------------------------------
// BUSINESS_ANALYTICS: aggregates without personal identifiers
// ---------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);
const month = (v: unknown): string | null => (typeof v === 'string' && v.length >= 7 ? v.slice(0, 7) : v instanceof Date ? v.toISOString().slice(0, 7) : null);
const round2 = (n: number) => Math.round(n * 100) / 100;

function countBy(rows: Row[], key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const value = r[key];
    const k = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : 'unknown';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function minMax(values: (string | null)[]): { first: string | null; last: string | null } {
  const present = values.filter((v): v is string => v !== null).sort();
  return { first: present[0] ?? null, last: present.at(-1) ?? null };
}

async function collectAnalytics(stores: ExportStores, row: ExportRow, now: Date): Promise<ExportContent> {
  const { customerId, businessId } = row;
  const pg: PgRows = await readPgRows(stores.db, customerId, businessId);
  const wh = await readWarehouseRows(stores.warehouse, customerId, businessId);
  const one = (table: string): Row | undefined => pg[table]?.find((r) => r.id === customerId || r.customer_id === customerId);
  const customer = pg.customers?.find((r) => r.id === customerId);
  const link = one('business_customers');
  const metrics = one('customer_metrics');
  const engagement = one('customer_engagement');
  const prediction = one('customer_predictions');
  const preferences = one('customer_communication_preferences');
  const transactions = pg.customer_transactions ?? [];
  const interactions = pg.memory_interactions ?? [];

  const byCurrency: Record<string, { gross: number; refunded: number; net: number; count: number }> = {};
  for (const t of transactions) {
    const c = (byCurrency[String(t.currency)] ??= { gross: 0, refunded: 0, net: 0, count: 0 });
    c.count += 1;
    c.gross = round2(c.gross + num(t.amount));
    c.refunded = round2(c.refunded + num(t.refunded_amount));
    c.net = round2(c.gross - c.refunded);
  }
  const purchaseMonths = minMax(transactions.map((t) => month(t.occurred_at)));
  const sentiments = interactions.map((i) => i.sentiment).filter((s): s is number => typeof s === 'number');
  const countries = new Set((pg.customer_addresses ?? []).map((a) => a.country_code).filter(Boolean));

  const summary = {
    status: customer?.status ?? null,
    customerType: customer?.customer_type ?? null,
    customerSinceMonth: month(link?.created_at ?? customer?.created_at),
    loyalty: {
      tier: link?.loyalty_tier ?? null,
      tierOverridden: link ? link.tier_override !== null : false,
      tierChanges: pg.customer_tier_history?.length ?? 0,
      points: engagement ? num(engagement.loyalty_points) : null,
    },
    segments: { count: pg.customer_segment_assignments?.length ?? 0 },
    transactions: {
      count: transactions.length,
      byStatus: countBy(transactions, 'status'),
      bySource: countBy(transactions, 'source'),
      byCurrency,
      items: transactions.reduce((s, t) => s + num(t.item_count), 0),
      firstPurchaseMonth: purchaseMonths.first,
      lastPurchaseMonth: purchaseMonths.last,
    },
    metrics: metrics
      ? {
          totalOrders: num(metrics.total_orders),
          totalSpent: num(metrics.total_spent),
          totalRefunded: num(metrics.total_refunded),
          averageOrderValue: num(metrics.average_order_value),
          lifetimeValue: num(metrics.lifetime_value),
          churnProbability: metrics.churn_probability ?? null,
          predictedLifetimeValue: metrics.predicted_lifetime_value ?? null,
          propensityScore: metrics.propensity_score ?? null,
        }
      : null,
    predictions: prediction
      ? {
          modelVersion: prediction.model_version,
          churnRisk: prediction.churn_risk,
          expectedPurchases30d: prediction.expected_purchases_30d,
          expectedPurchases90d: prediction.expected_purchases_90d,
          expectedSpend: prediction.expected_spend,
          predictedClv12m: prediction.predicted_clv_12m,
          engagementScore: prediction.engagement_score,
          confidence: prediction.confidence,
        }
      : null,
    interactions: {
      count: interactions.length,
      byChannel: countBy(interactions, 'channel'),
      averageSentiment: sentiments.length > 0 ? round2(sentiments.reduce((a, b) => a + b, 0) / sentiments.length) : null,
    },
    activities: { count: pg.customer_activities?.length ?? 0, byType: countBy(pg.customer_activities ?? [], 'activity_type') },
    addresses: { count: pg.customer_addresses?.length ?? 0, countries: countries.size },
    consent: engagement ? { email: engagement.email_consent, sms: engagement.sms_consent, push: engagement.push_consent } : null,
    preferences: preferences
      ? {
          emailMarketing: preferences.email_marketing,
          smsMarketing: preferences.sms_marketing,
          pushNotifications: preferences.push_notifications,
          frequency: preferences.frequency,
          preferredChannel: preferences.preferred_channel,
        }
      : null,
    warehouseRows: Object.fromEntries(WAREHOUSE_CUSTOMER_TABLES.map((e) => [e.table, (wh[e.table] ?? []).length])),
  };
  return {
    json: {
      ...header(row, now),
      note: 'Aggregated figures about one customer for the business\'s analysis: no names, contact data, addresses or identifiers of the person or their POS accounts.',
      summary: toJson(summary),
    },
    csv: [{ path: 'csv/summary.csv', columns: ['metric', 'value'], rows: flatten(toJson(summary)).map(([metric, value]) => ({ metric, value })) }],
  };
}

/** { a: { b: 1 } } → [['a.b', 1]] (the CSV form of the summary). */
function flatten(value: Json, prefix = ''): [string, Json][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}
