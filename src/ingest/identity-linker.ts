// Identity linking: every POS customer record resolves to exactly one profile of the business.
// Order of evidence: the source link (customer_sources: source + external id), then the
// normalised email, then the E.164 phone, among that business's customers; otherwise a new
// guest profile. Every link and every new profile goes through DatabaseSyncService, so the
// change reaches Firestore like any other. Lookups are set-based: one query per kind of
// evidence for a whole page of records.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/db.client.js';
import type { PosProvider } from '../db/schema/index.js';
import { email as emailSchema } from '../customers/customers.schema.js';
import type { CustomerInput } from '../customers/customers.schema.js';
import { toAppError } from '../errors.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';

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

const textArray = (values: string[]) => sql`ARRAY[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]`;
const name = (value: string | null | undefined) => {
  const trimmed = value?.trim();
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
   * phone, or creating a guest profile. Records are handled in order, so two records of one
   * person in the same batch end on the same profile.
   */
  async link(businessId: string, records: SourceCustomer[]): Promise<LinkResult> {
    const unique = [...new Map(records.map((r) => [`${r.source}\u0000${r.externalId}`, r])).values()];
    const profiles = new Map<string, string>();
    let created = 0;
    let attached = 0;
    for (const source of new Set(unique.map((r) => r.source))) {
      const ofSource = unique.filter((r) => r.source === source);
      const linked = await this.lookup(businessId, source, ofSource.map((r) => r.externalId));
      for (const [externalId, customerId] of linked) profiles.set(externalId, customerId);
      const rest = ofSource.filter((r) => !linked.has(r.externalId)).map((r) => ({ record: r, ...this.normalize(r) }));
      if (rest.length === 0) continue;
      const byEmail = await this.byEmail(businessId, rest.flatMap((r) => (r.email ? [r.email] : [])));
      const byPhone = await this.byPhone(businessId, rest.flatMap((r) => (r.phone ? [r.phone] : [])));
      for (const { record, email, phone } of rest) {
        const match = (email && byEmail.get(email)) || (phone && byPhone.get(phone)) || undefined;
        const customerId = match
          ? await this.attach(businessId, match, record, email, phone)
          : await this.create(businessId, record, email, phone, byEmail, byPhone);
        if (match) attached++;
        else if (customerId.created) created++;
        profiles.set(record.externalId, customerId.id);
        if (email && !byEmail.has(email)) byEmail.set(email, customerId.id);
        if (phone && !byPhone.has(phone)) byPhone.set(phone, customerId.id);
      }
    }
    return { profiles, created, attached };
  }

  private async byEmail(businessId: string, emails: string[]): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows = await queryRows<{ email: string; customer_id: string }>(
      this.db,
      sql`SELECT email_lowercase AS email, customer_id::text FROM business_customers
          WHERE business_id = ${businessId} AND email_lowercase = ANY(${textArray(emails)})`,
    );
    return new Map(rows.map((r) => [r.email, r.customer_id]));
  }

  private async byPhone(businessId: string, phones: string[]): Promise<Map<string, string>> {
    if (phones.length === 0) return new Map();
    // Several profiles may share a phone (a household); the oldest is the one we link to.
    const rows = await queryRows<{ phone: string; customer_id: string }>(
      this.db,
      sql`SELECT DISTINCT ON (c.phone_normalized) c.phone_normalized AS phone, c.id::text AS customer_id
          FROM customers c JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${businessId}
          WHERE c.phone_normalized = ANY(${textArray(phones)})
          ORDER BY c.phone_normalized, c.created_at, c.id`,
    );
    return new Map(rows.map((r) => [r.phone, r.customer_id]));
  }

  /** Adds the source to the profile and fills the contact fields it lacks; it never overwrites. */
  private async attach(businessId: string, customerId: string, record: SourceCustomer, email: string | null, phone: string | null) {
    await this.sync.changeCustomer(
      customerId,
      (current) => ({
        ...current,
        email: current.email ?? email,
        phone: current.phone ?? phone,
        firstName: current.firstName ?? name(record.firstName),
        lastName: current.lastName ?? name(record.lastName),
        sources: withSource(current.sources ?? [], record),
      }),
      { businessId },
    );
    return { id: customerId, created: false };
  }

  private async create(
    businessId: string,
    record: SourceCustomer,
    email: string | null,
    phone: string | null,
    byEmail: Map<string, string>,
    byPhone: Map<string, string>,
  ): Promise<{ id: string; created: boolean }> {
    const input: CustomerInput = {
      email,
      phone,
      firstName: name(record.firstName),
      lastName: name(record.lastName),
      customerType: 'guest',
      sources: [{ source: record.source, externalId: record.externalId }],
    };
    try {
      const { customer } = await this.sync.syncCustomer(null, input, { businessId });
      return { id: customer.id, created: true };
    } catch (err) {
      // Someone created a profile with this email (or linked this source) since the lookup: use it.
      if (toAppError(err).code !== 'CONFLICT') throw err;
      const again = (await this.lookup(businessId, record.source, [record.externalId])).get(record.externalId);
      if (again) return { id: again, created: false };
      const owner = email ? (await this.byEmail(businessId, [email])).get(email) : undefined;
      if (!owner) throw err;
      byEmail.set(email!, owner);
      if (phone) byPhone.set(phone, owner);
      return this.attach(businessId, owner, record, email, phone);
    }
  }
}

function withSource(sources: NonNullable<CustomerInput['sources']>, record: SourceCustomer): NonNullable<CustomerInput['sources']> {
  if (sources.some((s) => s.source === record.source && s.externalId === record.externalId)) return sources;
  return [...sources, { source: record.source, externalId: record.externalId }];
}
