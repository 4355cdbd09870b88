// The simulator's generated data: deterministic per seed, with the overlaps and lifecycle
// changes the ingesters and identity linking must handle.
import { describe, expect, it } from 'vitest';
import { generatePosDataset } from '../../../src/pos-simulator/data/generate-dataset.js';
import { lsMoney } from '../../../src/pos-simulator/lightspeed/lightspeed-wire.js';

const OPTIONS = { seed: 'dataset-test', customers: 60, startAt: '2026-01-01T00:00:00Z', endAt: '2026-03-01T00:00:00Z' };

describe('POS dataset generator', () => {
  it('gives identical data for the same seed and different data for another seed', () => {
    const a = generatePosDataset(OPTIONS);
    const b = generatePosDataset(OPTIONS);
    expect(b).toEqual(a);
    const c = generatePosDataset({ ...OPTIONS, seed: 'other' });
    expect(c.square.payments.map((p) => p.id)).not.toEqual(a.square.payments.map((p) => p.id));
  });

  it('puts a third of the people in both systems, with differing email case and phone format', () => {
    const data = generatePosDataset(OPTIONS);
    const both = data.people.filter((p) => p.presence === 'both');
    expect(both.length).toBe(20);
    const digits = (s: string) => s.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
    for (const person of both) {
      const sq = data.square.customers.find((c) => c.id === person.squareCustomerId)!;
      const ls = data.lightspeed.customers.find((c) => String(c.customerId) === person.lightspeedCustomerId)!;
      const lsEmail = ls.emails[0]!.address;
      expect(sq.emailAddress).not.toBe(lsEmail);
      expect(sq.emailAddress!.toLowerCase()).toBe(lsEmail.toLowerCase());
      expect(sq.phoneNumber).toMatch(/^\+1 \d{3}-555-\d{4}$/);
      expect(ls.phones[0]!.number).toMatch(/^\(\d{3}\) 555-\d{4}$/);
      expect(digits(sq.phoneNumber!)).toBe(digits(ls.phones[0]!.number));
    }
  });

  it('issues Square refunds after capture, moving updated_at past created_at', () => {
    const { square } = generatePosDataset(OPTIONS);
    expect(square.refunds.length).toBeGreaterThan(0);
    for (const refund of square.refunds) {
      const payment = square.payments.find((p) => p.id === refund.paymentId)!;
      expect(payment.status).toBe('COMPLETED');
      expect(refund.createdAt).toBeGreaterThan(payment.createdAt);
      expect(payment.updatedAt).toBeGreaterThanOrEqual(refund.updatedAt);
      expect(payment.refundIds).toContain(refund.id);
      expect(payment.refundedCents).toBeLessThanOrEqual(payment.amountCents + payment.tipCents);
    }
    expect(square.payments.some((p) => p.status === 'CANCELED' && p.updatedAt > p.createdAt)).toBe(true);
    expect(square.payments.some((p) => p.customerId === undefined)).toBe(true);
    expect(square.payments.every((p) => Number.isInteger(p.amountCents) && p.amountCents > 0)).toBe(true);
    expect(new Set(square.payments.map((p) => p.locationId)).size).toBe(2);
  });

  it('records Lightspeed returns as later sales with negative quantities, and voids after the sale', () => {
    const { lightspeed } = generatePosDataset(OPTIONS);
    const returns = lightspeed.sales.filter((s) => s.returnOfSaleId !== undefined);
    expect(returns.length).toBeGreaterThan(0);
    for (const r of returns) {
      const original = lightspeed.sales.find((s) => s.saleId === r.returnOfSaleId)!;
      expect(r.createdAt).toBeGreaterThan(original.createdAt);
      expect(r.lines.every((l) => l.quantity < 0)).toBe(true);
      expect(r.totalCents).toBeLessThan(0);
    }
    expect(lightspeed.sales.some((s) => s.voided && s.updatedAt > s.createdAt)).toBe(true);
    expect(lightspeed.sales.some((s) => s.customerId === 0)).toBe(true);
    const ids = lightspeed.sales.map((s) => s.saleId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('writes Lightspeed money as exact decimal strings', () => {
    expect([lsMoney(31710), lsMoney(2500), lsMoney(-550), lsMoney(1), lsMoney(0)]).toEqual(['317.1', '25', '-5.5', '0.01', '0']);
  });
});
