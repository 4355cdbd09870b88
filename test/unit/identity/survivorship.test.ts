// The survivorship rule: most recent non-null value from the most trusted source, with the
// fields that have rules of their own, and the email key duplicate detection compares.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { emailMatchKey } from '../../../src/identity/email-match-key.js';
import {
  chooseValue,
  DEFAULT_SOURCE_RANKING,
  mergeCoreFields,
  mergeSection,
  parseSourceRanking,
  rankOf,
  recordSource,
  type CoreFields,
  type SurvivorshipRecord,
} from '../../../src/identity/survivorship.js';

const ranking = [...DEFAULT_SOURCE_RANKING];
const day = (d: number) => new Date(Date.UTC(2025, 0, d));

function rec(role: 'survivor' | 'merged', source: string, at: Date | Record<string, Date>): SurvivorshipRecord {
  return {
    customerId: role === 'survivor' ? 's-id' : 'm-id',
    role,
    source,
    rank: rankOf(source, ranking),
    fieldTime: (f) => (at instanceof Date ? at : (at[f] ?? day(1))),
  };
}

const core = (over: Partial<CoreFields> = {}): CoreFields => ({
  email: null,
  phone: null,
  firstName: null,
  lastName: null,
  dateOfBirth: null,
  status: 'active',
  customerType: 'registered',
  lastActiveAt: null,
  tags: [],
  notes: null,
  internalNotes: null,
  customAttributes: {},
  ...over,
});

describe('ranking', () => {
  it('ranks sources in the configured order and unknown ones after every named one', () => {
    expect(rankOf('manual', ranking)).toBe(0);
    expect(rankOf('lightspeed', ranking)).toBe(2);
    expect(rankOf('shopify', ranking)).toBe(ranking.length);
  });

  it('trusts a record as its best-ranked source, and as manual when it has none', () => {
    expect(recordSource(['lightspeed', 'square'], ranking)).toBe('square');
    expect(recordSource(['lightspeed', 'lightspeed'], ranking)).toBe('lightspeed');
    expect(recordSource([], ranking)).toBe('manual');
    expect(recordSource(['shopify', 'import'], ranking)).toBe('import');
  });

  it('parses a ranking: trimmed, lower case, each source once; MERGE_SOURCE_RANKING is read by the same parser, with the same default', () => {
    expect(parseSourceRanking(' Square, manual ,square,,import')).toEqual(['square', 'manual', 'import']);
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };
    expect(parseConfig({ ...env, MERGE_SOURCE_RANKING: ' Lightspeed, manual ,lightspeed' }).identity.sourceRanking).toEqual(['lightspeed', 'manual']);
    expect(parseConfig(env).identity.sourceRanking).toEqual([...DEFAULT_SOURCE_RANKING]);
  });
});

describe('chooseValue', () => {
  it('takes the most trusted source even when a less trusted one is newer', () => {
    const { value, decision } = chooseValue('firstName', [
      { record: rec('survivor', 'lightspeed', day(20)), value: 'Newer' },
      { record: rec('merged', 'square', day(2)), value: 'Trusted' },
    ]);
    expect(value).toBe('Trusted');
    expect(decision).toMatchObject({ field: 'firstName', rule: 'most-trusted-source', from: 'merged', customerId: 'm-id', source: 'square' });
  });

  it('falls back to a less trusted source when the trusted value is null or blank', () => {
    for (const missing of [null, undefined, '  ']) {
      const { value, decision } = chooseValue('phone', [
        { record: rec('survivor', 'manual', day(20)), value: missing },
        { record: rec('merged', 'import', day(2)), value: '+14155550100' },
      ]);
      expect(value).toBe('+14155550100');
      expect(decision.rule).toBe('only-value');
      expect(decision.from).toBe('merged');
    }
  });

  it('takes the most recent value among equally trusted sources', () => {
    const { value, decision } = chooseValue('lastName', [
      { record: rec('survivor', 'square', day(3)), value: 'Old' },
      { record: rec('merged', 'square', day(9)), value: 'New' },
    ]);
    expect(value).toBe('New');
    expect(decision).toMatchObject({ rule: 'most-recent', from: 'merged', at: day(9).toISOString() });
  });

  it('keeps the survivor on a full tie and says so', () => {
    const { value, decision } = chooseValue('email', [
      { record: rec('merged', 'square', day(3)), value: 'b@example.com' },
      { record: rec('survivor', 'square', day(3)), value: 'a@example.com' },
    ]);
    expect(value).toBe('a@example.com');
    expect(decision.rule).toBe('tie-survivor');
  });

  it('reports no value when neither record has one', () => {
    const { value, decision } = chooseValue('dateOfBirth', [
      { record: rec('survivor', 'square', day(3)), value: null },
      { record: rec('merged', 'manual', day(3)), value: null },
    ]);
    expect(value).toBeNull();
    expect(decision).toMatchObject({ rule: 'no-value', from: null, customerId: null });
  });

  it('uses the time each record set that very field', () => {
    const { value } = chooseValue('email', [
      { record: rec('survivor', 'square', { email: day(30), firstName: day(1) }), value: 'recent@example.com' },
      { record: rec('merged', 'square', { email: day(5), firstName: day(40) }), value: 'older@example.com' },
    ]);
    expect(value).toBe('recent@example.com');
  });
});

