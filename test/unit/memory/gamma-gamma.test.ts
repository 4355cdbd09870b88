// Gamma-Gamma likelihood, gradient, conditional spend and CLV (references: mpmath, 30–40
// digits, CLV computed the way lifetimes' customer_lifetime_value does), and batch scoring.
import { describe, expect, it } from 'vitest';
import { expectedPurchases, type BgNbdParams } from '../../../src/memory/models/bg-nbd.js';
import {
  clv,
  conditionalExpectedAverageSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodSum,
  prepareGammaGammaData,
  type GammaGammaParams,
} from '../../../src/memory/models/gamma-gamma.js';
import { scoreCustomers } from '../../../src/memory/models/score-customers.js';
import { simulateCustomers } from '../../../src/memory/models/simulate.js';
import { PERIODS_PER_MONTH } from '../../../src/memory/models/time-unit.js';

const BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const GG: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
const WEEKLY = { periodsPerMonth: PERIODS_PER_MONTH.weeks };

const close = (actual: number, expected: number, relative: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
};

describe('gammaGammaLogLikelihood', () => {
  it.each([
    [1, 11.77, -3.73770967874084],
    [2, 22.35, -3.5513167597317046],
    [10, 100.5, -7.16638253082849],
  ])('matches the reference for x=%d, zbar=%d', (x, zbar, expected) => {
    close(gammaGammaLogLikelihood(GG, x, zbar), expected, 1e-12);
  });

  it('sums to the per-customer values, ignoring customers without repeat spend', () => {
    const sim = simulateCustomers(BG, 3000, { seed: 8, T: 39, spend: GG });
    const data = prepareGammaGammaData(sim.x, sim.zbar);
    let direct = 0;
    let used = 0;
    sim.x.forEach((x, i) => {
      if (x > 0) {
        direct += gammaGammaLogLikelihood(GG, x, sim.zbar[i] ?? 0);
        used++;
      }
    });
    expect(data.size).toBe(used);
    close(gammaGammaLogLikelihoodSum(GG, data), direct, 1e-11);
  });

  it('has an analytic gradient (in log-parameters) that matches central differences', () => {
    const sim = simulateCustomers(BG, 3000, { seed: 9, T: 39, spend: GG });
    const data = prepareGammaGammaData(sim.x, sim.zbar);
    for (const params of [GG, { p: 0.8, q: 1.3, gamma: 200 }, { p: 25, q: 12, gamma: 3 }]) {
      const gradient = new Float64Array(3);
      gammaGammaLogLikelihoodSum(params, data, gradient);
      (['p', 'q', 'gamma'] as const).forEach((key, i) => {
        const h = 1e-6;
        const up = gammaGammaLogLikelihoodSum({ ...params, [key]: params[key] * Math.exp(h) }, data);
        const down = gammaGammaLogLikelihoodSum({ ...params, [key]: params[key] * Math.exp(-h) }, data);
        const numeric = (up - down) / (2 * h);
        expect(Math.abs((gradient[i] ?? 0) - numeric)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(numeric)));
      });
    }
  });
});

describe('conditionalExpectedAverageSpend', () => {
  it('matches p(γ + x·zbar)/(px + q − 1)', () => {
    close(conditionalExpectedAverageSpend(GG, 1, 11.77), 18.916852057842046, 1e-14);
    close(conditionalExpectedAverageSpend(GG, 2, 22.35), 24.663713910761153, 1e-14);
    close(conditionalExpectedAverageSpend(GG, 10, 100.5), 97.75827713059472, 1e-14);
  });

  it('is the population mean pγ/(q − 1) without repeat purchases', () => {
    close(conditionalExpectedAverageSpend(GG, 0, 0), (6.25 * 15.44) / 2.74, 1e-14);
  });

  it('says +Infinity, not a negative or NaN number, where the posterior mean does not exist (q ≤ 1)', () => {
    expect(conditionalExpectedAverageSpend({ p: 2, q: 0.8, gamma: 10 }, 0, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(conditionalExpectedAverageSpend({ p: 2, q: 0.8, gamma: 10 }, 1, 12)).toBeCloseTo((2 * 22) / 1.8, 12);
  });
});

describe('clv', () => {
  it.each([
    [2, 30.43, 38.86, 22.35, 36.289211125599216],
    [0, 0, 38.86, 0, 8.369004358920462],
    [0, 0, 0, 0, 48.34537089372769], // just acquired
    [7, 35.1, 38.86, 41.2, 213.66598417179256],
  ])('matches lifetimes-style 12-month CLV at 1%%/month for x=%d, t_x=%d, T=%d', (x, tx, T, zbar, expected) => {
    close(clv(BG, GG, { x, tx, T, zbar }, WEEKLY), expected, 1e-11);
  });

  it('without discounting is expected spend × expected purchases over the whole horizon', () => {
    const customer = { x: 3, tx: 20, T: 30, zbar: 17 };
    const value = clv(BG, GG, customer, { ...WEEKLY, monthlyDiscountRate: 0, months: 6 });
    const expected = conditionalExpectedAverageSpend(GG, 3, 17) * expectedPurchases(BG, 6 * 4.345, 3, 20, 30);
    close(value, expected, 1e-12);
  });
});

describe('fitGammaGamma reports failure instead of throwing', () => {
  it('with no repeat buyers', () => {
    const fit = fitGammaGamma([0, 0, 1], [0, 0, 0]);
    expect(fit.converged).toBe(false);
    expect(fit.customers).toBe(0);
  });

  it('when every repeat buyer spends the same (no heterogeneity to fit)', () => {
    const fit = fitGammaGamma([1, 1, 1], [5, 5, 5]);
    expect(fit.converged).toBe(false);
    expect(Object.values(fit.params).every(Number.isFinite)).toBe(true);
  });
});

describe('scoreCustomers', () => {
  it('gives the per-customer values of P(alive), expected purchases, spend and CLV', () => {
    const sim = simulateCustomers(BG, 400, { seed: 4, T: (_i, r) => Math.floor(r.uniform() * 40), spend: GG, wholeUnits: true });
    const x = [...sim.x, 0, 0, 1];
    const tx = [...sim.tx, 0, 0, 0];
    const T = [...sim.T, 0, 1e-9, 0];
    const zbar = [...sim.zbar, 0, 0, 12];
    const scores = scoreCustomers(BG, GG, { x, tx, T, zbar }, { horizons: [4, 13], clv: WEEKLY });
    expect(scores.uniquePairs).toBeLessThan(x.length);
    x.forEach((xi, i) => {
      const [t, T_, z] = [tx[i] ?? 0, T[i] ?? 0, zbar[i] ?? 0];
      close(scores.expectedPurchases[0]?.[i] ?? -1, expectedPurchases(BG, 4, xi, t, T_), 1e-12);
      close(scores.expectedPurchases[1]?.[i] ?? -1, expectedPurchases(BG, 13, xi, t, T_), 1e-12);
      close(scores.expectedSpend[i] ?? -1, conditionalExpectedAverageSpend(GG, xi, z), 1e-14);
      close(scores.clv[i] ?? -1, clv(BG, GG, { x: xi, tx: t, T: T_, zbar: z }, WEEKLY), 1e-12);
      expect(Number.isFinite(scores.pAlive[i])).toBe(true);
    });
  });
});
