// Gauss hypergeometric function 2F1(a, b; c; z) for real z < 1, by its power series with an
// explicit convergence check (a tail bound, not just "the last term was small"). Negative z
// goes through Pfaff's transformation so the summed series always has 0 ≤ w < 1; for
// a + b > c Euler's transformation is used because its terms decay faster near z = 1.
// `hyp2f1ScaledExcess` is the same series without its first term and without the factor
// b / c, which stays finite when b → 0 or c → 0 (needed by BG/NBD expectations at a = 1).

export interface SeriesResult {
  value: number;
  /** Terms summed. */
  terms: number;
  /** False when maxTerms was reached before the tail bound fell below tolerance. */
  converged: boolean;
}

export interface SeriesOptions {
  maxTerms?: number;
  /** Relative tolerance on the remainder of the series. */
  tolerance?: number;
}

const DEFAULT_MAX_TERMS = 1_000_000;
const DEFAULT_TOLERANCE = 1e-15;

function isNonPositiveInteger(v: number): boolean {
  return v <= 0 && Number.isInteger(v);
}

/**
 * Σ_{n ≥ n0} t_n with t_{n0} = first and t_{n+1} / t_n = (a + n)(b + n) z / ((c + n)(n + 1)).
 * Stops when the remainder, bounded by |t_{n+1}| / (1 − ρ*) with ρ* = max(current ratio, |z|),
 * is below tolerance·|sum|. The bound holds once n is past every sign change of the ratio,
 * which is also required before stopping.
 */
function sumSeries(
  first: number,
  n0: number,
  a: number,
  b: number,
  c: number,
  z: number,
  options: SeriesOptions,
): SeriesResult {
  const maxTerms = options.maxTerms ?? DEFAULT_MAX_TERMS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const absZ = Math.abs(z);
  const settled = Math.max(-a, -b, -c, 0) + 1;
  let sum = first;
  let term = first;
  let n = n0;
  let ratio = ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
  for (let k = 1; k < maxTerms; k++) {
    if (term === 0) return { value: sum, terms: k, converged: true };
    term *= ratio;
    n += 1;
    sum += term;
    ratio = ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    const rho = Math.max(Math.abs(ratio), absZ);
    if (n > settled && rho < 1) {
      const tail = (Math.abs(term) * rho) / (1 - rho);
      if (tail <= tolerance * Math.abs(sum)) return { value: sum, terms: k + 1, converged: true };
    }
  }
  return { value: sum, terms: maxTerms, converged: false };
}

function checkArguments(a: number, b: number, c: number, z: number): void {
  if (![a, b, c, z].every(Number.isFinite)) throw new RangeError('hyp2f1: arguments must be finite');
  if (z >= 1) throw new RangeError(`hyp2f1: z must be < 1 (got ${z})`);
  if (isNonPositiveInteger(c)) {
    // Defined only if the series terminates first (a or b a non-positive integer above c).
    const terminatesFirst = (isNonPositiveInteger(a) && a > c) || (isNonPositiveInteger(b) && b > c);
    if (!terminatesFirst) throw new RangeError(`hyp2f1: c must not be a non-positive integer (got ${c})`);
  }
}

/** 2F1(a, b; c; z) with convergence information. Throws RangeError outside the domain. */
export function hyp2f1Series(a: number, b: number, c: number, z: number, options: SeriesOptions = {}): SeriesResult {
  checkArguments(a, b, c, z);
  if (z === 0 || a === 0 || b === 0) return { value: 1, terms: 1, converged: true };
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) return sumSeries(1, 0, a, b, c, z, options);
  if (z < 0) {
    // Pfaff: 2F1(a, b; c; z) = (1 − z)^(−a) 2F1(a, c − b; c; z / (z − 1)).
    const w = z / (z - 1);
    const inner = hyp2f1Series(a, c - b, c, w, options);
    return { ...inner, value: Math.exp(-a * Math.log1p(-z)) * inner.value };
  }
  if (a + b > c && z > 0.5) {
    // Euler: 2F1(a, b; c; z) = (1 − z)^(c − a − b) 2F1(c − a, c − b; c; z).
    const inner = sumSeries(1, 0, c - a, c - b, c, z, options);
    return { ...inner, value: Math.exp((c - a - b) * Math.log1p(-z)) * inner.value };
  }
  return sumSeries(1, 0, a, b, c, z, options);
}

/** 2F1(a, b; c; z) for z < 1. Throws RangeError outside the domain or if the series does not converge. */
export function hyp2f1(a: number, b: number, c: number, z: number, options: SeriesOptions = {}): number {
  const result = hyp2f1Series(a, b, c, z, options);
  if (!result.converged) {
    throw new RangeError(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${result.terms} terms`);
  }
  return result.value;
}

/**
 * c · (2F1(a, b; c; z) − 1) / b = Σ_{n≥1} (a)_n (b+1)_{n−1} z^n / ((c+1)_{n−1} n!), for 0 ≤ z < 1
 * and c > −1. Finite and continuous through b = 0 and c = 0, where the unscaled form is 0/0.
 */
export function hyp2f1ScaledExcess(
  a: number,
  b: number,
  c: number,
  z: number,
  options: SeriesOptions = {},
): SeriesResult {
  if (![a, b, c, z].every(Number.isFinite)) throw new RangeError('hyp2f1ScaledExcess: arguments must be finite');
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1ScaledExcess: z must be in [0, 1) (got ${z})`);
  if (!(c > -1)) throw new RangeError(`hyp2f1ScaledExcess: c must be > −1 (got ${c})`);
  if (z === 0) return { value: 0, terms: 0, converged: true };
  return sumSeries(a * z, 1, a, b, c, z, options);
}
