// When transactions happen: each day of the range, at each place (location or shop), a random
// number of transactions averaging `transactionsPerDay`, inside opening hours, in time order.
import type { Prng } from './prng.js';
import { DAY, HOUR } from './time-units.js';

export interface TransactionWindow {
  startAt: number;
  endAt: number;
  transactionsPerDay: number;
}

export function transactionTimes(prng: Prng, placeCount: number, window: TransactionWindow): Array<{ at: number; place: number }> {
  const times: Array<{ at: number; place: number }> = [];
  for (let day = Math.floor(window.startAt / DAY) * DAY; day < window.endAt; day += DAY) {
    for (let place = 0; place < placeCount; place++) {
      const count = prng.int(0, Math.round(2 * window.transactionsPerDay));
      for (let k = 0; k < count; k++) {
        // Opening hours 16:00–02:00 UTC (09:00–19:00 Pacific).
        const at = day + 16 * HOUR + prng.int(0, 10 * HOUR - 1);
        if (at >= window.startAt && at < window.endAt) times.push({ at, place });
      }
    }
  }
  return times.sort((a, b) => a.at - b.at || a.place - b.place);
}
