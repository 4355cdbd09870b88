// The customer aggregate's API contract: zod schemas for input (create, replace, patch), list
// queries, and the inferred types. Timestamps are ISO-8601 with offset, dates YYYY-MM-DD.
import { isValidPhoneNumber } from 'libphonenumber-js';
import { z } from 'zod';
import { uuidId } from '../http/ids.js';
import { ADDRESS_TYPES, CUSTOMER_STATUSES, CUSTOMER_TYPES, LOYALTY_TIERS, RISK_LEVELS } from '../db/schema/index.js';

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

export const isoDateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 timestamp with a time zone, e.g. 2025-01-31T09:30:00Z' })
  .transform((s) => new Date(s));
// PostgreSQL has no year 0; refuse it here so the error names the field.
export const isoDate = z.iso
  .date({ message: 'must be a date like 2025-01-31' })
  .refine((d) => !d.startsWith('0000'), { message: 'must be a date like 2025-01-31 (there is no year 0)' });
const probability = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const count = z.number().int().min(0).max(2_147_483_647);
const money = z.number().min(0).max(9_999_999_999.99);
const score100 = z.number().int().min(0).max(100);
// PostgreSQL text cannot hold NUL; it is refused here, naming the field.
const noNul = (s: string) => !s.includes('\u0000');
const NUL_MESSAGE = 'must not contain NUL characters';
const text = (max: number) =>
  z.string().trim().max(max, `must be at most ${max} characters`).refine(noNul, { message: NUL_MESSAGE });
const shortList = z.array(text(100).min(1)).max(100);
const MAX_JSON_DEPTH = 10;
/**
 * A JSON object for free-form attributes: at most 10 levels deep and no NUL anywhere (jsonb
 * refuses it). Checked iteratively, so a hostile nesting depth cannot overflow the stack.
 */
