// Identity linking: every POS customer record resolves to exactly one profile of the business.
// Order of evidence: the source link (customer_sources: source + external id), then the
// normalised email, then the E.164 phone, among that business's customers; otherwise a new
// guest profile. Every link and every new profile goes through DatabaseSyncService, so the
// change reaches Firestore like any other. Lookups are set-based: one query per kind of
// evidence for a whole page of records.
import { randomUUID } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { sql } from 'drizzle-orm';
import { queryRows, textArray, type Db } from '../db/db.client.js';
import type { PosProvider } from '../db/schema/index.js';
import { email as emailSchema } from '../customers/customers.schema.js';
import { toAppError } from '../errors.js';
import type { DatabaseSyncService, LinkPlan } from '../sync/database-sync.service.js';

export interface SourceCustomer {
  source: PosProvider;
  /** Namespaced by account (`{accountId}/{id}`): Lightspeed ids are small integers per account. */
  externalId: string;
  email?: string | null;
  phone?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

export interface LinkResult {
  /** externalId → customer profile id, for every record asked about. */
  profiles: Map<string, string>;
  created: number;
  attached: number;
}

/** A name as the customer schema accepts it: trimmed, no NUL, at most 100 characters. */
const name = (value: string | null | undefined) => {
  const trimmed = value?.replaceAll('\u0000', '').trim();
  return trimmed ? trimmed.slice(0, 100) : null;
};

export class IdentityLinker {
  constructor(
    private readonly db: Db,
    private readonly sync: DatabaseSyncService,
    private readonly defaultPhoneRegion: string,
  ) {}

  /** Normalised contact details: a lowercase valid email, an E.164 valid phone, or null. */
  normalize(record: SourceCustomer): { email: string | null; phone: string | null } {
    const email = record.email?.trim().toLowerCase() ?? '';
    const phone = record.phone?.trim() ?? '';
    const parsedPhone = phone ? parsePhoneNumberFromString(phone, this.defaultPhoneRegion as CountryCode) : undefined;
    return {
      email: email && emailSchema.safeParse(email).success ? email : null,
      phone: parsedPhone?.isValid() ? parsedPhone.number : null,
    };
  }

  /** Profiles already linked to these source ids in the business (no writes). */
  async lookup(businessId: string, source: PosProvider, externalIds: string[]): Promise<Map<string, string>> {
    if (externalIds.length === 0) return new Map();
    const rows = await queryRows<{ external_id: string; customer_id: string }>(
      this.db,
      sql`SELECT cs.external_id, cs.customer_id::text FROM customer_sources cs
          JOIN business_customers bc ON bc.customer_id = cs.customer_id AND bc.business_id = ${businessId}
          WHERE cs.source = ${source} AND cs.external_id = ANY(${textArray(externalIds)})`,
    );
    return new Map(rows.map((r) => [r.external_id, r.customer_id]));
  }

  /**
   * Resolves every record to a profile, attaching the source to a profile found by email or
   * phone, or creating a guest profile. Records are resolved in order against what is stored
   * and what this batch plans, so two records of one person end on the same profile; the plan is
   * then written in one transaction. Should another writer take an email meanwhile, the batch
   * is retried record by record, each seeing the other's result.
   */
  async link(businessId: string, records: SourceCustomer[]): Promise<LinkResult> {
    const unique = [...new Map(records.map((r) => [`${r.source}\u0000${r.externalId}`, r])).values()];
    const profiles = new Map<string, string>();
    const pending: SourceCustomer[] = [];
    for (const source of new Set(unique.map((r) => r.source))) {
      const ofSource = unique.filter((r) => r.source === source);
      const linked = await this.lookup(businessId, source, ofSource.map((r) => r.externalId));
      for (const [externalId, customerId] of linked) profiles.set(externalId, customerId);
      pending.push(...ofSource.filter((r) => !linked.has(r.externalId)));
    }
    if (pending.length === 0) return { profiles, created: 0, attached: 0 };
    try {
      const planned = await this.plan(businessId, pending);
      await this.sync.linkSources(businessId, planned.plans);
      for (const [externalId, customerId] of planned.profiles) profiles.set(externalId, customerId);
      return { profiles, created: planned.plans.filter((p) => p.create).length, attached: planned.plans.filter((p) => !p.create).length };
    } catch (err) {
      if (toAppError(err).code !== 'CONFLICT' || pending.length === 1) throw err;
    }
    let created = 0;
    let attached = 0;
    for (const record of pending) {
      const one = await this.link(businessId, [record]);
      created += one.created;
      attached += one.attached;
      for (const [externalId, customerId] of one.profiles) profiles.set(externalId, customerId);
    }
    return { profiles, created, attached };
  }

