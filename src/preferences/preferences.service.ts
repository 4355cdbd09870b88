// Communication preferences of a customer with one business, and the audiences they imply.
// A preferences change is a change of the customer aggregate: it goes through
// DatabaseSyncService.changeStanding, so the version bump, the outbox row and the
// customers.preferences.updated domain event commit with it or not at all.
import type { Db } from '../db/db.client.js';
import { AppError, invalidInput } from '../errors.js';
import { appendDomainEvents } from '../events/domain-events.repository.js';
import type { DatabaseSyncService, WriteContext, WriteResult } from '../sync/database-sync.service.js';
import {
  findCustomerPreferences,
  listAudience,
  loadStoredPreferences,
  segmentExists,
  upsertPreferences,
  type StoredPreferences,
} from './preferences.repository.js';
import {
  DEFAULT_PREFERENCES,
  PREFERENCE_FIELDS,
  preferencesUpdate,
  type AudienceQuery,
  type AudienceRecipient,
  type PreferenceValues,
  type Preferences,
} from './preferences.schema.js';
import { nextAllowedSendTime } from './quiet-hours.js';

export interface PreferencesServiceDeps {
  db: Db;
  sync: Pick<DatabaseSyncService, 'changeStanding'>;
  /** The clock for nextAllowedSendAt. */
  now?: () => Date;
}

export interface PreferencesUpdateResult {
  preferences: Preferences;
  write: WriteResult;
}

export class PreferencesService {
  private readonly db: Db;
  private readonly sync: Pick<DatabaseSyncService, 'changeStanding'>;
  private readonly now: () => Date;

  constructor(deps: PreferencesServiceDeps) {
    this.db = deps.db;
    this.sync = deps.sync;
    this.now = deps.now ?? (() => new Date());
  }

  /** The stored preferences, or the defaults (isDefault) when none are stored. */
  async get(businessId: string, customerId: string): Promise<Preferences> {
    const found = await findCustomerPreferences(this.db, businessId, customerId);
    if (!found || found.deleted) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
    return toPreferences(businessId, customerId, found.stored);
  }

  /**
   * Merges the given fields onto the current (or default) preferences. A request that changes no
   * value writes nothing: no row, no version bump, no event.
   */
  async update(businessId: string, customerId: string, body: unknown, ctx: Omit<WriteContext, 'businessId'> = {}): Promise<PreferencesUpdateResult> {
    const parsed = preferencesUpdate.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const patch = parsed.data;

    let stored: StoredPreferences | undefined;
    const write = await this.sync.changeStanding(customerId, { ...ctx, businessId, changedField: 'preferences' }, async (tx) => {
      // The customer row is locked here, so no other preferences write interleaves.
      const current = await loadStoredPreferences(tx, businessId, customerId);
      stored = current;
      const before: PreferenceValues = current ?? DEFAULT_PREFERENCES;
      const next: PreferenceValues = { ...before };
      for (const field of PREFERENCE_FIELDS) {
        if (patch[field] !== undefined) (next as unknown as Record<string, unknown>)[field] = patch[field];
      }
      const changedFields = PREFERENCE_FIELDS.filter((f) => next[f] !== before[f]);
      if (changedFields.length === 0) return false;
      const written = await upsertPreferences(tx, businessId, customerId, next);
      if (!written) return false;
      stored = written;
      // Field names only: the values (a timezone, quiet hours) say something about a person.
      await appendDomainEvents(tx, [{ businessId, customerId, eventType: 'customers.preferences.updated', payload: { changedFields } }]);
      return true;
    });
    return { preferences: toPreferences(businessId, customerId, stored), write };
  }

  /**
   * One page of the customers the business may message on this channel for this purpose, each
   * with the next time a message may be sent (after their quiet hours, in their time zone).
   */
  async audience(businessId: string, query: AudienceQuery): Promise<{ items: AudienceRecipient[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeAudienceCursor(query.cursor);
    const rows = await listAudience(this.db, {
      businessId,
      channel: query.channel,
      purpose: query.purpose,
      segmentId: query.segmentId,
      after,
      limit: query.limit + 1,
    });
    // The page query returns nothing for a segment that is not the business's; tell that apart
    // from an empty page only when it matters.
    if (rows.length === 0 && query.segmentId && !(await segmentExists(this.db, businessId, query.segmentId))) {
      throw new AppError('NOT_FOUND', `Segment ${query.segmentId} not found`);
    }
    const now = this.now();
    const page = rows.slice(0, query.limit);
    // A page has few distinct (timezone, quiet hours); each is computed once.
    const sendTimes = new Map<string, string>();
    const sendTime = (r: (typeof rows)[number]): string => {
      const key = `${r.timezone}|${r.quietHoursStart}|${r.quietHoursEnd}`;
      let at = sendTimes.get(key);
      if (at === undefined) sendTimes.set(key, (at = nextAllowedSendTime(now, r).toISOString()));
      return at;
    };
    const items = page.map((r): AudienceRecipient => ({
      customerId: r.customerId,
      channel: query.channel,
      address: r.address,
      ...(query.channel === 'PUSH' ? { pushTokenCount: Number(r.pushTokenCount) } : {}),
      timezone: r.timezone,
      frequency: r.frequency,
      nextAllowedSendAt: sendTime(r),
    }));
    const last = page[page.length - 1];
    return { items, nextCursor: rows.length > query.limit && last ? encodeAudienceCursor(last.customerId) : null };
  }
}

function toPreferences(businessId: string, customerId: string, stored: StoredPreferences | undefined): Preferences {
  const values = stored ?? DEFAULT_PREFERENCES;
  const out = Object.fromEntries(PREFERENCE_FIELDS.map((f) => [f, values[f]])) as unknown as PreferenceValues;
  return {
    customerId,
    businessId,
    ...out,
    isDefault: stored === undefined,
    createdAt: stored?.createdAt ?? null,
    updatedAt: stored?.updatedAt ?? null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeAudienceCursor(customerId: string): string {
  return Buffer.from(JSON.stringify(['a', customerId])).toString('base64url');
}

/** Decodes a cursor this API returned; anything else is a 400 naming query.cursor. */
function decodeAudienceCursor(cursor: string): string {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && decoded[0] === 'a' && typeof decoded[1] === 'string' && UUID.test(decoded[1])) {
      return decoded[1];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_INPUT', 'Invalid input: query.cursor: is not a cursor this API returned', [
    { field: 'query.cursor', message: 'is not a cursor this API returned' },
  ]);
}
