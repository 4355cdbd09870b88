// BG/NBD: likelihood and predictions against mpmath references (30 digits), analytic
// gradient against finite differences, deduplication, edge cases, failure reporting.
import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  bgNbdLogLikelihoodSum,
  expectedPurchases,
  expectedPurchasesIfAlive,
  expectedPurchasesNewCustomer,
  fitBgNbd,
  probabilityAlive,
  type BgNbdParams,
} from '../../../src/memory/models/bg-nbd.js';
import { SeededRandom } from '../../../src/memory/models/random.js';
import { simulateCustomers } from '../../../src/memory/models/simulate.js';
import { uniqueTriples } from '../../../src/memory/models/unique-triples.js';

const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

const close = (actual: number, expected: number, relative: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-300);
};

describe('bgNbdLogLikelihood', () => {
  it.each([
    [2, 30.43, 38.86, -9.45860630706627],
    [0, 0, 38.86, -0.5547132764381585],
    [10, 35, 38, -27.17451817310222],
    [1, 1.71, 38.86, -4.469093275032589],
    [30, 0.2, 0.3, 22.191611171635973],
  ])('matches the reference for x=%d, t_x=%d, T=%d', (x, tx, T, expected) => {
    close(bgNbdLogLikelihood(CDNOW, x, tx, T), expected, 1e-12);
  });

  it('is 0 for a customer observed for no time (x = 0, T = 0)', () => {
    expect(bgNbdLogLikelihood(CDNOW, 0, 0, 0)).toBeCloseTo(0, 14);
  });

  it('sums over unique triples exactly as over customers', () => {
    const sim = simulateCustomers(CDNOW, 3000, { seed: 3, T: (_i, r) => Math.floor(r.uniform() * 60), wholeUnits: true });
    const triples = uniqueTriples(sim);
    expect(triples.size).toBeLessThan(1500);
    let direct = 0;
    for (let i = 0; i < sim.x.length; i++) direct += bgNbdLogLikelihood(CDNOW, sim.x[i] ?? 0, sim.tx[i] ?? 0, sim.T[i] ?? 0);
    close(bgNbdLogLikelihoodSum(CDNOW, triples), direct, 1e-12);
  });

  it('has an analytic gradient (in log-parameters) that matches central differences', () => {
    const sim = simulateCustomers(CDNOW, 2000, { seed: 11, T: (_i, r) => 20 + 30 * r.uniform() });
    const triples = uniqueTriples(sim);
    for (const params of [CDNOW, { r: 1.7, alpha: 0.3, a: 3.1, b: 0.4 }, { r: 0.05, alpha: 40, a: 0.1, b: 12 }]) {
      const gradient = new Float64Array(4);
      bgNbdLogLikelihoodSum(params, triples, gradient);
      const keys = ['r', 'alpha', 'a', 'b'] as const;
      keys.forEach((key, i) => {
        const h = 1e-6;
        const up = { ...params, [key]: params[key] * Math.exp(h) };
        const down = { ...params, [key]: params[key] * Math.exp(-h) };
        const numeric = (bgNbdLogLikelihoodSum(up, triples) - bgNbdLogLikelihoodSum(down, triples)) / (2 * h);
        expect(Math.abs((gradient[i] ?? 0) - numeric)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(numeric)));
      });
    }
  });
});

describe('probabilityAlive', () => {
  it('is exactly 1 for x = 0: by the model, customers only drop out right after a repeat purchase', () => {
    expect(probabilityAlive(CDNOW, 0, 0, 38.86)).toBe(1);
    expect(probabilityAlive(CDNOW, 0, 0, 0)).toBe(1);
  });

  it('follows 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) for repeat buyers', () => {
    close(probabilityAlive(CDNOW, 2, 30.43, 38.86), 0.726578570080673, 1e-13);
    close(probabilityAlive(CDNOW, 10, 35, 38), 0.8717390801244281, 1e-13);
    close(probabilityAlive(CDNOW, 1, 1.71, 38.86), 0.2121009853773791, 1e-13);
    close(probabilityAlive(CDNOW, 5, 0.5, 100), 8.902451376053362e-07, 1e-11);
  });
});

