// Batch scoring of many customers: P(alive), expected purchases over several horizons,
// expected spend and CLV. Expected purchases given alive depend on (x, T) only, so the
// hypergeometric series run once per distinct (x, T) pair; per customer only P(alive)
// (one log1p and one exp) and a few multiplications remain. Results equal the
// per-customer functions in bg-nbd.ts and gamma-gamma.ts.

import { expectedPurchasesIfAlive, type BgNbdParams } from './bg-nbd.js';
import { conditionalExpectedAverageSpend, type ClvOptions, type GammaGammaParams } from './gamma-gamma.js';

export interface CustomersToScore {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
  zbar: ArrayLike<number>;
}

export interface ScoreOptions {
  /** Horizons (model time units) for expected purchases, e.g. [30, 90] in days. */
  horizons: readonly number[];
  clv: ClvOptions;
}

export interface CustomerScores {
  pAlive: Float64Array;
  /** One array per horizon, in the order of options.horizons. */
  expectedPurchases: Float64Array[];
  expectedSpend: Float64Array;
  clv: Float64Array;
  /** Distinct (x, T) pairs, i.e. how many times the series were evaluated per horizon. */
  uniquePairs: number;
}

export function scoreCustomers(
  bg: BgNbdParams,
  gg: GammaGammaParams,
  customers: CustomersToScore,
  options: ScoreOptions,
): CustomerScores {
  const n = customers.x.length;
  if (customers.tx.length !== n || customers.T.length !== n || customers.zbar.length !== n) {
    throw new RangeError('x, tx, T and zbar must have the same length');
  }
  const months = options.clv.months ?? 12;
  const discount = options.clv.monthlyDiscountRate ?? 0.01;
  const perMonth = options.clv.periodsPerMonth;
  const horizons = options.horizons;

  // Distinct (x, T) pairs; the numeric key is exact while x < 2^21 and T has < 2^31 values.
  const tIndex = new Map<number, number>();
  const pairIndex = new Map<number, number>();
  const pairOfCustomer = new Uint32Array(n);
  const pairX: number[] = [];
  const pairT: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = customers.x[i] ?? Number.NaN;
    const tx = customers.tx[i] ?? Number.NaN;
    const T = customers.T[i] ?? Number.NaN;
    if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 21 && Number.isFinite(T) && tx >= 0 && (tx <= T || x === 0))) {
      throw new RangeError(`invalid customer summary at ${i}: x=${x}, tx=${tx}, T=${T}`);
    }
    let t = tIndex.get(T);
    if (t === undefined) {
      t = tIndex.size;
      tIndex.set(T, t);
    }
    const key = t * 2 ** 21 + x;
    let k = pairIndex.get(key);
    if (k === undefined) {
      k = pairX.length;
      pairIndex.set(key, k);
      pairX.push(x);
      pairT.push(T);
    }
    pairOfCustomer[i] = k;
  }

  const pairs = pairX.length;
  const ifAlive = horizons.map(() => new Float64Array(pairs));
  const discountedIfAlive = new Float64Array(pairs);
  for (let k = 0; k < pairs; k++) {
    const x = pairX[k] ?? 0;
    const T = pairT[k] ?? 0;
    horizons.forEach((h, j) => {
      (ifAlive[j] as Float64Array)[k] = expectedPurchasesIfAlive(bg, h, x, T);
    });
    let total = 0;
    let previous = 0;
    for (let m = 1; m <= months; m++) {
      const cumulative = expectedPurchasesIfAlive(bg, m * perMonth, x, T);
      total += (cumulative - previous) / (1 + discount) ** m;
      previous = cumulative;
    }
    discountedIfAlive[k] = total;
  }

  const { r, alpha, a, b } = bg;
  const lnA = Math.log(a);
  const scores: CustomerScores = {
    pAlive: new Float64Array(n),
    expectedPurchases: horizons.map(() => new Float64Array(n)),
    expectedSpend: new Float64Array(n),
    clv: new Float64Array(n),
    uniquePairs: pairs,
  };
  for (let i = 0; i < n; i++) {
    const x = customers.x[i] ?? 0;
    const k = pairOfCustomer[i] ?? 0;
    let pAlive = 1;
    if (x > 0) {
      const tx = customers.tx[i] ?? 0;
      const T = customers.T[i] ?? 0;
      pAlive = 1 / (1 + Math.exp(lnA - Math.log(b + x - 1) + (r + x) * Math.log1p((T - tx) / (alpha + tx))));
    }
    scores.pAlive[i] = pAlive;
    for (let j = 0; j < horizons.length; j++) {
      (scores.expectedPurchases[j] as Float64Array)[i] = pAlive * ((ifAlive[j] as Float64Array)[k] ?? 0);
    }
    const spend = conditionalExpectedAverageSpend(gg, x, customers.zbar[i] ?? 0);
    scores.expectedSpend[i] = spend;
    const discounted = pAlive * (discountedIfAlive[k] ?? 0);
    scores.clv[i] = discounted === 0 ? 0 : spend * discounted;
  }
  return scores;
}
