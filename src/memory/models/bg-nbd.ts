// BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
// likelihood, analytic gradient with respect to log-parameters, maximum-likelihood fit, and
// the customer-level predictions P(alive), E[Y(t) | x, t_x, T] and E[X(t)].
// Fitting runs on unique (x, t_x, T) triples with weights (see unique-triples.ts), with
// logarithms cached per distinct T and t_x and gamma functions per distinct x.
// Numerical failure is never thrown: a fit that does not converge says so in its result.

import { digamma } from './digamma.js';
import { hyp2f1ScaledExcess } from './hyp2f1.js';
import { lgamma, lnBeta } from './lgamma.js';
import { expm1OverX, logAddExp } from './log-add-exp.js';
import { boundaryVerdict } from './fit-outcome.js';
import { minimizeBfgs } from './optimizer.js';
import { uniqueTriples, type TripleInput, type UniqueTriples } from './unique-triples.js';

export interface BgNbdParams {
  /** Shape of the Gamma heterogeneity of the purchase rate λ. */
  r: number;
  /** Rate (inverse scale, in model time units) of the Gamma heterogeneity of λ. */
  alpha: number;
  /** Beta(a, b) heterogeneity of the dropout probability p. */
  a: number;
  b: number;
}

export const BG_NBD_PARAM_NAMES = ['r', 'alpha', 'a', 'b'] as const;

function checkParams(params: BgNbdParams): void {
  const { r, alpha, a, b } = params;
  if (![r, alpha, a, b].every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`BG/NBD parameters must be finite and positive: ${JSON.stringify(params)}`);
  }
}

/** ln L(r, α, a, b | x, t_x, T) for one customer. */
export function bgNbdLogLikelihood(params: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const base = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + lnBeta(a, b + x) - lnBeta(a, b);
  const noDropout = -(r + x) * Math.log(alpha + T);
  if (x === 0) return base + noDropout;
  const droppedOut = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  return base + logAddExp(noDropout, droppedOut);
}

/**
 * Σ weight · ln L over unique triples. When `gradient` (length 4) is given, writes the
 * gradient of that sum with respect to (ln r, ln α, ln a, ln b) into it.
 */
