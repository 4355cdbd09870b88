// lgamma, digamma and 2F1 against reference values computed with mpmath at 30 digits.
import { describe, expect, it } from 'vitest';
import { digamma } from '../../../src/memory/models/digamma.js';
import { hyp2f1, hyp2f1ScaledExcess, hyp2f1Series } from '../../../src/memory/models/hyp2f1.js';
import { lgamma, lnBeta } from '../../../src/memory/models/lgamma.js';

const close = (actual: number, expected: number, relative: number, absolute = 0): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(relative * Math.abs(expected), absolute));
};

describe('lgamma', () => {
  const reference: [number, number][] = [
    [1e-10, 23.025850929882736],
    [0.001, 6.907178885383853],
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247001],
    [1.5, -0.12078223763524522],
    [2.5, 0.2846828704729192],
    [3, 0.6931471805599453],
    [7.3, 7.147892523022249],
    [10, 12.801827480081469],
    [33.3, 82.60372358165495],
    [100, 359.1342053695754],
    [1000, 5905.220423209181],
    [1e6, 12815504.569147611],
    [1e10, 220258509288.81058],
  ];
  it.each(reference)('matches ln Γ(%d) to 1e-13', (x, expected) => {
    close(lgamma(x), expected, 1e-13, 1e-14);
  });

  it('is exactly zero at 1 and 2 and infinite at the poles', () => {
    expect(lgamma(1)).toBe(0);
    expect(lgamma(2)).toBe(0);
    expect(lgamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(lgamma(-3)).toBe(Number.POSITIVE_INFINITY);
  });

  it('uses reflection for negative arguments: ln|Γ(−0.5)| = ln(2√π)', () => {
    close(lgamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-14);
  });

  it('agrees with the recurrence ln Γ(x + 1) = ln Γ(x) + ln x across the whole range', () => {
    for (let x = 0.013; x < 300; x *= 1.37) close(lgamma(x + 1), lgamma(x) + Math.log(x), 1e-13, 1e-14);
  });

  it('gives ln B(a, b) consistent with B(1, b) = 1/b', () => {
    close(lnBeta(1, 4.2), -Math.log(4.2), 1e-14, 1e-15);
    close(lnBeta(0.793, 2.426), lgamma(0.793) + lgamma(2.426) - lgamma(3.219), 1e-15, 1e-15);
  });
});

describe('digamma', () => {
  const reference: [number, number][] = [
    [0.001, -1000.5755719318103],
    [0.243, -4.351093864423211],
    [1, -0.5772156649015329],
    [2.426, 0.6662079149687962],
    [3.5, 1.103156640645243],
    [10, 2.251752589066721],
    [100, 4.600161852738087],
  ];
  it.each(reference)('matches ψ(%d) to 1e-13', (x, expected) => {
    close(digamma(x), expected, 1e-13, 1e-14);
  });

  it('is the derivative of lgamma', () => {
    for (const x of [0.05, 0.7, 3.3, 41]) {
      const h = 1e-5 * x;
      close(digamma(x), (lgamma(x + h) - lgamma(x - h)) / (2 * h), 1e-7, 1e-7);
    }
  });
});

describe('hyp2f1', () => {
  const reference: [number, number, number, number, number][] = [
    [0.5, 0.5, 1.5, 0.25, 1.0471975511965979],
    [1, 1, 2, 0.9, 2.5584278811044956],
    [2.243, 3.426, 4.219, 0.6, 5.031156510524844],
    [0.243, 2.426, 2.219, 0.95, 2.4461866770309917],
    [5.5, 7.2, 3.1, 0.7, 426470.29752250033],
    [1.3, -0.4, 2.2, 0.99, 0.6558002514213487],
    [0.7, 1.9, 0.2, 0.5, 15.643705755993137],
    [1.2, 2.3, 3.4, -0.8, 0.6068641279627321],
    [1.2, 2.3, 3.4, -5, 0.1920429005932321],
    [3, -2, 1.5, 0.8, -0.15199999999999994],
    [10.243, 12.426, 13.219, 0.3, 30.782816631945735],
  ];
  it.each(reference)('matches 2F1(%d, %d; %d; %d) to 1e-12', (a, b, c, z, expected) => {
    close(hyp2f1(a, b, c, z), expected, 1e-12);
  });

  it('reproduces closed forms', () => {
    close(hyp2f1(1, 1, 2, 0.5), -Math.log(0.5) / 0.5, 1e-14);
    close(hyp2f1(1, 1, 2, -0.99), Math.log(1.99) / 0.99, 1e-14);
    close(hyp2f1(0.5, 0.5, 1.5, 0.36), Math.asin(0.6) / 0.6, 1e-14);
    close(hyp2f1(2.5, 1.7, 1.7, 0.3), 0.7 ** -2.5, 1e-14);
  });

  it('reports convergence and refuses arguments outside its domain', () => {
    const slow = hyp2f1Series(0.3, 0.4, 1.2, 0.999999, { maxTerms: 100 });
    expect(slow.converged).toBe(false);
    expect(Number.isFinite(slow.value)).toBe(true);
    expect(() => hyp2f1(0.3, 0.4, 1.2, 0.999999, { maxTerms: 100 })).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, -2, 0.5)).toThrow(RangeError);
  });

  it('computes c·(2F1 − 1)/b stably, including b = 0 where it is c·Σ (a)_n z^n / ((c)_n n)', () => {
    for (const [a, b, c, z] of [
      [0.3, 0.8, 2.2, 0.4],
      [-0.4, -0.2, 3.1, 0.85],
      [1.1, 2.5, 0.3, 0.6],
    ] as const) {
      close(hyp2f1ScaledExcess(a, b, c, z).value, (c * (hyp2f1(a, b, c, z) - 1)) / b, 1e-12);
    }
    // b → 0: the limit is a finite series, continuous in b.
    const atZero = hyp2f1ScaledExcess(0.7, 0, 1.9, 0.5).value;
    close(atZero, hyp2f1ScaledExcess(0.7, 1e-9, 1.9, 0.5).value, 1e-8);
    let direct = 0;
    let ratio = 1; // (a)_n z^n / (c)_n
    for (let n = 1; n < 200; n++) {
      ratio *= ((0.7 + n - 1) * 0.5) / (1.9 + n - 1);
      direct += (1.9 * ratio) / n;
    }
    close(atZero, direct, 1e-13);
  });
});
