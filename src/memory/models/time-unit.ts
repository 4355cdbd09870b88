// Time units of the customer-base models. Purchase days are integer UTC day numbers (days
// since 1970-01-01); model time is measured in days or weeks. Months are the fixed lengths
// the `lifetimes` library uses for CLV (30 days, 4.345 weeks) so results stay comparable.

export type TimeUnit = 'days' | 'weeks';

export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { days: 1, weeks: 7 };

export const PERIODS_PER_MONTH: Readonly<Record<TimeUnit, number>> = { days: 30, weeks: 4.345 };

const MS_PER_DAY = 86_400_000;

/** UTC day number of a Date, or a given day number floored to a whole day. */
export function toDayNumber(at: Date | number): number {
  const day = at instanceof Date ? Math.floor(at.getTime() / MS_PER_DAY) : Math.floor(at);
  if (!Number.isFinite(day)) throw new RangeError(`invalid purchase date or day number: ${String(at)}`);
  return day;
}

/** UTC day number of a calendar date given as YYYY-MM-DD or YYYYMMDD. */
export function dayNumberFromIsoDate(text: string): number {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim());
  if (m === null) throw new RangeError(`expected a date as YYYY-MM-DD or YYYYMMDD, got "${text}"`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`not a calendar date: "${text}"`);
  }
  return ms / MS_PER_DAY;
}
