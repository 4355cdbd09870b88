// SQL of the domain events outbox: events are appended inside the transaction of the change they
// report, and read by consumers in id order. Payloads carry ids and values, never personal data.
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { domainEvents } from '../db/schema/index.js';

/** Reference 002's event names. */
export const DOMAIN_EVENT_TYPES = [
  'customers.customer.created',
  'customers.customer.updated',
  'customers.customer.deleted',
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
  eventType: string;
  customerId: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * A business's events after `after`, oldest first. Only events of transactions that finished
 * before every transaction still running are returned: a transaction that took a lower id but
 * commits later would otherwise appear behind a consumer's position and never be read.
 */
export async function listDomainEvents(ex: Executor, businessId: string, after: number, limit: number): Promise<DomainEventRow[]> {
  return ex
    .select({
      id: domainEvents.id,
      eventType: domainEvents.eventType,
      customerId: domainEvents.customerId,
      payload: domainEvents.payload,
      occurredAt: domainEvents.occurredAt,
    })
    .from(domainEvents)
    .where(
      and(
        eq(domainEvents.businessId, businessId),
        gt(domainEvents.id, after),
        sql`${domainEvents.txId} < pg_snapshot_xmin(pg_current_snapshot())`,
      ),
    )
    .orderBy(asc(domainEvents.id))
    .limit(limit);
}

/**
 * customers.customer.created / updated / deleted for each business the customer belongs to,
 * with the names (never the values) of the changed fields.
 */
export async function appendCustomerEvents(
  ex: Executor,
  eventType: 'customers.customer.created' | 'customers.customer.updated' | 'customers.customer.deleted',
  changes: { customerId: string; changedFields: string[] }[],
): Promise<void> {
  if (changes.length === 0) return;
  await ex.execute(sql`
    INSERT INTO domain_events (business_id, event_type, customer_id, payload)
    SELECT bc.business_id, ${eventType}, x.customer_id, jsonb_build_object('changedFields', x.changed_fields)
    FROM jsonb_to_recordset(${JSON.stringify(changes.map((c) => ({ customer_id: c.customerId, changed_fields: c.changedFields })))}::jsonb)
      AS x(customer_id uuid, changed_fields jsonb)
    JOIN business_customers bc ON bc.customer_id = x.customer_id`);
}
