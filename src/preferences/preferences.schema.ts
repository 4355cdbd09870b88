// Communication preferences and audiences: the API contract (zod), the defaults a customer has
// without a stored row, and the inferred types. The defaults here are the one source the service
// and the audience query use; the table's column defaults (migration 0004) must agree with them.
import { z } from 'zod';
import { uuidId } from '../http/ids.js';
import { timezone } from '../customers/customers.schema.js';
import { PREFERENCE_CHANNELS, PREFERENCE_FREQUENCIES } from '../db/schema/index.js';

export const AUDIENCE_PURPOSES = ['marketing', 'transactional'] as const;
export type AudiencePurpose = (typeof AUDIENCE_PURPOSES)[number];
export type PreferenceChannel = (typeof PREFERENCE_CHANNELS)[number];
export type PreferenceFrequency = (typeof PREFERENCE_FREQUENCIES)[number];

/** The stored part of a customer's preferences (one business). */
export interface PreferenceValues {
  emailMarketing: boolean;
  smsMarketing: boolean;
  pushNotifications: boolean;
  loyaltyUpdates: boolean;
  transactionReceipts: boolean;
  promotionalOffers: boolean;
  surveyInvitations: boolean;
  newsletterSubscription: boolean;
  frequency: PreferenceFrequency;
  preferredChannel: PreferenceChannel;
  timezone: string;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
}

/** What a customer without a stored row has (reference 002's column defaults). */
export const DEFAULT_PREFERENCES: Readonly<PreferenceValues> = Object.freeze({
  emailMarketing: true,
  smsMarketing: true,
  pushNotifications: true,
  loyaltyUpdates: true,
  transactionReceipts: true,
  promotionalOffers: true,
  surveyInvitations: false,
  newsletterSubscription: false,
  frequency: 'IMMEDIATE',
  preferredChannel: 'EMAIL',
  timezone: 'UTC',
  quietHoursStart: null,
  quietHoursEnd: null,
});

export const PREFERENCE_FIELDS = Object.keys(DEFAULT_PREFERENCES) as (keyof PreferenceValues)[];

export interface Preferences extends PreferenceValues {
  customerId: string;
  businessId: string;
  /** True when nothing is stored and these are the defaults. */
  isDefault: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM, e.g. 22:00');

/**
 * PUT body: any subset of the fields, merged onto the stored (or default) values. Quiet hours
 * are one setting: start and end are given together, both times or both null (no quiet hours).
 */
export const preferencesUpdate = z
  .strictObject({
    emailMarketing: z.boolean().optional(),
    smsMarketing: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    loyaltyUpdates: z.boolean().optional(),
    transactionReceipts: z.boolean().optional(),
    promotionalOffers: z.boolean().optional(),
    surveyInvitations: z.boolean().optional(),
    newsletterSubscription: z.boolean().optional(),
    frequency: z.enum(PREFERENCE_FREQUENCIES, { message: `must be one of ${PREFERENCE_FREQUENCIES.join(', ')}` }).optional(),
    preferredChannel: z.enum(PREFERENCE_CHANNELS, { message: `must be one of ${PREFERENCE_CHANNELS.join(', ')}` }).optional(),
    timezone: timezone.optional(),
    quietHoursStart: clockTime.nullable().optional(),
    quietHoursEnd: clockTime.nullable().optional(),
  })
  .superRefine((body, ctx) => {
    const { quietHoursStart: start, quietHoursEnd: end } = body;
    if (start === undefined && end === undefined) return;
    if (start === undefined || end === undefined) {
      const missing = start === undefined ? 'quietHoursStart' : 'quietHoursEnd';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'quietHoursStart and quietHoursEnd are set together (both times, or both null to clear)' });
    } else if ((start === null) !== (end === null)) {
      ctx.addIssue({ code: 'custom', path: [start === null ? 'quietHoursStart' : 'quietHoursEnd'], message: 'quietHoursStart and quietHoursEnd are both times or both null' });
    } else if (start !== null && start === end) {
      ctx.addIssue({ code: 'custom', path: ['quietHoursEnd'], message: 'must differ from quietHoursStart (use null for both to have no quiet hours)' });
    }
  });
export type PreferencesUpdate = z.output<typeof preferencesUpdate>;

export const audienceQuery = z.strictObject({
  channel: z.enum(PREFERENCE_CHANNELS, { message: `must be one of ${PREFERENCE_CHANNELS.join(', ')}` }),
  purpose: z.enum(AUDIENCE_PURPOSES, { message: `must be one of ${AUDIENCE_PURPOSES.join(', ')}` }),
  segmentId: uuidId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});
export type AudienceQuery = z.output<typeof audienceQuery>;

export interface AudienceRecipient {
  customerId: string;
  channel: PreferenceChannel;
  /** The email or E.164 phone; null for PUSH, whose tokens are never listed. */
  address: string | null;
  /** PUSH only: how many push tokens the customer has. */
  pushTokenCount?: number;
  timezone: string;
  frequency: PreferenceFrequency;
  /** ISO UTC: now, or the end of the customer's quiet hours. */
  nextAllowedSendAt: string;
}

// Response shapes, for the OpenAPI document.
export const preferencesBody = z
  .object({
    customerId: z.uuid(),
    businessId: z.uuid(),
    emailMarketing: z.boolean(),
    smsMarketing: z.boolean(),
    pushNotifications: z.boolean(),
    loyaltyUpdates: z.boolean(),
    transactionReceipts: z.boolean(),
    promotionalOffers: z.boolean(),
    surveyInvitations: z.boolean(),
    newsletterSubscription: z.boolean(),
    frequency: z.enum(PREFERENCE_FREQUENCIES),
    preferredChannel: z.enum(PREFERENCE_CHANNELS),
    timezone: z.string(),
    quietHoursStart: z.string().nullable(),
    quietHoursEnd: z.string().nullable(),
    isDefault: z.boolean().meta({ description: 'Nothing stored: these are the defaults' }),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'CommunicationPreferences', description: 'A customer’s communication preferences with the caller’s business' });

export const audienceRecipientBody = z
  .object({
    customerId: z.uuid(),
    channel: z.enum(PREFERENCE_CHANNELS),
    address: z.string().nullable().meta({ description: 'Email, or E.164 phone; null for PUSH' }),
    pushTokenCount: z.number().int().optional().meta({ description: 'PUSH only; tokens themselves are never listed' }),
    timezone: z.string(),
    frequency: z.enum(PREFERENCE_FREQUENCIES),
    nextAllowedSendAt: z.string().meta({ description: 'ISO UTC: now, or when the customer’s quiet hours end' }),
  })
  .meta({ id: 'AudienceRecipient' });
