// Quasi-Newton minimiser (BFGS with a strong-Wolfe line search, Nocedal & Wright alg. 3.5/3.6)
// for small smooth problems such as the 3–4 log-parameters of the customer-base models.
// Never throws for numerical trouble: non-finite objective values are treated as "step too
// long", and failure to converge is reported in the result (converged = false, message).

/** Writes ∇f(x) into `gradient` and returns f(x). May return a non-finite value. */
export type ObjectiveWithGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  maxIterations?: number;
  /** Converged when the largest absolute gradient component is at most this (default 1e-9). */
  gradientTolerance?: number;
  /**
   * When no further decrease is possible (the objective's rounding noise is reached before
   * gradientTolerance), the result still counts as converged if the gradient norm is at most
   * this (default 1e-6); otherwise it is reported as not converged.
   */
  stallGradientTolerance?: number;
  /** Largest change of any coordinate tried in the first step of a line search. */
  maxStep?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  iterations: number;
  evaluations: number;
  /** Infinity norm of the gradient at x. */
  gradientNorm: number;
  converged: boolean;
  message: string;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LINE_SEARCH_EVALUATIONS = 40;

function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += (u[i] ?? 0) * (v[i] ?? 0);
  return s;
}

function infNorm(v: Float64Array): number {
  let m = 0;
  for (const e of v) m = Math.max(m, Math.abs(e));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

function allFinite(v: Float64Array): boolean {
  for (const e of v) if (!Number.isFinite(e)) return false;
  return true;
}

interface LineSearchPoint {
  step: number;
  value: number;
  slope: number;
}

/**
 * Line search along `direction` from `x`. On success leaves the accepted point in `xOut`
 * and its gradient in `gOut`. Returns the accepted point, or null if no point with sufficient
 * decrease was found.
 */
function lineSearch(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  f0: number,
  slope0: number,
  direction: Float64Array,
  initialStep: number,
  xOut: Float64Array,
  gOut: Float64Array,
  countEvaluation: () => void,
  gradientTolerance: number,
): LineSearchPoint | null {
  let lastStep = Number.NaN;
  const evaluate = (step: number): LineSearchPoint => {
    lastStep = step;
    for (let i = 0; i < x.length; i++) xOut[i] = (x[i] ?? 0) + step * (direction[i] ?? 0);
    countEvaluation();
    const value = fg(xOut, gOut);
    const finite = Number.isFinite(value) && allFinite(gOut);
    return { step, value: finite ? value : Number.POSITIVE_INFINITY, slope: finite ? dot(gOut, direction) : Number.NaN };
  };
  const armijo = (p: LineSearchPoint): boolean => p.value < f0 && p.value <= f0 + C1 * p.step * slope0;
  const curvature = (p: LineSearchPoint): boolean => Math.abs(p.slope) <= -C2 * slope0;

  // Near the optimum the objective's rounding noise can hide a real improvement: a point whose
  // gradient already meets the tolerance is taken if its value is within noise of f0.
  const noise = 1e-12 * Math.max(1, Math.abs(f0));
  const stationary = (p: LineSearchPoint): boolean => p.value <= f0 + noise && infNorm(gOut) <= gradientTolerance;
  let bestArmijo: LineSearchPoint | null = null;
  const remember = (p: LineSearchPoint): void => {
    if (armijo(p) && (bestArmijo === null || p.value < bestArmijo.value)) bestArmijo = p;
  };
  const finish = (p: LineSearchPoint | null): LineSearchPoint | null => {
    // Leave xOut/gOut at the returned point.
    if (p !== null && p.step !== lastStep) evaluate(p.step);
    return p;
  };

  // Below this bracket width the trial points no longer differ meaningfully from x.
  let xScale = 1;
  let dScale = 0;
  for (let i = 0; i < x.length; i++) {
    xScale = Math.max(xScale, Math.abs(x[i] ?? 0));
    dScale = Math.max(dScale, Math.abs(direction[i] ?? 0));
  }
  const minSpan = (1e-14 * xScale) / dScale;

  let previous: LineSearchPoint = { step: 0, value: f0, slope: slope0 };
  let step = initialStep;
  let used = 0;
  let lo: LineSearchPoint | null = null;
  let hi: LineSearchPoint | null = null;

  while (used < MAX_LINE_SEARCH_EVALUATIONS) {
    const p = evaluate(step);
    used++;
    if (stationary(p)) return p;
    remember(p);
    if (!armijo(p) || (used > 1 && p.value >= previous.value)) {
      lo = previous;
      hi = p;
      break;
    }
    if (curvature(p)) return finish(p);
    if (p.slope >= 0) {
      lo = p;
      hi = previous;
      break;
    }
    previous = p;
    step *= 2;
  }
  if (lo === null || hi === null) return finish(bestArmijo);

  // Zoom: lo (step 0 or a sufficient-decrease point) has the lowest value seen in the bracket.
  while (used < MAX_LINE_SEARCH_EVALUATIONS) {
    const width = hi.step - lo.step;
    let trial = Number.NaN;
    if (Number.isFinite(hi.value)) {
      // Minimiser of the quadratic through (lo.value, lo.slope) and hi.value.
      const denominator = 2 * (hi.value - lo.value - lo.slope * width);
      if (denominator > 0) trial = lo.step - (lo.slope * width * width) / denominator;
    }
    const low = Math.min(lo.step, hi.step);
    const span = Math.abs(width);
    if (!(trial > low + 0.1 * span && trial < low + 0.9 * span)) {
      // Unusable interpolation: bisect, or shrink hard when the far end was not finite.
      trial = Number.isFinite(hi.value) ? lo.step + 0.5 * width : lo.step + 0.2 * width;
    }
    if (span <= minSpan) break;
    const p = evaluate(trial);
    used++;
    if (stationary(p)) return p;
    remember(p);
    if (!armijo(p) || p.value >= lo.value) {
      hi = p;
    } else {
      if (curvature(p)) return finish(p);
      if (p.slope * (hi.step - lo.step) >= 0) hi = lo;
      lo = p;
    }
  }
  return finish(bestArmijo);
}

/** Minimises `fg` from `x0` with BFGS. */
export function minimizeBfgs(fg: ObjectiveWithGradient, x0: ArrayLike<number>, options: MinimizeOptions = {}): MinimizeResult {
  const maxIterations = options.maxIterations ?? 500;
  const gtol = options.gradientTolerance ?? 1e-9;
  const stallTol = Math.max(options.stallGradientTolerance ?? 1e-6, gtol);
  const maxStep = options.maxStep ?? 2;
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const d = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const hy = new Float64Array(n);
  const h = new Float64Array(n * n);
  const resetH = (scale: number): void => {
    h.fill(0);
    for (let i = 0; i < n; i++) h[i * n + i] = scale;
  };
  let evaluations = 1;
  const countEvaluation = (): void => {
    evaluations++;
  };

  let f = fg(x, g);
  const result = (converged: boolean, iterations: number, message: string): MinimizeResult => ({
    x,
    value: f,
    gradient: g,
    iterations,
    evaluations,
    gradientNorm: infNorm(g),
    converged,
    message,
  });
  if (!Number.isFinite(f) || !allFinite(g)) return result(false, 0, 'objective or gradient not finite at the starting point');
  const stalled = (iterations: number, why: string): MinimizeResult => {
    const gnorm = infNorm(g);
    if (gnorm <= gtol) return result(true, iterations, 'gradient tolerance reached');
    return gnorm <= stallTol
      ? result(true, iterations, `${why} at the objective's precision limit; gradient within the stall tolerance`)
      : result(false, iterations, why);
  };
  let stalls = 0;

  resetH(1);
  let freshH = true;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (infNorm(g) <= gtol) return result(true, iteration, 'gradient tolerance reached');

    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v -= (h[i * n + j] ?? 0) * (g[j] ?? 0);
      d[i] = v;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      resetH(1);
      freshH = true;
      for (let i = 0; i < n; i++) d[i] = -(g[i] ?? 0);
      slope = dot(g, d);
    }
    const initialStep = Math.min(1, maxStep / infNorm(d));
    const accepted = lineSearch(fg, x, f, slope, d, initialStep, xNew, gNew, countEvaluation, gtol);
    if (accepted === null) {
      if (!freshH) {
        // The curvature model may be stale: retry once along steepest descent.
        resetH(1);
        freshH = true;
        continue;
      }
      return stalled(iteration, 'line search found no decrease');
    }

    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] ?? 0) - (x[i] ?? 0);
      y[i] = (gNew[i] ?? 0) - (g[i] ?? 0);
      sy += (s[i] ?? 0) * (y[i] ?? 0);
      yy += (y[i] ?? 0) * (y[i] ?? 0);
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    stalls = f - accepted.value <= 1e-15 * Math.max(1, Math.abs(f)) ? stalls + 1 : 0;
    f = accepted.value;
    if (stalls >= 3) return stalled(iteration + 1, 'no further decrease');

    if (sy > 1e-12 * Math.sqrt(dot(s, s) * yy)) {
      if (freshH) {
        resetH(sy / yy); // Nocedal & Wright (6.20): scale the initial inverse Hessian.
        freshH = false;
      }
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, expanded to use H y only.
      const rho = 1 / sy;
      let yHy = 0;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += (h[i * n + j] ?? 0) * (y[j] ?? 0);
        hy[i] = v;
        yHy += (y[i] ?? 0) * v;
      }
      const coef = rho * (1 + rho * yHy);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const si = s[i] ?? 0;
          const sj = s[j] ?? 0;
          h[i * n + j] = (h[i * n + j] ?? 0) - rho * ((hy[i] ?? 0) * sj + si * (hy[j] ?? 0)) + coef * si * sj;
        }
      }
    }
  }
  if (infNorm(g) <= gtol) return result(true, maxIterations, 'gradient tolerance reached');
  return result(false, maxIterations, 'iteration limit reached');
}
