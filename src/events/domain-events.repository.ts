// SQL of the domain events outbox: events are appended inside the transaction of the change they
// report, and read by consumers in id order. Payloads carry ids and values, never personal data.
import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../db/db.client.js';
import { domainEvents } from '../db/schema/index.js';

/** Reference 002's event names. */
export const DOMAIN_EVENT_TYPES = [
  'customers.customer.created',
  'customers.customer.updated',
  'customers.customer.deleted',
  'customers.customer.merged',
  'customers.customer.unmerged',
  'customers.customer.erased',
  'customers.tier.upgraded',
  'customers.tier.downgraded',
  'customers.tier.configuration_updated',
  'customers.segment.created',
  'customers.segment.updated',
  'customers.segment.deleted',
  'customers.segment.assigned',
  'customers.segment.unassigned',
  'customers.preferences.updated',
  'customers.data_export.requested',
  'customers.data_export.completed',
  'customers.data_export.failed',
] as const;
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];
/** The events of a change to the customer aggregate itself. */
export type CustomerEventType = Extract<DomainEventType, `customers.customer.${string}`>;

export interface NewDomainEvent {
  businessId: string;
  eventType: DomainEventType;
  customerId?: string | null;
  payload?: Record<string, unknown>;
}

export async function appendDomainEvents(ex: Executor, events: NewDomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await ex.insert(domainEvents).values(
    events.map((e) => ({ businessId: e.businessId, eventType: e.eventType, customerId: e.customerId ?? null, payload: e.payload ?? {} })),
  );
}

export interface DomainEventRow {
  id: number;
  txId: string;
  eventType: string;
  customerId: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/** A consumer's position in the feed: the writing transaction, then the id. */
export interface FeedPosition {
  txId: string;
  id: number;
}

/**
 * A business's events after `after`, in (transaction, id) order. Ids are taken when a row is
 * inserted, so a transaction still running may hold an id below one already committed: reading
 * in id order would let a consumer move past it. Transaction ids instead are below the horizon
 * only once every such transaction has ended: events are returned up to the oldest transaction
 * of this database still running (transactions of other databases cannot write here, so a long
 * one there does not hold the feed back), and every event written later has a greater position.
 */
export async function listDomainEvents(ex: Executor, businessId: string, after: FeedPosition | null, limit: number): Promise<DomainEventRow[]> {
  const rows = await queryRows<{ id: string; tx_id: string; event_type: string; customer_id: string | null; payload: Record<string, unknown>; occurred_at: string | Date }>(
    ex,
    sql`WITH snapshot AS (SELECT pg_current_snapshot() AS s),
        elsewhere AS (
          SELECT backend_xid FROM pg_stat_activity WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL
        ),
        horizon AS (
          SELECT coalesce(
            (SELECT min(x) FROM pg_snapshot_xip(s) AS x WHERE x::xid NOT IN (SELECT backend_xid FROM elsewhere)),
            pg_snapshot_xmax(s)) AS h
          FROM snapshot
        )
        SELECT e.id::text, e.tx_id::text, e.event_type, e.customer_id::text, e.payload, e.occurred_at
        FROM domain_events e, horizon
        WHERE e.business_id = ${businessId} AND e.tx_id < horizon.h
          ${after ? sql`AND (e.tx_id, e.id) > (${after.txId}::xid8, ${after.id}::bigint)` : sql``}
        ORDER BY e.tx_id, e.id
        LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    txId: r.tx_id,
    eventType: r.event_type,
    customerId: r.customer_id,
    payload: r.payload,
    occurredAt: new Date(r.occurred_at),
  }));
}

/**
 * customers.customer.created / updated / deleted for each business the customer belongs to,
 * with the names (never the values) of the changed fields, plus `payload` when given (ids only,
 * such as a merge's: no personal data).
 */
export async function appendCustomerEvents(
  ex: Executor,
  eventType: CustomerEventType,
  changes: { customerId: string; changedFields: string[]; payload?: Record<string, unknown> }[],
): Promise<void> {
  if (changes.length === 0) return;
  await ex.execute(sql`
    INSERT INTO domain_events (business_id, event_type, customer_id, payload)
    SELECT bc.business_id, ${eventType}, x.customer_id, coalesce(x.payload, '{}'::jsonb) || jsonb_build_object('changedFields', x.changed_fields)
    FROM jsonb_to_recordset(${JSON.stringify(changes.map((c) => ({ customer_id: c.customerId, changed_fields: c.changedFields, payload: c.payload ?? null })))}::jsonb)
      AS x(customer_id uuid, changed_fields jsonb, payload jsonb)
    JOIN business_customers bc ON bc.customer_id = x.customer_id`);
}
