// Set-based SQL for linking external (POS) identities to customers: a page of new guest
// profiles, contact fields filled where a profile lacks them, and source rows, each in one
// statement whatever the page size. The caller validates every value and runs it all in the
// aggregate's transaction.
import { sql } from 'drizzle-orm';
import { queryRows, type Tx, uuidArray } from '../db/db.client.js';

export interface ContactFields {
  email: string | null;
  /** E.164, already validated. */
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
}


/** New guest customers with the given ids, linked to the business. */
export async function insertGuestCustomers(tx: Tx, businessId: string, rows: (ContactFields & { id: string })[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(rows);
  await tx.execute(sql`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${payload}::jsonb)
               AS x(id uuid, email text, phone text, "firstName" text, "lastName" text)),
    inserted AS (
      INSERT INTO customers (id, email, phone, phone_normalized, first_name, last_name, customer_type)
      SELECT id, email, phone, phone, "firstName", "lastName", 'guest' FROM x
      RETURNING id, email, created_at
    )
    -- The link's copy of created_at is given here: its trigger cannot see customers inserted by
    -- the same statement (migration 0007).
    INSERT INTO business_customers (business_id, customer_id, email_lowercase, customer_created_at)
    SELECT ${businessId}::uuid, id, lower(email), created_at FROM inserted`);
}

/**
 * Locks the customers and fills each contact field that is null with the given value (never
 * overwriting), keeps every business link's email copy current, and bumps the versions.
 * Returns the new versions.
 */
export async function fillContactsAndBump(tx: Tx, rows: (ContactFields & { id: string })[]): Promise<Map<string, number>> {
  if (rows.length === 0) return new Map();
  const payload = JSON.stringify(rows);
  const updated = await queryRows<{ id: string; version: number }>(
    tx,
    sql`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${payload}::jsonb)
               AS x(id uuid, email text, phone text, "firstName" text, "lastName" text)),
    locked AS (SELECT c.id FROM customers c WHERE c.id IN (SELECT id FROM x) ORDER BY c.id FOR UPDATE)
    UPDATE customers c SET
      email = coalesce(c.email, x.email),
      phone = coalesce(c.phone, x.phone),
      phone_normalized = CASE WHEN c.phone IS NULL THEN x.phone ELSE c.phone_normalized END,
      first_name = coalesce(c.first_name, x."firstName"),
      last_name = coalesce(c.last_name, x."lastName"),
      version = c.version + 1,
      updated_at = now()
    FROM x WHERE c.id = x.id AND c.id IN (SELECT id FROM locked)
    RETURNING c.id::text AS id, c.version::int AS version`,
  );
  const ids = updated.map((u) => u.id);
  await tx.execute(sql`
    UPDATE business_customers bc SET email_lowercase = lower(c.email)
    FROM customers c WHERE bc.customer_id = c.id AND c.id = ANY(${uuidArray(ids)})
      AND bc.email_lowercase IS DISTINCT FROM lower(c.email)`);
  return new Map(updated.map((u) => [u.id, u.version]));
}

export async function insertSourceLinks(tx: Tx, rows: { customerId: string; source: string; externalId: string }[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(rows);
  await tx.execute(sql`
    INSERT INTO customer_sources (customer_id, source, external_id)
    SELECT "customerId", source, "externalId" FROM jsonb_to_recordset(${payload}::jsonb)
      AS x("customerId" uuid, source text, "externalId" text)`);
}