export function bgNbdLogLikelihoodSum(params: BgNbdParams, data: UniqueTriples, gradient?: Float64Array): number {
  const { r, alpha, a, b } = params;
  const lnAlpha = Math.log(alpha);
  const withGradient = gradient !== undefined;

  const nT = data.TValues.length;
  const lnAT = new Float64Array(nT);
  const invAT = new Float64Array(nT);
  for (let k = 0; k < nT; k++) {
    const v = alpha + (data.TValues[k] ?? 0);
    lnAT[k] = Math.log(v);
    invAT[k] = 1 / v;
  }
  const nTx = data.txValues.length;
  const lnATx = new Float64Array(nTx);
  const invATx = new Float64Array(nTx);
  for (let k = 0; k < nTx; k++) {
    const v = alpha + (data.txValues[k] ?? 0);
    lnATx[k] = Math.log(v);
    invATx[k] = 1 / v;
  }

  // Terms that depend on x only, summed with the weight of all triples sharing that x.
  const nX = data.xValues.length;
  const rPlusX = new Float64Array(nX);
  const lnDropoutX = new Float64Array(nX);
  const invBX1 = new Float64Array(nX);
  const lgR = lgamma(r);
  const lgB = lgamma(b);
  const lgAB = lgamma(a + b);
  const psiR = withGradient ? digamma(r) : 0;
  const psiB = withGradient ? digamma(b) : 0;
  const psiAB = withGradient ? digamma(a + b) : 0;
  const lnA = Math.log(a);
  let ll = 0;
  let gR = 0;
  let gAlpha = 0;
  let gA = 0;
  let gB = 0;
  for (let j = 0; j < nX; j++) {
    const x = data.xValues[j] ?? 0;
    const w = data.weightByX[j] ?? 0;
    rPlusX[j] = r + x;
    lnDropoutX[j] = x > 0 ? lnA - Math.log(b + x - 1) : 0;
    invBX1[j] = x > 0 ? 1 / (b + x - 1) : 0;
    if (w === 0) continue;
    ll += w * (lgamma(r + x) - lgR + r * lnAlpha + lgAB + lgamma(b + x) - lgB - lgamma(a + b + x));
    if (withGradient) {
      const psiABX = digamma(a + b + x);
      gR += w * (digamma(r + x) - psiR + lnAlpha);
      gAlpha += (w * r) / alpha;
      gA += w * (psiAB - psiABX);
      gB += w * (psiAB + digamma(b + x) - psiB - psiABX);
    }
  }

  // Per triple: ln(e^A3 + e^A4) with A3 = −(r+x) ln(α+T) (still alive) and
  // A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x) (dropped out after the last purchase).
  for (let i = 0; i < data.size; i++) {
    const w = data.weight[i] ?? 0;
    const j = data.xIndex[i] ?? 0;
    const kT = data.TIndex[i] ?? 0;
    const rx = rPlusX[j] ?? 0;
    const lat = lnAT[kT] ?? 0;
    const a3 = -rx * lat;
    if ((data.xValues[j] ?? 0) === 0) {
      ll += w * a3;
      if (withGradient) {
        gR -= w * lat;
        gAlpha -= w * rx * (invAT[kT] ?? 0);
      }
      continue;
    }
    const kTx = data.txIndex[i] ?? 0;
    const latx = lnATx[kTx] ?? 0;
    const a4 = (lnDropoutX[j] ?? 0) - rx * latx;
    let lse: number;
    let w3: number;
    let w4: number;
    if (a3 >= a4) {
      const e = Math.exp(a4 - a3);
      lse = a3 + Math.log1p(e);
      w3 = 1 / (1 + e);
      w4 = e / (1 + e);
    } else {
      const e = Math.exp(a3 - a4);
      lse = a4 + Math.log1p(e);
      w3 = e / (1 + e);
      w4 = 1 / (1 + e);
    }
    ll += w * lse;
    if (withGradient) {
      gR -= w * (w3 * lat + w4 * latx);
      gAlpha -= w * rx * (w3 * (invAT[kT] ?? 0) + w4 * (invATx[kTx] ?? 0));
      gA += (w * w4) / a;
      gB -= w * w4 * (invBX1[j] ?? 0);
    }
  }
  if (gradient !== undefined) {
    gradient[0] = gR * r;
    gradient[1] = gAlpha * alpha;
    gradient[2] = gA * a;
    gradient[3] = gB * b;
  }
  return ll;
}

export interface BgNbdFitOptions {
  /**
   * L2 penalty coefficient λ, as in `lifetimes`: the fit minimises
   * −(mean log-likelihood) + λ·(r² + α² + a² + b²).
   */
  penalizer?: number;
  initial?: BgNbdParams;
  maxIterations?: number;
  /** On the gradient of the per-customer objective with respect to log-parameters. */
  gradientTolerance?: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  /** Total (unpenalised) log-likelihood at params. */
  logLikelihood: number;
  converged: boolean;
  message: string;
  iterations: number;
  evaluations: number;
  /** Infinity norm of the per-customer objective's gradient at the solution. */
  gradientNorm: number;
  customers: number;
  uniqueTriples: number;
}

function fromLog(theta: ArrayLike<number>): BgNbdParams {
  return {
    r: Math.exp(theta[0] ?? 0),
    alpha: Math.exp(theta[1] ?? 0),
    a: Math.exp(theta[2] ?? 0),
    b: Math.exp(theta[3] ?? 0),
  };
}

function defaultInitial(data: UniqueTriples): BgNbdParams {
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < data.size; i++) {
    const w = data.weight[i] ?? 0;
    sumX += w * (data.xValues[data.xIndex[i] ?? 0] ?? 0);
    sumT += w * (data.TValues[data.TIndex[i] ?? 0] ?? 0);
  }
  // r = 1 and a mean purchase rate r/α equal to the observed repeat rate.
  return { r: 1, alpha: Math.max(sumT / Math.max(sumX, 1), 1e-3), a: 1, b: 1 };
}