const jsonObject = z.record(z.string().max(100), z.unknown()).superRefine((value, ctx) => {
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (path.length > MAX_JSON_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` });
      return;
    }
    if (typeof node === 'string') {
      if (!noNul(node)) ctx.addIssue({ code: 'custom', path, message: NUL_MESSAGE });
    } else if (typeof node === 'number') {
      if (!Number.isFinite(node)) ctx.addIssue({ code: 'custom', path, message: 'must be a finite number' });
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => stack.push([v, [...path, i]]));
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (!noNul(k)) ctx.addIssue({ code: 'custom', path: [...path, k], message: NUL_MESSAGE });
        stack.push([v, [...path, k]]);
      }
    } else if (typeof node !== 'boolean' && node !== null) {
      ctx.addIssue({ code: 'custom', path, message: 'must be JSON' });
    }
  }
}) as z.ZodType<Record<string, JsonValue>>;
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const uuid = uuidId;

export const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((c) => /^[A-Z]{2}$/.test(c) && regionNames.of(c) !== c && regionNames.of(c) !== 'Unknown Region', {
    message: 'must be an ISO 3166-1 alpha-2 country code, e.g. US',
  });
export const timezone = z
  .string()
  .max(50)
  .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. Europe/Paris' });
export const email = z.email({ message: 'must be an email address' }).max(255);
export const phone = z
  .string()
  .trim()
  .max(50)
  .refine((p) => isValidPhoneNumber(p), {
    message: 'must be a valid phone number in international format, e.g. +14155550123',
  });
// One spelling per address, as PostgreSQL's inet compares them (2001:0db8::0001 is 2001:db8::1).
const ipAddress = z
  .union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' })
  .transform((ip) => (ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip));

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const sourceInput = z.strictObject({
  source: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,49}$/, 'must be a lowercase source name such as square or lightspeed'),
  externalId: text(255).min(1, 'must not be empty'),
  data: jsonObject.optional(),
  syncStatus: z.enum(['active', 'paused', 'error']).optional(),
});

export const metricsInput = z.strictObject({
  totalOrders: count.optional(),
  completedOrders: count.optional(),
  cancelledOrders: count.optional(),
  returnedOrders: count.optional(),
  totalSpent: money.optional(),
  totalRefunded: money.optional(),
  netRevenue: z.number().min(-9_999_999_999.99).max(9_999_999_999.99).optional(),
  averageOrderValue: z.number().min(0).max(99_999_999.99).optional(),
  lifetimeValue: money.optional(),
  totalItemsPurchased: count.optional(),
  favoriteCategory: text(100).nullish(),
  favoriteBrand: text(100).nullish(),
  firstOrderDate: isoDate.nullish(),
  lastOrderDate: isoDate.nullish(),
  emailOpens: count.optional(),
  emailClicks: count.optional(),
  emailOpenRate: probability.nullish(),
  emailClickRate: probability.nullish(),
  churnProbability: probability.nullish(),
  predictedNextOrderDate: isoDate.nullish(),
  predictedLifetimeValue: money.nullish(),
  propensityScore: probability.nullish(),
});

export const demographicsInput = z.strictObject({
  gender: text(20).nullish(),
  age: z.number().int().min(0).max(150).nullish(),
  ageRange: text(20).nullish(),
  birthDate: isoDate.nullish(),
  birthYear: z.number().int().min(1900).max(2100).nullish(),
  incomeRange: text(50).nullish(),
  householdIncomePercentile: score100.nullish(),
  educationLevel: text(50).nullish(),
  occupation: text(100).nullish(),
  industry: text(100).nullish(),
  jobTitle: text(100).nullish(),
  company: text(255).nullish(),
  maritalStatus: text(30).nullish(),
  hasChildren: z.boolean().nullish(),
  numberOfChildren: z.number().int().min(0).max(50).nullish(),
  homeOwnershipStatus: text(30).nullish(),
  dwellingType: text(30).nullish(),
  interests: shortList.optional(),
  hobbies: shortList.optional(),
  preferredBrands: shortList.optional(),
  lifestyleSegment: text(100).nullish(),
  socialProfiles: z.record(z.string().max(50), text(255)).optional(),
  socialInfluenceScore: score100.nullish(),
  demographicSources: jsonObject.optional(),
  confidenceScore: probability.nullish(),
});

export const engagementInput = z.strictObject({
  emailConsent: z.boolean().optional(),
  emailConsentDate: isoDateTime.nullish(),
  emailUnsubscribeDate: isoDateTime.nullish(),
  totalEmailsSent: count.optional(),
  totalEmailsOpened: count.optional(),
  totalEmailsClicked: count.optional(),
  totalEmailsBounced: count.optional(),
  lastEmailOpenDate: isoDateTime.nullish(),
  lastEmailClickDate: isoDateTime.nullish(),
  emailEngagementScore: probability.nullish(),
  smsConsent: z.boolean().optional(),
  smsConsentDate: isoDateTime.nullish(),
  smsUnsubscribeDate: isoDateTime.nullish(),
  totalSmsSent: count.optional(),
  totalSmsClicked: count.optional(),
  lastSmsClickDate: isoDateTime.nullish(),
  smsEngagementScore: probability.nullish(),
  pushConsent: z.boolean().optional(),
  pushTokens: z.array(text(4096).min(1)).max(20).optional(),
  totalSessions: count.optional(),
  totalPageViews: count.optional(),
  averageSessionDuration: count.nullish(),
  bounceRate: probability.nullish(),
  appInstalled: z.boolean().optional(),
  appVersion: text(20).nullish(),
  appLastOpened: isoDateTime.nullish(),
  loyaltyMember: z.boolean().optional(),
  loyaltyTier: text(50).nullish(),
  loyaltyPoints: count.optional(),
  loyaltyLifetimePoints: count.optional(),
  totalReviews: count.optional(),
  averageReviewRating: z.number().min(0).max(5).nullish(),
  npsScore: z.number().int().min(0).max(10).nullish(),
});

export const riskInput = z.strictObject({
  riskScore: score100.optional(),
  riskLevel: z.enum(RISK_LEVELS).optional(),
  emailRiskScore: score100.optional(),
  ipRiskScore: score100.optional(),
  addressRiskScore: score100.optional(),
  behaviorRiskScore: score100.optional(),
  paymentRiskScore: score100.optional(),
  isDisposableEmail: z.boolean().optional(),
  isFreeEmail: z.boolean().optional(),
  emailDomainAgeDays: count.nullish(),
  hasMultipleAccounts: z.boolean().optional(),
  relatedAccountIds: z.array(uuid).max(100).optional(),
  usesVpnFrequently: z.boolean().optional(),
  multipleIpCountries: z.boolean().optional(),
  ipCountryCount: count.optional(),
  billingShippingMismatch: z.boolean().optional(),
  highRiskCountry: z.boolean().optional(),
  rapidOrderVelocity: z.boolean().optional(),
  unusualPurchasePattern: z.boolean().optional(),
  highReturnRate: z.boolean().optional(),
  paymentFailures: count.optional(),
  chargebacks: count.optional(),
  differentPaymentMethods: count.optional(),
  siftScore: score100.nullish(),
  riskifiedScore: score100.nullish(),
  maxmindRiskScore: score100.nullish(),
  isBlocked: z.boolean().optional(),
  blockedReason: text(2000).nullish(),
  blockedAt: isoDateTime.nullish(),
  blockedBy: text(255).nullish(),
  requiresReview: z.boolean().optional(),
  reviewNotes: text(5000).nullish(),
  reviewedAt: isoDateTime.nullish(),
  reviewedBy: text(255).nullish(),
  assessedAt: isoDateTime.optional(),
  nextAssessmentAt: isoDateTime.nullish(),
});

export const addressInput = z.strictObject({
  id: uuid.optional(),
  addressType: z.enum(ADDRESS_TYPES).optional(),
  isDefault: z.boolean().optional(),
  label: text(50).nullish(),
  firstName: text(100).nullish(),
  lastName: text(100).nullish(),
  company: text(255).nullish(),
  addressLine1: text(255).min(1, 'must not be empty'),
  addressLine2: text(255).nullish(),
  city: text(100).min(1, 'must not be empty'),
  stateProvince: text(100).nullish(),
  stateProvinceCode: text(10).nullish(),
  country: text(100).min(1, 'must not be empty'),
  countryCode,
  postalCode: text(20).nullish(),
  phone: phone.nullish(),
  email: email.nullish(),
  latitude: z.number().min(-90).max(90).nullish(),
  longitude: z.number().min(-180).max(180).nullish(),
  timezone: timezone.nullish(),
  isValidated: z.boolean().optional(),
  validationProvider: text(50).nullish(),
  validationResult: jsonObject.nullish(),
  validatedAt: isoDateTime.nullish(),
  neighborhoodIncomeLevel: text(50).nullish(),
  neighborhoodMedianIncome: z.number().min(0).max(99_999_999.99).nullish(),
  propertyType: text(50).nullish(),
  propertyValueEstimate: money.nullish(),
  lastUsedAt: isoDateTime.nullish(),
});

export const ipAddressInput = z.strictObject({
  ipAddress,
  country: text(100).nullish(),
  countryCode: countryCode.nullish(),
  region: text(100).nullish(),
  regionCode: text(10).nullish(),
  city: text(100).nullish(),
  postalCode: text(20).nullish(),
  latitude: z.number().min(-90).max(90).nullish(),
  longitude: z.number().min(-180).max(180).nullish(),
  timezone: timezone.nullish(),
  isp: text(255).nullish(),
  organization: text(255).nullish(),
  asn: z.number().int().min(0).max(4_294_967_295).nullish(),
  asName: text(255).nullish(),
  connectionType: z.enum(['residential', 'corporate', 'mobile', 'datacenter']).nullish(),
  isVpn: z.boolean().optional(),
  isProxy: z.boolean().optional(),
  isTor: z.boolean().optional(),
  isRelay: z.boolean().optional(),
  isHosting: z.boolean().optional(),
  isMobile: z.boolean().optional(),
  userAgent: text(2000).nullish(),
  browser: text(50).nullish(),
  browserVersion: text(20).nullish(),
  operatingSystem: text(50).nullish(),
  osVersion: text(20).nullish(),
  deviceType: text(50).nullish(),
  deviceBrand: text(50).nullish(),
  deviceModel: text(50).nullish(),
  firstSeenAt: isoDateTime.optional(),
  lastSeenAt: isoDateTime.optional(),
  totalSessions: count.optional(),
  totalPageViews: count.optional(),
  totalEvents: count.optional(),
});

export const activityInput = z.strictObject({
  id: uuid.optional(),
  activityType: z.string().regex(/^[a-z][a-z0-9_.]{0,49}$/, 'must be a snake_case name such as product_view'),
  activityCategory: text(50).nullish(),
  eventData: jsonObject.optional(),
  ipAddress: ipAddress.nullish(),
  sessionId: text(255).nullish(),
  userAgent: text(2000).nullish(),
  referrer: text(2000).nullish(),
  utmSource: text(100).nullish(),
  utmMedium: text(100).nullish(),
  utmCampaign: text(100).nullish(),
  countryCode: countryCode.nullish(),
  region: text(100).nullish(),
  city: text(100).nullish(),
  occurredAt: isoDateTime.optional(),
});

const coreFields = {
  email: email.nullish(),
  phone: phone.nullish(),
  firstName: text(100).nullish(),
  lastName: text(100).nullish(),
  dateOfBirth: isoDate
    .refine((d) => d >= '1900-01-01' && d <= new Date().toISOString().slice(0, 10), {
      message: 'must be a date between 1900-01-01 and today',
    })
    .nullish(),
  status: z.enum(CUSTOMER_STATUSES).optional(),
  customerType: z.enum(CUSTOMER_TYPES).optional(),
  lastActiveAt: isoDateTime.nullish(),
  tags: z.array(text(50).min(1)).max(100).optional(),
  notes: text(10_000).nullish(),
  internalNotes: text(10_000).nullish(),
  customAttributes: jsonObject.optional(),
};

const sectionFields = {
  sources: z.array(sourceInput).max(50).optional(),
  metrics: metricsInput.nullish(),
  demographics: demographicsInput.nullish(),
  engagement: engagementInput.nullish(),
  risk: riskInput.nullish(),
  addresses: z.array(addressInput).max(50).optional(),
  ipAddresses: z.array(ipAddressInput).max(200).optional(),
  // Append-only: listed activities that already exist are left as they are; new ones are added.
  activities: z.array(activityInput).max(500).optional(),
};

/** A whole aggregate: the body of POST (create) and PUT (replace). */
export const customerInput = z.strictObject({ ...coreFields, ...sectionFields }).superRefine(checkAggregateRules);

type AggregateShape = Pick<z.output<typeof customerInput>, 'email' | 'phone' | 'firstName' | 'lastName' | 'sources' | 'ipAddresses' | 'addresses'>;

/**
 * Rules over the whole aggregate. They hold for a create or replace body, and for the state a
 * patch produces (the service checks the merged result with `aggregateProblems`).
 */
export function checkAggregateRules(c: AggregateShape, ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void }): void {
  if (!c.email && !c.phone && !c.firstName && !c.lastName) {
    ctx.addIssue({ code: 'custom', path: ['email'], message: 'a customer needs at least an email, a phone or a name' });
  }
  checkUniqueWithin(ctx, c.sources, 'sources', (s) => `${s.source}\u0000${s.externalId}`, 'the same source id is listed twice');
  checkUniqueWithin(ctx, c.ipAddresses, 'ipAddresses', (ip) => ip.ipAddress, 'the same IP address is listed twice');
  checkUniqueWithin(ctx, c.addresses, 'addresses', (a) => a.id, 'the same address id is listed twice');
  const defaults = c.addresses?.map((a, i) => [a.isDefault, i] as const).filter(([d]) => d) ?? [];
  if (defaults.length > 1) {
    ctx.addIssue({ code: 'custom', path: ['addresses', defaults[1]![1]], message: 'at most one address can be the default' });
  }
}

/** The aggregate rules as field problems (for a patch's merged result). */
export function aggregateProblems(c: AggregateShape): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  checkAggregateRules(c, { addIssue: (i) => problems.push({ field: ['body', ...i.path].join('.'), message: i.message }) });
  return problems;
}

/** PATCH: only the keys present change; object sections merge field by field, arrays replace. */
export const customerPatch = z.strictObject({
  ...coreFields,
  sources: sectionFields.sources,
  metrics: metricsInput.partial().nullish(),
  demographics: demographicsInput.partial().nullish(),
  engagement: engagementInput.partial().nullish(),
  risk: riskInput.partial().nullish(),
  addresses: sectionFields.addresses,
  ipAddresses: sectionFields.ipAddresses,
  activities: sectionFields.activities,
});

export type CustomerInput = z.output<typeof customerInput>;
export type CustomerPatch = z.output<typeof customerPatch>;

function checkUniqueWithin<T>(
  ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void },
  items: T[] | undefined,
  path: string,
  key: (item: T) => string | undefined,
  message: string,
): void {
  const seen = new Set<string>();
  items?.forEach((item, index) => {
    const k = key(item);
    if (k === undefined) return;
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, index], message });
    seen.add(k);
  });
}

export const customerIdParams = z.strictObject({ id: uuid });

const queryMoney = z.coerce.number().min(0).max(9_999_999_999.99);
export const listCustomersQuery = z
  .strictObject({
  status: z.enum(CUSTOMER_STATUSES).optional(),
  tag: z.string().trim().min(1).max(50).optional(),
  // Three characters at least: shorter text has no trigram to look up, so it could only be found by reading every customer.
  q: z.string().trim().min(3, 'must be at least 3 characters').max(200).optional(),
  tier: z.enum(LOYALTY_TIERS, { message: `must be one of ${LOYALTY_TIERS.join(', ')}` }).optional(),
  segmentId: uuid.optional(),
  minSpent: queryMoney.optional(),
  maxSpent: queryMoney.optional(),
  lastVisitFrom: isoDate.optional(),
  lastVisitTo: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  includeDeleted: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  })
  .refine((f) => f.minSpent === undefined || f.maxSpent === undefined || f.minSpent <= f.maxSpent, {
    path: ['maxSpent'],
    message: 'must not be less than minSpent',
  })
  .refine((f) => !f.lastVisitFrom || !f.lastVisitTo || f.lastVisitFrom <= f.lastVisitTo, {
    path: ['lastVisitTo'],
    message: 'must not be before lastVisitFrom',
  });
export type ListCustomersQuery = z.output<typeof listCustomersQuery>;

export const readQuery = z.strictObject({
  includeDeleted: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

export const writeQuery = z.strictObject({
  wait: z.enum(['sync']).optional(),
});
