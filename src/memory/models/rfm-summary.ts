// Per-customer calibration summaries (x, t_x, T, zbar) from raw purchase events, the input
// of the BG/NBD and Gamma-Gamma models. Invariants: several events of one customer on one
// day are one purchase occasion (amounts summed); only events on or before the calibration
// end count; a customer whose first purchase is after the calibration end is absent;
// 0 ≤ t_x ≤ T, and t_x = 0 and zbar = 0 when x = 0.

import { DAYS_PER_UNIT, toDayNumber, type TimeUnit } from './time-unit.js';

export interface PurchaseEvent {
  customerId: string;
  /** A Date (its UTC day is used) or a day number (days since any fixed origin). */
  at: Date | number;
  amount: number;
}

export interface SummaryOptions {
  /** Last day of the calibration period, inclusive: a Date or a day number on the events' scale. */
  calibrationEnd: Date | number;
  unit?: TimeUnit;
}

/** Struct of arrays, one entry per customer, in order of first appearance in the events. */
export interface CalibrationSummary {
  unit: TimeUnit;
  customerIds: string[];
  /** Repeat purchase occasions in the calibration period. */
  x: Float64Array;
  /** Time of the last repeat occasion since the first purchase (0 if x = 0). */
  tx: Float64Array;
  /** Time from the first purchase to the calibration end. */
  T: Float64Array;
  /** Mean spend per repeat occasion (0 if x = 0). */
  zbar: Float64Array;
  /** Day number of the first purchase. */
  firstDay: Float64Array;
}

export function buildCalibrationSummary(events: Iterable<PurchaseEvent>, options: SummaryOptions): CalibrationSummary {
  const unit = options.unit ?? 'weeks';
  const endDay = toDayNumber(options.calibrationEnd);
  const perUnit = DAYS_PER_UNIT[unit];

  const indexById = new Map<string, number>();
  const customerIds: string[] = [];
  const eventCustomer: number[] = [];
  const eventDay: number[] = [];
  const eventAmount: number[] = [];
  for (const event of events) {
    if (!Number.isFinite(event.amount)) {
      throw new RangeError(`purchase amount must be finite (customer ${event.customerId})`);
    }
    const day = toDayNumber(event.at);
    if (day > endDay) continue;
    let index = indexById.get(event.customerId);
    if (index === undefined) {
      index = customerIds.length;
      indexById.set(event.customerId, index);
      customerIds.push(event.customerId);
    }
    eventCustomer.push(index);
    eventDay.push(day);
    eventAmount.push(event.amount);
  }

  // Counting sort of events by customer, then by day within each customer.
  const n = customerIds.length;
  const start = new Uint32Array(n + 1);
  for (const c of eventCustomer) start[c + 1] = (start[c + 1] ?? 0) + 1;
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] ?? 0) + (start[i] ?? 0);
  const fill = start.slice(0, n);
  const order = new Uint32Array(eventCustomer.length);
  eventCustomer.forEach((c, e) => {
    order[fill[c] ?? 0] = e;
    fill[c] = (fill[c] ?? 0) + 1;
  });

  const summary: CalibrationSummary = {
    unit,
    customerIds,
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    zbar: new Float64Array(n),
    firstDay: new Float64Array(n),
  };
  for (let c = 0; c < n; c++) {
    const slice = order.subarray(start[c] ?? 0, start[c + 1] ?? 0);
    slice.sort((e1, e2) => (eventDay[e1] ?? 0) - (eventDay[e2] ?? 0));
    const first = eventDay[slice[0] ?? 0] ?? 0;
    let occasions = 0;
    let lastDay = first;
    let repeatSpend = 0;
    for (const e of slice) {
      const day = eventDay[e] ?? 0;
      if (day !== first) {
        if (day !== lastDay) occasions++;
        lastDay = day;
        repeatSpend += eventAmount[e] ?? 0;
      }
    }
    summary.x[c] = occasions;
    summary.tx[c] = (lastDay - first) / perUnit;
    summary.T[c] = (endDay - first) / perUnit;
    summary.zbar[c] = occasions > 0 ? repeatSpend / occasions : 0;
    summary.firstDay[c] = first;
  }
  return summary;
}
