// Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"):
// each repeat transaction of a customer is Gamma(p, ν) and ν ~ Gamma(q, γ) across customers.
// Likelihood on repeat buyers' (x, zbar), maximum-likelihood fit on log-parameters,
// conditional expected average spend, and 12-month CLV combined with BG/NBD exactly as
// `lifetimes`' customer_lifetime_value does (monthly steps, monthly discounting).
// Customers with x = 0 or zbar ≤ 0 carry no spend information and are left out of the fit.

import { expectedPurchases, type BgNbdParams } from './bg-nbd.js';
import { digamma } from './digamma.js';
import { lgamma } from './lgamma.js';
import { boundaryVerdict } from './fit-outcome.js';
import { minimizeBfgs } from './optimizer.js';

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export const GAMMA_GAMMA_PARAM_NAMES = ['p', 'q', 'gamma'] as const;

/** ln f(zbar | x; p, q, γ) for one repeat buyer (x ≥ 1, zbar > 0). */
export function gammaGammaLogLikelihood(params: GammaGammaParams, x: number, zbar: number): number {
  const { p, q, gamma } = params;
  const px = p * x;
  return (
    lgamma(px + q) -
    lgamma(px) -
    lgamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(zbar) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + x * zbar)
  );
}

/** Repeat buyers prepared for repeated likelihood evaluations. */
export interface GammaGammaData {
  size: number;
  xValues: Float64Array;
  xIndex: Uint32Array;
  x: Float64Array;
  zbar: Float64Array;
  weight: Float64Array;
  weightByX: Float64Array;
  /** Σ w·ln zbar, constant across evaluations. */
  sumWLnZbar: number;
  totalWeight: number;
}

/** Keeps customers with x ≥ 1 and zbar > 0 (finite). */
export function prepareGammaGammaData(
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  weights?: ArrayLike<number>,
): GammaGammaData {
  if (x.length !== zbar.length || (weights !== undefined && weights.length !== x.length)) {
    throw new RangeError('x, zbar (and weights) must have the same length');
  }
  const xIdx = new Map<number, number>();
  const xValues: number[] = [];
  const keep: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    const zi = zbar[i] ?? 0;
    if (xi >= 1 && zi > 0 && Number.isFinite(zi) && Number.isFinite(xi)) keep.push(i);
  }
  const size = keep.length;
  const data: GammaGammaData = {
    size,
    xValues: new Float64Array(0),
    xIndex: new Uint32Array(size),
    x: new Float64Array(size),
    zbar: new Float64Array(size),
    weight: new Float64Array(size),
    weightByX: new Float64Array(0),
    sumWLnZbar: 0,
    totalWeight: 0,
  };
  const weightByX: number[] = [];
  keep.forEach((i, k) => {
    const xi = x[i] ?? 0;
    const zi = zbar[i] ?? 0;
    const w = weights?.[i] ?? 1;
    let j = xIdx.get(xi);
    if (j === undefined) {
      j = xValues.length;
      xIdx.set(xi, j);
      xValues.push(xi);
      weightByX.push(0);
    }
    data.xIndex[k] = j;
    data.x[k] = xi;
    data.zbar[k] = zi;
    data.weight[k] = w;
    weightByX[j] = (weightByX[j] ?? 0) + w;
    data.sumWLnZbar += w * Math.log(zi);
    data.totalWeight += w;
  });
  data.xValues = Float64Array.from(xValues);
  data.weightByX = Float64Array.from(weightByX);
  return data;
}

/**
 * Σ w · ln f; when `gradient` (length 3) is given, writes d/d(ln p, ln q, ln γ) into it.
 * Per customer ln f is arranged as lnΓ terms − px·ln(1 + γ/(x·zbar)) − q·ln(1 + x·zbar/γ) − ln zbar,
 * which avoids the cancellation between px·ln(x·zbar) and (px + q)·ln(γ + x·zbar).
 */
export function gammaGammaLogLikelihoodSum(params: GammaGammaParams, data: GammaGammaData, gradient?: Float64Array): number {
  const { p, q, gamma } = params;
  const lgQ = lgamma(q);
  const psiQ = gradient !== undefined ? digamma(q) : 0;
  let ll = -data.sumWLnZbar;
  let gP = 0;
  let gQ = 0;
  let gG = 0;
  for (let j = 0; j < data.xValues.length; j++) {
    const x = data.xValues[j] ?? 0;
    const w = data.weightByX[j] ?? 0;
    const px = p * x;
    ll += w * (lgamma(px + q) - lgamma(px) - lgQ);
    if (gradient !== undefined) {
      const psiPXQ = digamma(px + q);
      gP += w * x * (psiPXQ - digamma(px));
      gQ += w * (psiPXQ - psiQ);
    }
  }
  for (let i = 0; i < data.size; i++) {
    const w = data.weight[i] ?? 0;
    const x = data.x[i] ?? 0;
    const xz = x * (data.zbar[i] ?? 0);
    const lnUp = Math.log1p(gamma / xz);
    const lnDown = Math.log1p(xz / gamma);
    ll -= w * (p * x * lnUp + q * lnDown);
    if (gradient !== undefined) {
      gP -= w * x * lnUp;
      gQ -= w * lnDown;
      gG += (w * (q * xz - gamma * p * x)) / (gamma * (gamma + xz));
    }
  }
  if (gradient !== undefined) {
    gradient[0] = gP * p;
    gradient[1] = gQ * q;
    gradient[2] = gG * gamma;
  }
  return ll;
}

