// Shared verdict on a model fit in log-parameters: BFGS may stop at a tiny gradient while a
// parameter drifts off to 0 or infinity (the likelihood's supremum is on the boundary, e.g.
// no heterogeneity in the data). Such fits are reported as not converged.

/** |ln θ| beyond this (θ outside about [1e-10, 1e10]) means the fit ran off to the boundary. */
const MAX_ABS_LOG_PARAM = 23;

export function boundaryVerdict(
  theta: ArrayLike<number>,
  converged: boolean,
  message: string,
): { converged: boolean; message: string } {
  for (let i = 0; i < theta.length; i++) {
    if (!(Math.abs(theta[i] ?? 0) <= MAX_ABS_LOG_PARAM)) {
      return {
        converged: false,
        message: `a parameter ran off to 0 or infinity (the likelihood has no interior maximum); optimiser: ${message}`,
      };
    }
  }
  return { converged, message };
}