describe('expected purchases', () => {
  it.each([
    [39, 2, 30.43, 38.86, 1.2260281747671444],
    [52, 0, 0, 38.86, 0.2520730222824589],
    [10, 10, 35, 38, 1.9556584483243966],
    [1, 1, 1.71, 38.86, 0.006062951798282893],
    [200, 5, 0.5, 100, 6.089253381840869e-06],
    [52, 60, 38, 38.5, 51.05244253534542],
  ])('E[Y(%d) | x=%d, t_x=%d, T=%d] matches the 2F1 formula of FHL (2005) eq. 10', (t, x, tx, T, expected) => {
    close(expectedPurchases(CDNOW, t, x, tx, T), expected, 1e-11);
  });

  it.each([
    [1, 0.05326789117165828],
    [39, 1.196723193320817],
    [78, 1.8605190579427686],
    [1000, 6.580391613738232],
  ])('E[X(%d)] for a new customer matches FHL (2005) eq. 9', (t, expected) => {
    close(expectedPurchasesNewCustomer(CDNOW, t), expected, 1e-11);
  });

  it('is continuous through a = 1, where the closed form is 0/0, and handles a > 1 and a + b < 1', () => {
    const near = { r: 0.5, alpha: 3, a: 1, b: 2 };
    close(expectedPurchases(near, 20, 3, 10, 30), 0.2330816683640947, 1e-11);
    close(expectedPurchases({ ...near, a: 1 + 1e-9 }, 20, 3, 10, 30), 0.2330816683640947, 1e-8);
    close(expectedPurchases({ ...near, a: 1.7 }, 20, 3, 10, 30), 0.13164620571163252, 1e-11);
    close(expectedPurchasesNewCustomer({ r: 0.3, alpha: 2, a: 0.2, b: 0.3 }, 15), 1.290464670669517, 1e-11);
  });

  it('agrees with the simulator: mean repeat purchases of new customers over 52 weeks', () => {
    const n = 200_000;
    const sim = simulateCustomers(CDNOW, n, { seed: 5, T: 52 });
    let sum = 0;
    let sumSq = 0;
    for (const x of sim.x) {
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    const standardError = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(mean - expectedPurchasesNewCustomer(CDNOW, 52))).toBeLessThan(3 * standardError);
  });

  it('is zero for a zero horizon and grows with the horizon', () => {
    expect(expectedPurchases(CDNOW, 0, 2, 10, 20)).toBe(0);
    let previous = 0;
    for (const t of [1, 5, 30, 100, 1000]) {
      const value = expectedPurchases(CDNOW, t, 2, 10, 20);
      expect(value).toBeGreaterThan(previous);
      previous = value;
    }
  });
});

describe('edge cases stay finite', () => {
  const random = new SeededRandom(99);
  const extremes: BgNbdParams[] = [
    CDNOW,
    { r: 1e-3, alpha: 1e-3, a: 50, b: 1e-3 },
    { r: 30, alpha: 1e4, a: 1e-3, b: 80 },
    { r: 1, alpha: 1, a: 1, b: 1 },
  ];
  const customers: [number, number, number][] = [
    [0, 0, 0], // bought today, nothing else known
    [0, 0, 1e-9], // a single day of history, in years
    [1, 0, 0],
    [1, 1e-9, 1e-9],
    [500, 1, 1000], // very many purchases, long silent since
    [3, 2, 2],
  ];
  it('for log-likelihood, P(alive) and expectations across extreme parameters and customers', () => {
    for (const params of extremes) {
      for (const [x, tx, T] of customers) {
        for (const value of [
          bgNbdLogLikelihood(params, x, tx, T),
          probabilityAlive(params, x, tx, T),
          expectedPurchases(params, 30, x, tx, T),
          expectedPurchases(params, 1e4 * random.uniform(), x, tx, T),
          expectedPurchasesIfAlive(params, 365, x, T),
        ]) {
          expect(Number.isFinite(value), `${JSON.stringify(params)} ${x},${tx},${T}`).toBe(true);
        }
        const p = probabilityAlive(params, x, tx, T);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
  });

  it('scores a customer with no purchases as a new customer', () => {
    expect(expectedPurchases(CDNOW, 30, 0, 0, 0)).toBe(expectedPurchasesNewCustomer(CDNOW, 30));
  });

  it('rejects impossible summaries instead of returning NaN', () => {
    expect(() => probabilityAlive(CDNOW, 2, 5, 4)).toThrow(RangeError);
    expect(() => probabilityAlive(CDNOW, -1, 0, 4)).toThrow(RangeError);
    expect(() => expectedPurchases({ ...CDNOW, r: -1 }, 1, 0, 0, 1)).toThrow(RangeError);
  });
});

describe('fitBgNbd reports failure instead of throwing', () => {
  it('with no customers', () => {
    const fit = fitBgNbd({ x: [], tx: [], T: [] });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/no customers/);
  });

  it('when the iteration budget runs out, with finite parameters', () => {
    const sim = simulateCustomers(CDNOW, 500, { seed: 1, T: 39 });
    const fit = fitBgNbd(sim, { maxIterations: 2 });
    expect(fit.converged).toBe(false);
    expect(Object.values(fit.params).every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
  });

  it('when nobody ever repeats (the likelihood has no maximum)', () => {
    const fit = fitBgNbd({ x: [0, 0, 0], tx: [0, 0, 0], T: [10, 20, 30] });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/no repeat purchases/);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
  });

  it('when the data push the likelihood to the boundary', () => {
    // A repeat purchase at the very moment of the first one, observed for no time.
    const fit = fitBgNbd({ x: [1, 0, 0], tx: [0, 0, 0], T: [0, 0, 0] });
    expect(fit.converged).toBe(false);
    expect(Object.values(fit.params).every(Number.isFinite)).toBe(true);
  });

  it('shrinks parameters with the L2 penalizer', () => {
    const sim = simulateCustomers(CDNOW, 2000, { seed: 2, T: 39 });
    const plain = fitBgNbd(sim);
    const penalised = fitBgNbd(sim, { penalizer: 0.1 });
    expect(penalised.converged).toBe(true);
    expect(penalised.params.b).toBeLessThan(plain.params.b);
    expect(penalised.logLikelihood).toBeLessThan(plain.logLikelihood);
  });
});
