// Calibration summaries from raw purchase events.
import { describe, expect, it } from 'vitest';
import { buildCalibrationSummary, type PurchaseEvent } from '../../../src/memory/models/rfm-summary.js';
import { dayNumberFromIsoDate } from '../../../src/memory/models/time-unit.js';

const day = (iso: string): number => dayNumberFromIsoDate(iso);
const event = (customerId: string, iso: string, amount: number): PurchaseEvent => ({ customerId, at: day(iso), amount });

describe('buildCalibrationSummary', () => {
  const events = [
    event('a', '2024-01-01', 10),
    event('a', '2024-01-08', 5),
    event('a', '2024-01-08', 7), // same day: one occasion worth 12
    event('a', '2024-01-15', 30),
    event('a', '2024-02-01', 99), // after the calibration end
    event('b', '2024-01-20', 40), // single purchase
    event('c', '2024-02-02', 8), // first purchase after the end: excluded
    event('d', '2024-01-31', 3), // first purchase on the last day: T = 0
  ];

  it('counts repeat occasions, merges same-day rows and ignores events after the end', () => {
    const s = buildCalibrationSummary(events, { calibrationEnd: day('2024-01-31'), unit: 'days' });
    expect(s.customerIds).toEqual(['a', 'b', 'd']);
    expect(Array.from(s.x)).toEqual([2, 0, 0]);
    expect(Array.from(s.tx)).toEqual([14, 0, 0]);
    expect(Array.from(s.T)).toEqual([30, 11, 0]);
    expect(Array.from(s.zbar)).toEqual([(12 + 30) / 2, 0, 0]);
  });

  it('measures time in weeks when asked, and accepts Dates in any order', () => {
    const shuffled = [...events].reverse().map((e) => ({ ...e, at: new Date((e.at as number) * 86_400_000 + 3_600_000) }));
    const s = buildCalibrationSummary(shuffled, { calibrationEnd: new Date('2024-01-31T23:00:00Z'), unit: 'weeks' });
    const a = s.customerIds.indexOf('a');
    expect(s.x[a]).toBe(2);
    expect(s.tx[a]).toBeCloseTo(2, 12);
    expect(s.T[a]).toBeCloseTo(30 / 7, 12);
    expect(s.zbar[a]).toBe(21);
  });

  it('returns an empty summary for no events', () => {
    const s = buildCalibrationSummary([], { calibrationEnd: 0 });
    expect(s.customerIds).toEqual([]);
    expect(s.x.length).toBe(0);
  });

  it('rejects non-finite amounts and invalid dates', () => {
    expect(() => buildCalibrationSummary([{ customerId: 'x', at: 1, amount: Number.NaN }], { calibrationEnd: 5 })).toThrow(RangeError);
    expect(() => buildCalibrationSummary([{ customerId: 'x', at: new Date('nope'), amount: 1 }], { calibrationEnd: 5 })).toThrow(RangeError);
  });
});
