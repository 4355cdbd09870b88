// Validation on the CDNOW sample (Fader, Hardie & Lee 2005): our calibration summary equals
// the published one, and both fits reproduce the published maximum-likelihood estimates.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitBgNbd } from '../../../src/memory/models/bg-nbd.js';
import { parseCdnowTransactions } from '../../../src/memory/models/cdnow-format.js';
import { fitGammaGamma } from '../../../src/memory/models/gamma-gamma.js';
import { buildCalibrationSummary } from '../../../src/memory/models/rfm-summary.js';
import { dayNumberFromIsoDate } from '../../../src/memory/models/time-unit.js';

const dataDir = new URL('../../../../shared/data/cdnow/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dataDir), 'utf8');
const csvRows = (name: string): Map<string, number[]> =>
  new Map(
    read(name)
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [id, ...values] = line.split(',');
        return [String(id), values.map(Number)];
      }),
  );

const events = parseCdnowTransactions(read('CDNOW_sample.txt'));
const summary = buildCalibrationSummary(events, { calibrationEnd: dayNumberFromIsoDate('1997-09-30'), unit: 'weeks' });

const withinPercent = (actual: number, published: number, percent: number): void => {
  expect(Math.abs(actual - published) / Math.abs(published), `${actual} vs ${published}`).toBeLessThanOrEqual(percent / 100);
};
const round2 = (v: number): number => Math.round(v * 100) / 100;

describe('CDNOW sample', () => {
  it('parses every transaction of the 2,357 customers, starting on 1997-01-01', () => {
    expect(events.length).toBe(6919);
    expect(new Set(events.map((e) => e.customerId)).size).toBe(2357);
    expect(Math.min(...events.map((e) => e.at))).toBe(dayNumberFromIsoDate('1997-01-01'));
    expect(summary.customerIds.length).toBe(2357);
  });

  it('builds the published 39-week calibration summary (file rounded to 2 decimals)', () => {
    const published = csvRows('cdnow_customers_summary.csv');
    expect(published.size).toBe(summary.customerIds.length);
    summary.customerIds.forEach((id, i) => {
      const [frequency, recency, T] = published.get(id) ?? [];
      expect(summary.x[i], `customer ${id}`).toBe(frequency);
      // The file holds weeks rounded to 2 decimals (e.g. 213 days = 30.428… weeks → 30.43).
      expect(round2(summary.tx[i] ?? -1), `customer ${id}`).toBe(recency);
      expect(round2(summary.T[i] ?? -1), `customer ${id}`).toBe(T);
      expect(Math.abs((summary.tx[i] ?? 0) - (recency ?? 0))).toBeLessThanOrEqual(0.005);
    });
  });

  it('computes zbar as the mean spend per repeat occasion, as in the summary with transactions', () => {
    const published = csvRows('cdnow_customers_summary_with_transactions.csv');
    summary.customerIds.forEach((id, i) => {
      const zbar = published.get(id)?.[3];
      expect(Math.abs((summary.zbar[i] ?? -1) - (zbar ?? 0)), `customer ${id}`).toBeLessThanOrEqual(0.005 + 1e-9);
    });
  });

  it('fits BG/NBD to the published r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4 (within 1%)', () => {
    const fit = fitBgNbd(summary);
    expect(fit.converged).toBe(true);
    withinPercent(fit.params.r, 0.243, 1);
    withinPercent(fit.params.alpha, 4.414, 1);
    withinPercent(fit.params.a, 0.793, 1);
    withinPercent(fit.params.b, 2.426, 1);
    withinPercent(fit.logLikelihood, -9582.4, 1);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 1);
    expect(fit.uniqueTriples).toBeLessThan(summary.customerIds.length / 2);
  });

  it('fits Gamma-Gamma on the 946 repeat buyers to the published p = 6.25, q = 3.74, γ = 15.44 (within 2%)', () => {
    const ours = fitGammaGamma(summary.x, summary.zbar);
    const published = csvRows('cdnow_customers_summary_with_transactions.csv');
    const fileX = summary.customerIds.map((id) => published.get(id)?.[0] ?? 0);
    const fileZbar = summary.customerIds.map((id) => published.get(id)?.[3] ?? 0);
    const fromFile = fitGammaGamma(fileX, fileZbar);
    for (const fit of [ours, fromFile]) {
      expect(fit.converged).toBe(true);
      expect(fit.customers).toBe(946);
      withinPercent(fit.params.p, 6.25, 2);
      withinPercent(fit.params.q, 3.74, 2);
      withinPercent(fit.params.gamma, 15.44, 2);
    }
  });
});
