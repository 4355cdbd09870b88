// The domain events outbox: every event is inserted in the transaction of the change it reports
// (reference 002's event names). Consumers read it in id order through GET /api/v1/events.
import { sql } from 'drizzle-orm';
import { bigserial, customType, index, jsonb, pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });

export const domainEvents = pgTable(
  'domain_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    businessId: uuid('business_id').notNull(),
    eventType: varchar('event_type', { length: 80 }).notNull(),
    /** The customer the event is about, if any (segment events of a whole segment have none). */
    customerId: uuid('customer_id'),
    /** Ids, names and values that are not personal data: never an email, phone or name. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
    /**
     * The writing transaction: the feed's order is (tx_id, id), and it only returns events of
     * transactions older than every one of this database still running, so an event committed
     * late is never behind a consumer's position (listDomainEvents).
     */
    txId: xid8('tx_id').notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    index('idx_domain_events_feed').on(t.businessId, t.txId, t.id),
    index('idx_domain_events_customer').on(t.customerId, t.id),
  ],
);
