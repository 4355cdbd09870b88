// nextAllowedSendTime: inside and outside quiet hours, windows that wrap midnight, no window,
// and zones whose offset changes on the day (whole-hour and Lord Howe's 30-minute DST).
import { describe, expect, it } from 'vitest';
import { minutesOfDay, nextAllowedSendTime } from '../../../src/preferences/quiet-hours.js';

const at = (iso: string) => new Date(iso);
const next = (now: string, timezone: string, quietHoursStart: string | null, quietHoursEnd: string | null) =>
  nextAllowedSendTime(at(now), { timezone, quietHoursStart, quietHoursEnd }).toISOString();

describe('nextAllowedSendTime', () => {
  it('sends now when there are no quiet hours, or start equals end', () => {
    expect(next('2025-03-10T23:30:00.000Z', 'UTC', null, null)).toBe('2025-03-10T23:30:00.000Z');
    expect(next('2025-03-10T23:30:00.000Z', 'UTC', '22:00', null)).toBe('2025-03-10T23:30:00.000Z');
    expect(next('2025-03-10T23:30:00.000Z', 'UTC', '22:00', '22:00')).toBe('2025-03-10T23:30:00.000Z');
  });

  it('sends now outside quiet hours, including at the instant they end', () => {
    expect(next('2025-03-10T12:00:00.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-10T12:00:00.000Z');
    expect(next('2025-03-10T08:00:00.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-10T08:00:00.000Z');
    expect(next('2025-03-10T21:59:59.999Z', 'UTC', '22:00', '08:00')).toBe('2025-03-10T21:59:59.999Z');
  });

  it('delays to the next morning in the evening part of a window that wraps midnight', () => {
    expect(next('2025-03-10T22:00:00.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-11T08:00:00.000Z');
    expect(next('2025-03-10T23:30:00.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-11T08:00:00.000Z');
  });

  it('delays to the same morning in the early part of a window that wraps midnight', () => {
    expect(next('2025-03-10T03:00:00.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-10T08:00:00.000Z');
    expect(next('2025-03-10T07:59:59.000Z', 'UTC', '22:00', '08:00')).toBe('2025-03-10T08:00:00.000Z');
  });

  it('handles a window within one day', () => {
    // 12:30 in Paris (CEST, +02:00) is inside 12:00–14:00, which ends at 12:00 UTC.
    expect(next('2025-07-01T10:30:00.000Z', 'Europe/Paris', '12:00', '14:00')).toBe('2025-07-01T12:00:00.000Z');
    expect(next('2025-07-01T09:30:00.000Z', 'Europe/Paris', '12:00', '14:00')).toBe('2025-07-01T09:30:00.000Z');
  });

  it('reads the quiet hours in the customer’s time zone, not UTC', () => {
    // 21:30 in Kolkata (+05:30) is inside 21:00–09:00; 09:00 IST the next day is 03:30 UTC.
    expect(next('2025-01-15T16:00:00.000Z', 'Asia/Kolkata', '21:00', '09:00')).toBe('2025-01-16T03:30:00.000Z');
    // The same instant is 08:00 in Los Angeles: outside 21:00–07:00 there.
    expect(next('2025-01-15T16:00:00.000Z', 'America/Los_Angeles', '21:00', '07:00')).toBe('2025-01-15T16:00:00.000Z');
    // 05:45 in Kathmandu (+05:45) is inside 22:00–06:00, which ends at 00:15 UTC.
    expect(next('2025-01-15T00:00:00.000Z', 'Asia/Kathmandu', '22:00', '06:00')).toBe('2025-01-15T00:15:00.000Z');
  });

  it('uses the offset after a spring-forward jump that happens during the quiet hours', () => {
    // New York, 2025-03-09 02:00 EST → 03:00 EDT. 23:00 EST on the 8th; 08:00 EDT is 12:00 UTC.
    expect(next('2025-03-09T04:00:00.000Z', 'America/New_York', '22:00', '08:00')).toBe('2025-03-09T12:00:00.000Z');
  });

  it('ends at the jump when the end time does not exist on a spring-forward day', () => {
    // 02:30 does not exist in New York on 2025-03-09: the first instant after it is 03:00 EDT (07:00 UTC).
    expect(next('2025-03-09T05:00:00.000Z', 'America/New_York', '22:00', '02:30')).toBe('2025-03-09T07:00:00.000Z');
  });

  it('uses the offset after a fall-back change, and the first occurrence of a repeated end time', () => {
    // New York, 2025-11-02 02:00 EDT → 01:00 EST. 23:00 EDT on the 1st; 08:00 EST is 13:00 UTC.
    expect(next('2025-11-02T03:00:00.000Z', 'America/New_York', '22:00', '08:00')).toBe('2025-11-02T13:00:00.000Z');
    // 00:00 EDT: 01:30 happens twice; the first time (EDT) is 05:30 UTC.
    expect(next('2025-11-02T04:00:00.000Z', 'America/New_York', '22:00', '01:30')).toBe('2025-11-02T05:30:00.000Z');
    // 01:10 EST (the second 01:10): the next 01:30 is the EST one, 06:30 UTC.
    expect(next('2025-11-02T06:10:00.000Z', 'America/New_York', '22:00', '01:30')).toBe('2025-11-02T06:30:00.000Z');
  });

  it('handles Lord Howe Island’s 30-minute daylight saving change', () => {
    // 2025-10-05 02:00 (+10:30) → 02:30 (+11:00), at 15:30 UTC on the 4th.
    // 23:30 (+10:30) on the 4th; 07:00 (+11:00) on the 5th is 20:00 UTC on the 4th.
    expect(next('2025-10-04T13:00:00.000Z', 'Australia/Lord_Howe', '22:00', '07:00')).toBe('2025-10-04T20:00:00.000Z');
    // 02:15 does not exist that day: the first instant after it is the jump.
    expect(next('2025-10-04T13:00:00.000Z', 'Australia/Lord_Howe', '22:00', '02:15')).toBe('2025-10-04T15:30:00.000Z');
    // 2025-04-06 02:00 (+11:00) → 01:30 (+10:30): 22:00 (+11:00) on the 5th; the first 01:45 is still +11:00.
    expect(next('2025-04-05T11:00:00.000Z', 'Australia/Lord_Howe', '21:00', '01:45')).toBe('2025-04-05T14:45:00.000Z');
    // 08:00 (+10:30) on the 6th is 21:30 UTC on the 5th.
    expect(next('2025-04-05T11:00:00.000Z', 'Australia/Lord_Howe', '21:00', '08:00')).toBe('2025-04-05T21:30:00.000Z');
  });

  it('never answers before now nor more than a day later, every 20 minutes across DST days', () => {
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    const windows: [string, string][] = [['22:00', '08:00'], ['01:00', '03:00'], ['02:15', '02:45'], ['12:00', '02:30']];
    const days = ['2025-03-08T00:00:00Z', '2025-03-29T00:00:00Z', '2025-04-04T00:00:00Z', '2025-10-03T00:00:00Z', '2025-10-25T00:00:00Z', '2025-11-01T00:00:00Z'];
    const violations: string[] = [];
    for (const zone of zones) {
      for (const [start, end] of windows) {
        for (const day of days) {
          for (let step = 0; step < 3 * 72; step++) {
            const now = new Date(Date.parse(day) + step * 1_200_000);
            const delay = nextAllowedSendTime(now, { timezone: zone, quietHoursStart: start, quietHoursEnd: end }).getTime() - now.getTime();
            if (delay < 0 || delay > 86_400_000) violations.push(`${zone} ${start}-${end} ${now.toISOString()}: ${delay} ms`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('refuses an unknown time zone and a malformed time', () => {
    expect(() => nextAllowedSendTime(at('2025-01-01T00:00:00Z'), { timezone: 'Mars/Olympus', quietHoursStart: '22:00', quietHoursEnd: '08:00' })).toThrow(RangeError);
    expect(() => minutesOfDay('24:00')).toThrow(RangeError);
    expect(minutesOfDay('23:59')).toBe(1439);
  });
});
