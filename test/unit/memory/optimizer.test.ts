// BFGS: converges on classic problems, survives non-finite regions, reports failure.
import { describe, expect, it } from 'vitest';
import { minimizeBfgs, type ObjectiveWithGradient } from '../../../src/memory/models/optimizer.js';

const rosenbrock: ObjectiveWithGradient = (x, g) => {
  const [a, b] = [x[0] ?? 0, x[1] ?? 0];
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

describe('minimizeBfgs', () => {
  it('finds the Rosenbrock minimum from the classic start', () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 8);
    expect(result.x[1]).toBeCloseTo(1, 8);
    expect(result.gradientNorm).toBeLessThanOrEqual(1e-9);
    expect(result.iterations).toBeLessThan(100);
  });

  it('minimises an ill-conditioned quadratic in a few iterations', () => {
    const scales = [1, 1e3, 1e-2, 50];
    const quadratic: ObjectiveWithGradient = (x, g) => {
      let f = 0;
      scales.forEach((s, i) => {
        const d = (x[i] ?? 0) - i;
        f += 0.5 * s * d * d;
        g[i] = s * d;
      });
      return f;
    };
    const result = minimizeBfgs(quadratic, [5, 5, 5, 5], { maxStep: 100 });
    expect(result.converged).toBe(true);
    result.x.forEach((v, i) => expect(v).toBeCloseTo(i, 6));
  });

  it('treats non-finite values as a step too long instead of failing', () => {
    // f = x − ln(x) is undefined for x ≤ 0; a full step from x = 0.1 lands there.
    const logBarrier: ObjectiveWithGradient = (x, g) => {
      const v = x[0] ?? 0;
      g[0] = 1 - 1 / v;
      return v - Math.log(v);
    };
    const result = minimizeBfgs(logBarrier, [5], { maxStep: 1000 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 8);
  });

  it('reports, rather than throws, when it runs out of iterations or starts on a non-finite value', () => {
    const limited = minimizeBfgs(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(limited.converged).toBe(false);
    expect(limited.message).toMatch(/iteration limit/);
    const nan = minimizeBfgs(() => Number.NaN, [0]);
    expect(nan.converged).toBe(false);
    expect(nan.message).toMatch(/not finite/);
  });

  it('reports no convergence on an unbounded objective', () => {
    const linear: ObjectiveWithGradient = (x, g) => {
      g[0] = -1;
      return -(x[0] ?? 0);
    };
    const result = minimizeBfgs(linear, [0], { maxIterations: 50 });
    expect(result.converged).toBe(false);
  });
});
