// Log-gamma and log-beta for the customer-base models. Lanczos approximation (g = 607/128,
// 15 coefficients, as in Numerical Recipes 3rd ed.), accurate to about 1e-15 relative for
// x > 0; reflection handles negative non-integer arguments. Pure, allocation-free.

const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  3.399464998481189e-05, 4.652362892704858e-05, -9.837447530487956e-05,
  0.0001580887032249125, -0.00021026444172410488, 0.00021743961811521265,
  -0.0001643181065367639, 8.441822398385275e-05, -2.6190838401581408e-05,
  3.6899182659531625e-06,
] as const;
const SQRT_2PI = 2.5066282746310007;

function lgammaPositive(x: number): number {
  let tmp = x + 5.2421875; // x + g + 1/2
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.9999999999999971;
  let y = x;
  for (const c of LANCZOS) ser += c / ++y;
  return tmp + Math.log((SQRT_2PI * ser) / x);
}

/**
 * ln|Γ(x)|. Returns +Infinity at the poles (0, −1, −2, …) and NaN for NaN.
 * Exact zeros at 1 and 2 so that ln B(a, b) terms cancel cleanly for integer arguments.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === 1 || x === 2) return 0;
  if (x > 0) return lgammaPositive(x);
  if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
  // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
  return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaPositive(1 - x);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0. */
export function lnBeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}
