// Digamma ψ(x) = d/dx ln Γ(x), needed for the analytic gradients of the BG/NBD and
// Gamma-Gamma likelihoods. Upward recurrence to x ≥ 10, then the asymptotic series
// (truncation error below 1e-16 there); reflection for negative non-integer x.

/** ψ(x). NaN at the poles (0, −1, −2, …). */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.NaN;
    // ψ(1 − x) − ψ(x) = π cot(πx)
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  // ln x − 1/(2x) − Σ B_2k / (2k x^2k)
  const series =
    inv2 *
    (1 / 12 -
      inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return acc + Math.log(x) - 0.5 * inv - series;
}
