// The prediction engine's pure parts: sensible values at the edges (no purchases, one purchase,
// a single day of history), the ordering a model must respect, the fit's refusal of too little
// data, and co-occurrence recommendations.
import { describe, expect, it } from 'vitest';
import { defaultPrior, fitModels, scoreCustomer, type CustomerHistory } from '../../../src/memory/predictions/prediction-model.js';
import { CoOccurrence } from '../../../src/memory/predictions/recommendations.js';

const prior = defaultPrior(40);
const options = { monthlyDiscountRate: 0.01, fitted: true };
const history = (h: Partial<CustomerHistory>): CustomerHistory => ({
  x: 0,
  tx: 0,
  T: 0,
  zbar: 0,
  daysSinceLast: 0,
  hasPurchases: true,
  interactions90d: 0,
  ...h,
});

describe('scoring', () => {
  it('gives finite values in range for no purchases, one purchase and a single day of history', () => {
    const cases = [
      history({ hasPurchases: false, T: 40, daysSinceLast: 40 }),
      history({ T: 120, daysSinceLast: 120 }),
      history({ T: 0, daysSinceLast: 0 }),
      history({ x: 3, tx: 0.5, T: 1, zbar: 20, daysSinceLast: 0.5 }),
    ];
    for (const h of cases) {
      const s = scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, h, options);
      for (const [key, value] of Object.entries(s)) {
        if (value === null) continue;
        expect(Number.isFinite(value), key).toBe(true);
        expect(value, key).toBeGreaterThanOrEqual(0);
      }
      for (const key of ['churnRisk', 'propensity', 'engagementScore', 'confidence'] as const) expect(s[key]).toBeLessThanOrEqual(1);
    }
    expect(scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, cases[0]!, options).confidence).toBe(0);
  });

  it('ranks a lapsed customer as riskier and less valuable than a recent regular one', () => {
    const regular = scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, history({ x: 10, tx: 350, T: 360, zbar: 50, daysSinceLast: 10 }), options);
    const lapsed = scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, history({ x: 10, tx: 60, T: 360, zbar: 50, daysSinceLast: 300 }), options);
    expect(lapsed.churnRisk).toBeGreaterThan(regular.churnRisk);
    expect(lapsed.expectedPurchases90d).toBeLessThan(regular.expectedPurchases90d);
    expect(lapsed.predictedClv12m).toBeLessThan(regular.predictedClv12m);
    expect(lapsed.engagementScore).toBeLessThan(regular.engagementScore);
    expect(regular.nextPurchaseInDays).toBeGreaterThan(0);
    expect(regular.expectedPurchases90d).toBeGreaterThan(regular.expectedPurchases30d);
  });

  it('halves confidence on the default prior and uses the observed mean spend without a spend model', () => {
    const h = history({ x: 6, tx: 100, T: 120, zbar: 30, daysSinceLast: 20 });
    const fitted = scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, h, options);
    const unfitted = scoreCustomer(prior.bgnbd, prior.gammaGamma, 40, h, { ...options, fitted: false });
    expect(unfitted.confidence).toBeCloseTo(fitted.confidence / 2, 10);
    expect(scoreCustomer(prior.bgnbd, null, 40, h, options).expectedSpend).toBe(40);
  });
});

describe('fitting', () => {
  it('refuses too little data with a note instead of a fit', () => {
    const report = fitModels([{ customerId: 'a', at: 0, amount: 5 }, { customerId: 'a', at: 9, amount: 5 }], { calibrationEnd: 30 });
    expect(report.models).toBeNull();
    expect(report.note).toMatch(/too little data/);
  });
});

describe('recommendations', () => {
  it('recommends what buyers of the same items bought, not what the customer buys often', () => {
    const lines = [
      ...['u1', 'u2', 'u3'].flatMap((u) => [
        { customerId: u, itemId: 'mug', name: 'Mug' },
        { customerId: u, itemId: 'tea', name: 'Tea' },
      ]),
      { customerId: 'u3', itemId: 'spoon', name: 'Spoon' },
      { customerId: 'me', itemId: 'mug', name: 'Mug' },
      { customerId: 'me', itemId: 'mug', name: 'Mug' },
      { customerId: 'other', itemId: 'lamp', name: 'Lamp' },
    ];
    const recs = new CoOccurrence(lines).recommend('me');
    expect(recs.map((r) => r.itemId)).toEqual(['tea', 'spoon']);
    expect(recs[0]).toEqual({ itemId: 'tea', name: 'Tea', score: 1 });
    expect(recs[1]!.score).toBeLessThan(1);
    expect(new CoOccurrence(lines).recommend('nobody')).toEqual([]);
  });
});