describe('mergeCoreFields', () => {
  const s = rec('survivor', 'square', day(10));
  const m = rec('merged', 'lightspeed', day(20));

  it('decides each field and records a decision only where the records differ', () => {
    const { values, decisions } = mergeCoreFields(
      { record: s, values: core({ email: 'a@example.com', firstName: 'Ann', lastName: null }) },
      { record: m, values: core({ email: 'b@example.com', firstName: 'Ann', lastName: 'Lee' }) },
    );
    expect(values).toMatchObject({ email: 'a@example.com', firstName: 'Ann', lastName: 'Lee' });
    const fields = decisions.map((d) => d.field);
    expect(fields).toContain('email');
    expect(fields).toContain('lastName');
    expect(fields).not.toContain('firstName');
    expect(JSON.stringify(decisions)).not.toMatch(/example\.com|Lee|Ann/);
  });

  it('never lifts a block, unites tags, keeps the latest activity time and prefers a registered profile to a guest one', () => {
    const { values, decisions } = mergeCoreFields(
      { record: s, values: core({ status: 'active', customerType: 'guest', tags: ['vip', 'local'], lastActiveAt: day(3) }) },
      { record: m, values: core({ status: 'blocked', customerType: 'wholesale', tags: ['local', 'online'], lastActiveAt: day(8) }) },
    );
    expect(values.status).toBe('blocked');
    expect(values.customerType).toBe('wholesale');
    expect(values.tags).toEqual(['vip', 'local', 'online']);
    expect(values.lastActiveAt).toEqual(day(8));
    expect(decisions.find((d) => d.field === 'status')?.rule).toBe('blocked-wins');
    expect(decisions.find((d) => d.field === 'tags')?.rule).toBe('union');
    expect(decisions.find((d) => d.field === 'lastActiveAt')).toMatchObject({ rule: 'latest', from: 'merged' });
  });

  it('keeps both notes, the trusted one first, when they fit; the rule decides when they do not', () => {
    const both = mergeCoreFields({ record: s, values: core({ notes: 'from square' }) }, { record: m, values: core({ notes: 'from lightspeed' }) });
    expect(both.values.notes).toBe('from square\n\nfrom lightspeed');
    const long = 'x'.repeat(6000);
    const tooLong = mergeCoreFields({ record: s, values: core({ notes: long }) }, { record: m, values: core({ notes: `${long}y` }) });
    expect(tooLong.values.notes).toBe(long);
    expect(tooLong.decisions.find((d) => d.field === 'notes')?.rule).toBe('most-trusted-source');
  });

  it('combines custom attributes, the trusted record winning on a shared key', () => {
    const { values } = mergeCoreFields(
      { record: s, values: core({ customAttributes: { size: 'M', shoe: 40 } }) },
      { record: m, values: core({ customAttributes: { size: 'L', colour: 'red' } }) },
    );
    expect(values.customAttributes).toEqual({ size: 'M', shoe: 40, colour: 'red' });
  });
});

describe('mergeSection', () => {
  const s = rec('survivor', 'manual', day(10));
  const m = rec('merged', 'square', day(20));

  it('fills the survivor’s missing fields, unites lists and leaves bookkeeping out of the decisions', () => {
    const { values, decisions } = mergeSection(
      'demographics',
      { record: s, row: { gender: null, occupation: 'Nurse', interests: ['running'], socialProfiles: { x: 'a' }, updatedAt: day(10) } },
      { record: m, row: { gender: 'female', occupation: 'Teacher', interests: ['books'], socialProfiles: { y: 'b' }, updatedAt: day(20) } },
    );
    expect(values).toMatchObject({ gender: 'female', occupation: 'Nurse', interests: ['running', 'books'], socialProfiles: { x: 'a', y: 'b' } });
    expect(values).not.toHaveProperty('updatedAt');
    expect(decisions.map((d) => d.field).sort()).toEqual(['demographics.gender', 'demographics.interests', 'demographics.occupation', 'demographics.socialProfiles']);
  });

  it('takes the merged record’s section whole when the survivor has none, and nothing when neither has one', () => {
    expect(mergeSection('risk', { record: s, row: null }, { record: m, row: { riskScore: 40 } }).values).toEqual({ riskScore: 40 });
    expect(mergeSection('risk', { record: s, row: null }, { record: m, row: null }).values).toBeNull();
  });
});

describe('emailMatchKey', () => {
  it('folds case and plus tags everywhere, and dots only for Gmail', () => {
    expect(emailMatchKey('Ann.Lee+shop@Example.com')).toBe('ann.lee@example.com');
    expect(emailMatchKey('ann.lee@gmail.com')).toBe('annlee@gmail.com');
    expect(emailMatchKey('A.nn.Lee+x@googlemail.com')).toBe('annlee@gmail.com');
    expect(emailMatchKey('annlee@example.com')).not.toBe(emailMatchKey('ann.lee@example.com'));
    expect(emailMatchKey('+tag@example.com')).toBe('+tag@example.com');
    expect(emailMatchKey(null)).toBeNull();
  });
});
