// Many-rows-per-customer parts of the aggregate: addresses, IP addresses and the append-only
// activity log (reference 003, tables 5, 6, 8).
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  inet,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;
const latitude = (name: string) => numeric(name, { precision: 10, scale: 8, mode: 'number' });
const longitude = (name: string) => numeric(name, { precision: 11, scale: 8, mode: 'number' });
const owner = () =>
  uuid('customer_id')
    .notNull()
    .references(() => customers.id, { onDelete: 'cascade' });

export const ADDRESS_TYPES = ['billing', 'shipping', 'both'] as const;

export const customerAddresses = pgTable(
  'customer_addresses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: owner(),
    addressType: varchar('address_type', { length: 20, enum: ADDRESS_TYPES }).notNull().default('shipping'),
    isDefault: boolean('is_default').notNull().default(false),
    label: varchar('label', { length: 50 }),
    firstName: varchar('first_name', { length: 100 }),
    lastName: varchar('last_name', { length: 100 }),
    company: varchar('company', { length: 255 }),
    addressLine1: varchar('address_line1', { length: 255 }).notNull(),
    addressLine2: varchar('address_line2', { length: 255 }),
    city: varchar('city', { length: 100 }).notNull(),
    stateProvince: varchar('state_province', { length: 100 }),
    stateProvinceCode: varchar('state_province_code', { length: 10 }),
    country: varchar('country', { length: 100 }).notNull(),
    countryCode: varchar('country_code', { length: 2 }).notNull(),
    postalCode: varchar('postal_code', { length: 20 }),
    phone: varchar('phone', { length: 50 }),
    email: varchar('email', { length: 255 }),
    latitude: latitude('latitude'),
    longitude: longitude('longitude'),
    timezone: varchar('timezone', { length: 50 }),
    isValidated: boolean('is_validated').notNull().default(false),
    validationProvider: varchar('validation_provider', { length: 50 }),
    validationResult: jsonb('validation_result'),
    validatedAt: timestamp('validated_at', tz),
    neighborhoodIncomeLevel: varchar('neighborhood_income_level', { length: 50 }),
    neighborhoodMedianIncome: numeric('neighborhood_median_income', { precision: 10, scale: 2, mode: 'number' }),
    propertyType: varchar('property_type', { length: 50 }),
    propertyValueEstimate: numeric('property_value_estimate', { precision: 12, scale: 2, mode: 'number' }),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', tz),
  },
  (t) => [
    check('customer_addresses_type_check', sql`${t.addressType} IN ('billing', 'shipping', 'both')`),
    check('customer_addresses_country_code', sql`${t.countryCode} ~ '^[A-Z]{2}$'`),
    index('idx_customer_addresses_customer').on(t.customerId),
    index('idx_customer_addresses_default').on(t.customerId, t.isDefault),
    index('idx_customer_addresses_country_code').on(t.countryCode),
    index('idx_customer_addresses_postal_code').on(t.postalCode),
  ],
);

export const customerIpAddresses = pgTable(
  'customer_ip_addresses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: owner(),
    ipAddress: inet('ip_address').notNull(),
    ipVersion: integer('ip_version').notNull().default(4),
    country: varchar('country', { length: 100 }),
    countryCode: varchar('country_code', { length: 2 }),
    region: varchar('region', { length: 100 }),
    regionCode: varchar('region_code', { length: 10 }),
    city: varchar('city', { length: 100 }),
    postalCode: varchar('postal_code', { length: 20 }),
    latitude: latitude('latitude'),
    longitude: longitude('longitude'),
    timezone: varchar('timezone', { length: 50 }),
    isp: varchar('isp', { length: 255 }),
    organization: varchar('organization', { length: 255 }),
    asn: integer('asn'),
    asName: varchar('as_name', { length: 255 }),
    connectionType: varchar('connection_type', { length: 50 }),
    isVpn: boolean('is_vpn').notNull().default(false),
    isProxy: boolean('is_proxy').notNull().default(false),
    isTor: boolean('is_tor').notNull().default(false),
    isRelay: boolean('is_relay').notNull().default(false),
    isHosting: boolean('is_hosting').notNull().default(false),
    isMobile: boolean('is_mobile').notNull().default(false),
    userAgent: text('user_agent'),
    browser: varchar('browser', { length: 50 }),
    browserVersion: varchar('browser_version', { length: 20 }),
    operatingSystem: varchar('operating_system', { length: 50 }),
    osVersion: varchar('os_version', { length: 20 }),
    deviceType: varchar('device_type', { length: 50 }),
    deviceBrand: varchar('device_brand', { length: 50 }),
    deviceModel: varchar('device_model', { length: 50 }),
    firstSeenAt: timestamp('first_seen_at', tz).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', tz).notNull().defaultNow(),
    totalSessions: integer('total_sessions').notNull().default(1),
    totalPageViews: integer('total_page_views').notNull().default(0),
    totalEvents: integer('total_events').notNull().default(0),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('customer_ip_addresses_version', sql`${t.ipVersion} IN (4, 6)`),
    uniqueIndex('uq_customer_ip_addresses_customer_ip').on(t.customerId, t.ipAddress),
    index('idx_customer_ip_addresses_ip').on(t.ipAddress),
    index('idx_customer_ip_addresses_last_seen').on(t.lastSeenAt.desc().nullsFirst()),
    index('idx_customer_ip_addresses_risk_flags').on(t.isVpn, t.isProxy, t.isTor),
  ],
);

/** Append-only: rows are inserted, never updated; the projector writes only new ones. */
export const customerActivities = pgTable(
  'customer_activities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: owner(),
    activityType: varchar('activity_type', { length: 50 }).notNull(),
    activityCategory: varchar('activity_category', { length: 50 }),
    eventData: jsonb('event_data').$type<Record<string, unknown>>().notNull().default({}),
    ipAddress: inet('ip_address'),
    sessionId: varchar('session_id', { length: 255 }),
    userAgent: text('user_agent'),
    referrer: text('referrer'),
    utmSource: varchar('utm_source', { length: 100 }),
    utmMedium: varchar('utm_medium', { length: 100 }),
    utmCampaign: varchar('utm_campaign', { length: 100 }),
    countryCode: varchar('country_code', { length: 2 }),
    region: varchar('region', { length: 100 }),
    city: varchar('city', { length: 100 }),
    occurredAt: timestamp('occurred_at', tz).notNull().defaultNow(),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  },
  (t) => [
    index('idx_customer_activities_customer').on(t.customerId, t.occurredAt.desc().nullsFirst()),
    index('idx_customer_activities_type').on(t.activityType),
    index('idx_customer_activities_session').on(t.sessionId),
    index('idx_customer_activities_occurred_at').on(t.occurredAt.desc().nullsFirst()),
  ],
);