  private async plan(businessId: string, records: SourceCustomer[]): Promise<{ plans: LinkPlan[]; profiles: Map<string, string> }> {
    const normalized = records.map((record) => ({ record, ...this.normalize(record) }));
    const byEmail = await this.byEmail(businessId, normalized.flatMap((r) => (r.email ? [r.email] : [])));
    const byPhone = await this.byPhone(businessId, normalized.flatMap((r) => (r.phone ? [r.phone] : [])));
    const plans = new Map<string, LinkPlan>();
    const profiles = new Map<string, string>();
    for (const { record, email, phone } of normalized) {
      const emailOwner = email ? byEmail.get(email) : undefined;
      const match = (emailOwner && !emailOwner.deleted ? emailOwner.id : undefined) ?? (phone ? byPhone.get(phone) : undefined);
      // An email held by a soft-deleted profile stays with it (emails are unique per business).
      const usableEmail = emailOwner?.deleted ? null : email;
      const fields = { email: usableEmail, phone, firstName: name(record.firstName), lastName: name(record.lastName) };
      const customerId = match ?? randomUUID();
      const plan = plans.get(customerId) ?? { customerId, create: !match, fields: { ...fields }, sources: [] };
      // Fields the profile (or this batch's earlier records) lack are filled; none is overwritten.
      // A second email or phone for one profile stays a fact of its source record only.
      for (const key of ['email', 'phone', 'firstName', 'lastName'] as const) plan.fields[key] ??= fields[key];
      plan.sources.push({ source: record.source, externalId: record.externalId });
      plans.set(customerId, plan);
      profiles.set(record.externalId, customerId);
      if (usableEmail && !byEmail.has(usableEmail)) byEmail.set(usableEmail, { id: customerId, deleted: false });
      if (phone && !byPhone.has(phone)) byPhone.set(phone, customerId);
    }
    return { plans: [...plans.values()], profiles };
  }

  private async byEmail(businessId: string, emails: string[]): Promise<Map<string, { id: string; deleted: boolean }>> {
    if (emails.length === 0) return new Map();
    const rows = await queryRows<{ email: string; customer_id: string; deleted: boolean }>(
      this.db,
      sql`SELECT bc.email_lowercase AS email, bc.customer_id::text, c.deleted_at IS NOT NULL AS deleted
          FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
          WHERE bc.business_id = ${businessId} AND bc.email_lowercase = ANY(${textArray(emails)})`,
    );
    return new Map(rows.map((r) => [r.email, { id: r.customer_id, deleted: r.deleted }]));
  }

  private async byPhone(businessId: string, phones: string[]): Promise<Map<string, string>> {
    if (phones.length === 0) return new Map();
    // Several profiles may share a phone (a household); the oldest live one is the one we link to.
    const rows = await queryRows<{ phone: string; customer_id: string }>(
      this.db,
      sql`SELECT DISTINCT ON (c.phone_normalized) c.phone_normalized AS phone, c.id::text AS customer_id
          FROM customers c JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${businessId}
          WHERE c.phone_normalized = ANY(${textArray(phones)}) AND c.deleted_at IS NULL
          ORDER BY c.phone_normalized, c.created_at, c.id`,
    );
    return new Map(rows.map((r) => [r.phone, r.customer_id]));
  }
}