/** Maximum-likelihood fit on already deduplicated triples. */
export function fitBgNbdTriples(data: UniqueTriples, options: BgNbdFitOptions = {}): BgNbdFit {
  const penalizer = options.penalizer ?? 0;
  const initial = options.initial ?? defaultInitial(data);
  const summary = { customers: data.totalWeight, uniqueTriples: data.size };
  let repeatWeight = 0;
  for (let j = 0; j < data.xValues.length; j++) if ((data.xValues[j] ?? 0) > 0) repeatWeight += data.weightByX[j] ?? 0;
  if (data.totalWeight === 0 || repeatWeight === 0) {
    return {
      params: initial,
      logLikelihood: data.totalWeight === 0 ? 0 : bgNbdLogLikelihoodSum(initial, data),
      converged: false,
      message:
        data.totalWeight === 0 ? 'no customers to fit' : 'no repeat purchases: the likelihood has no maximum',
      iterations: 0,
      evaluations: 0,
      gradientNorm: Number.NaN,
      ...summary,
    };
  }
  checkParams(initial);
  const scale = 1 / data.totalWeight;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const params = fromLog(theta);
    const ll = bgNbdLogLikelihoodSum(params, data, grad);
    let penalty = 0;
    for (let i = 0; i < 4; i++) {
      const v = Math.exp(2 * (theta[i] ?? 0));
      penalty += v;
      grad[i] = -(grad[i] ?? 0) * scale + 2 * penalizer * v;
    }
    return -ll * scale + penalizer * penalty;
  };
  const theta0 = [initial.r, initial.alpha, initial.a, initial.b].map(Math.log);
  const result = minimizeBfgs(objective, theta0, {
    maxIterations: options.maxIterations ?? 500,
    gradientTolerance: options.gradientTolerance ?? 1e-9,
  });
  const params = fromLog(result.x);
  return {
    params,
    logLikelihood: bgNbdLogLikelihoodSum(params, data),
    ...boundaryVerdict(result.x, result.converged, result.message),
    iterations: result.iterations,
    evaluations: result.evaluations,
    gradientNorm: result.gradientNorm,
    ...summary,
  };
}

/** Maximum-likelihood fit of BG/NBD to customer summaries (deduplicated internally). */
export function fitBgNbd(input: TripleInput, options: BgNbdFitOptions & { weights?: ArrayLike<number> } = {}): BgNbdFit {
  return fitBgNbdTriples(uniqueTriples(input, options.weights), options);
}

function checkCustomer(x: number, tx: number, T: number): void {
  if (!(Number.isInteger(x) && x >= 0 && Number.isFinite(T) && tx >= 0 && (tx <= T || x === 0))) {
    throw new RangeError(`invalid customer summary: x=${x}, tx=${tx}, T=${T}`);
  }
}

/** P(alive at T | x, t_x, T). Exactly 1 when x = 0: BG/NBD customers only drop out right after a purchase. */
export function probabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  checkParams(params);
  checkCustomer(x, tx, T);
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const lnOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * Math.log1p((T - tx) / (alpha + tx));
  return 1 / (1 + Math.exp(lnOdds));
}

/**
 * Expected purchases in (T, T + t] for a customer who is alive at T with x repeat purchases:
 * depends on x and T only (t_x enters through P(alive)). FHL 2005 eq. (10) without its
 * P(alive) factor, evaluated through Euler's transformation of the 2F1:
 *   (1−z)^(r+x) 2F1(r+x, b+x; c; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; c; z),
 * with c = a+b+x−1 and z = t/(α+T+t), whose series has parameters that do not grow with x,
 * and with the factor (a−1) divided out analytically so a = 1 is not a singularity.
 */
export function expectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  checkParams(params);
  checkCustomer(x, 0, T);
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`horizon must be finite and non-negative: ${t}`);
  if (t === 0) return 0;
  const { r, alpha, a, b } = params;
  const c = a + b + x - 1;
  const beta = a - 1;
  const lnOneMinusZ = -Math.log1p(t / (alpha + T));
  const z = t / (alpha + T + t);
  // Non-convergence (z within ~1e-5 of 1) leaves a finite partial sum; see hyp2f1.ts.
  const excess = hyp2f1ScaledExcess(a + b - 1 - r, beta, c, z).value;
  const value = -c * lnOneMinusZ * expm1OverX(beta * lnOneMinusZ) - Math.exp(beta * lnOneMinusZ) * excess;
  return value > 0 ? value : 0;
}

/** E[Y(t) | x, t_x, T]: expected purchases in the next t time units. */
export function expectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return probabilityAlive(params, x, tx, T) * expectedPurchasesIfAlive(params, t, x, T);
}

/** E[X(t)] for a customer just acquired (also the right score for a customer with no purchases yet). */
export function expectedPurchasesNewCustomer(params: BgNbdParams, t: number): number {
  return expectedPurchasesIfAlive(params, t, 0, 0);
}
