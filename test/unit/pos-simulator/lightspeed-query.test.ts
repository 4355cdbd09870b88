// Lightspeed filter operators and the leaky bucket, without HTTP.
import { describe, expect, it } from 'vitest';
import { AccountRateLimiter } from '../../../src/pos-simulator/lightspeed/leaky-bucket.js';
import { LightspeedQueryError, parseFilter, parseListQuery, type FieldTable } from '../../../src/pos-simulator/lightspeed/lightspeed-query.js';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';

interface Row {
  id: number;
  at: number;
  name: string;
}
const fields: FieldTable<Row> = {
  rowID: { type: 'id', get: (r) => r.id },
  timeStamp: { type: 'time', get: (r) => r.at },
  name: { type: 'string', get: (r) => r.name },
};
const rows: Row[] = [
  { id: 1, at: Date.parse('2026-01-01T00:00:00Z'), name: 'Cold Brew' },
  { id: 2, at: Date.parse('2026-01-02T00:00:00Z'), name: 'Flat White' },
  { id: 3, at: Date.parse('2026-01-03T00:00:00Z'), name: 'Chai Latte' },
];
const ids = (field: keyof typeof fields, raw: string) => rows.filter(parseFilter(field, raw, fields[field]!)).map((r) => r.id);

describe('Lightspeed query filters', () => {
  it('applies every documented operator with the field type', () => {
    expect(ids('timeStamp', '>,2026-01-01T00:00:00+00:00')).toEqual([2, 3]);
    expect(ids('timeStamp', '>=,2026-01-02T00:00:00+00:00')).toEqual([2, 3]);
    expect(ids('timeStamp', '<,2026-01-02T00:00:00Z')).toEqual([1]);
    expect(ids('timeStamp', '<=,2026-01-02T00:00:00Z')).toEqual([1, 2]);
    expect(ids('timeStamp', '><,2026-01-01T12:00:00Z,2026-01-03T00:00:00Z')).toEqual([2, 3]);
    expect(ids('rowID', '!=,2')).toEqual([1, 3]);
    expect(ids('rowID', 'IN,[1,3]')).toEqual([1, 3]);
    expect(ids('rowID', '2')).toEqual([2]);
    expect(ids('name', '~,%latte')).toEqual([3]);
  });

  it('rejects bad dates (such as an unencoded "+" turned into a space), unknown fields and offsets', () => {
    expect(() => ids('timeStamp', '>,2026-01-01T00:00:00 00:00')).toThrow(LightspeedQueryError);
    expect(() => parseListQuery(new URLSearchParams('color=red'), fields, 'rowID')).toThrow(LightspeedQueryError);
    expect(() => parseListQuery(new URLSearchParams('offset=10'), fields, 'rowID')).toThrow(/after|next/i);
    expect(parseListQuery(new URLSearchParams('load_relations=["SaleLines"]&sort=-timeStamp'), fields, 'rowID')).toMatchObject({
      relations: ['SaleLines'],
      sortField: 'timeStamp',
      descending: true,
      limit: 100,
    });
  });
});

describe('Lightspeed leaky bucket', () => {
  it('drains fractionally at the drip rate and reports level/size', () => {
    const clock = new ManualClock(0);
    const bucket = new AccountRateLimiter({ bucketSize: 3, dripRatePerSecond: 0.5, burst: null }, clock);
    for (let i = 0; i < 3; i++) expect(bucket.take().allowed).toBe(true);
    const rejected = bucket.take();
    expect(rejected).toMatchObject({ allowed: false, limitType: 'bucket', retryAfterSeconds: 2 });
    clock.advance(1000);
    expect(bucket.take().allowed).toBe(false); // 2.5 + 1 still overflows 3
    clock.advance(1000);
    expect(bucket.take()).toMatchObject({ allowed: true, headers: { 'X-LS-API-Bucket-Level': '3/3', 'X-LS-API-Drip-Rate': '0.5' } });
    clock.advance(500);
    expect(bucket.currentLevel()).toBeCloseTo(2.75);
    expect(bucket.headers()['X-LS-API-Bucket-Level']).toBe('2.75/3');
  });

  it('applies the burst limiter before the bucket', () => {
    const clock = new ManualClock(0);
    const bucket = new AccountRateLimiter({ bucketSize: 90, dripRatePerSecond: 1, burst: { limit: 2, windowMs: 1000 } }, clock);
    bucket.take();
    bucket.take();
    expect(bucket.take()).toMatchObject({ allowed: false, limitType: 'burst', retryAfterSeconds: 1 });
    clock.advance(1000);
    expect(bucket.take().allowed).toBe(true);
  });
});