export interface GammaGammaFitOptions {
  /** L2 penalty λ·(p² + q² + γ²) added to the negative mean log-likelihood, as in `lifetimes`. */
  penalizer?: number;
  initial?: GammaGammaParams;
  maxIterations?: number;
  gradientTolerance?: number;
  weights?: ArrayLike<number>;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  converged: boolean;
  message: string;
  iterations: number;
  evaluations: number;
  gradientNorm: number;
  /** Repeat buyers with positive spend that the fit used. */
  customers: number;
}

function fromLog(theta: ArrayLike<number>): GammaGammaParams {
  return { p: Math.exp(theta[0] ?? 0), q: Math.exp(theta[1] ?? 0), gamma: Math.exp(theta[2] ?? 0) };
}

export function fitGammaGammaData(data: GammaGammaData, options: GammaGammaFitOptions = {}): GammaGammaFit {
  const penalizer = options.penalizer ?? 0;
  let meanSpend = 0;
  for (let i = 0; i < data.size; i++) meanSpend += (data.weight[i] ?? 0) * (data.zbar[i] ?? 0);
  meanSpend = data.totalWeight > 0 ? meanSpend / data.totalWeight : 1;
  // Start where the population mean spend p·γ/(q − 1) equals the observed mean.
  const initial = options.initial ?? { p: 1, q: 2, gamma: meanSpend };
  if (data.totalWeight === 0) {
    return {
      params: initial,
      logLikelihood: 0,
      converged: false,
      message: 'no repeat buyers with positive spend',
      iterations: 0,
      evaluations: 0,
      gradientNorm: Number.NaN,
      customers: 0,
    };
  }
  const scale = 1 / data.totalWeight;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const ll = gammaGammaLogLikelihoodSum(fromLog(theta), data, grad);
    let penalty = 0;
    for (let i = 0; i < 3; i++) {
      const v = Math.exp(2 * (theta[i] ?? 0));
      penalty += v;
      grad[i] = -(grad[i] ?? 0) * scale + 2 * penalizer * v;
    }
    return -ll * scale + penalizer * penalty;
  };
  const result = minimizeBfgs(objective, [initial.p, initial.q, initial.gamma].map(Math.log), {
    maxIterations: options.maxIterations ?? 500,
    gradientTolerance: options.gradientTolerance ?? 1e-9,
  });
  const params = fromLog(result.x);
  return {
    params,
    logLikelihood: gammaGammaLogLikelihoodSum(params, data),
    ...boundaryVerdict(result.x, result.converged, result.message),
    iterations: result.iterations,
    evaluations: result.evaluations,
    gradientNorm: result.gradientNorm,
    customers: data.totalWeight,
  };
}

/** Maximum-likelihood fit on the repeat buyers among (x, zbar). */
export function fitGammaGamma(
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  options: GammaGammaFitOptions = {},
): GammaGammaFit {
  return fitGammaGammaData(prepareGammaGammaData(x, zbar, options.weights), options);
}

/**
 * E[M | x, zbar] = p(γ + x·zbar) / (px + q − 1): a weighted average of the population mean
 * pγ/(q − 1) and the customer's own zbar. For x = 0 (or zbar ignored) it is the population
 * mean. The posterior mean is infinite when px + q ≤ 1 (only possible for q ≤ 1); then
 * +Infinity is returned rather than a meaningless finite number.
 */
export function conditionalExpectedAverageSpend(params: GammaGammaParams, x: number, zbar: number): number {
  const { p, q, gamma } = params;
  const shape = p * x + q - 1;
  if (!(shape > 0)) return Number.POSITIVE_INFINITY;
  return (p * (gamma + x * (x > 0 ? zbar : 0))) / shape;
}

export interface ClvOptions {
  /** Number of monthly steps (default 12). */
  months?: number;
  /** Discount rate per month (default 0.01). */
  monthlyDiscountRate?: number;
  /** Model time units per month: 30 for days, 4.345 for weeks (see PERIODS_PER_MONTH). */
  periodsPerMonth: number;
}

export interface CustomerForClv {
  x: number;
  tx: number;
  T: number;
  zbar: number;
}

/**
 * Σ_{k=1..months} E[M] · (E[Y(k·m)] − E[Y((k−1)·m)]) / (1 + d)^k with m = periodsPerMonth:
 * expected purchases per month times expected spend, discounted monthly.
 */
export function clv(bg: BgNbdParams, gg: GammaGammaParams, customer: CustomerForClv, options: ClvOptions): number {
  const months = options.months ?? 12;
  const discount = options.monthlyDiscountRate ?? 0.01;
  const spend = conditionalExpectedAverageSpend(gg, customer.x, customer.zbar);
  let total = 0;
  let previous = 0;
  for (let k = 1; k <= months; k++) {
    const cumulative = expectedPurchases(bg, k * options.periodsPerMonth, customer.x, customer.tx, customer.T);
    total += (cumulative - previous) / (1 + discount) ** k;
    previous = cumulative;
  }
  return total === 0 ? 0 : spend * total;
}
