// Simulation of customers from known BG/NBD and Gamma-Gamma parameters, for parameter
// recovery tests and benchmarks. Each customer: λ ~ Gamma(r, α), p ~ Beta(a, b); repeat
// purchases arrive as a Poisson process of rate λ from the first purchase at time 0, and
// after each repeat purchase the customer drops out with probability p. Spend per repeat
// purchase is Gamma(p_s, ν) with ν ~ Gamma(q, γ), so zbar ~ Gamma(p_s·x, ν·x).

import type { BgNbdParams } from './bg-nbd.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import { SeededRandom } from './random.js';

export interface SimulationOptions {
  seed: number;
  /** Observation length per customer: a constant or a function of (index, rng). */
  T: number | ((index: number, random: SeededRandom) => number);
  /** Spend model; without it zbar is 0 for everyone. */
  spend?: GammaGammaParams;
  /**
   * Record purchases in whole time units, as a daily event log would: purchase times are
   * floored, purchases in the first unit merge with the first purchase and several in one
   * unit are one occasion. Off by default (continuous time, exactly the model).
   */
  wholeUnits?: boolean;
}

export interface SimulatedCustomers {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  zbar: Float64Array;
}

export function simulateCustomers(params: BgNbdParams, n: number, options: SimulationOptions): SimulatedCustomers {
  const random = new SeededRandom(options.seed);
  const out: SimulatedCustomers = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    zbar: new Float64Array(n),
  };
  const whole = options.wholeUnits ?? false;
  for (let i = 0; i < n; i++) {
    const T = typeof options.T === 'number' ? options.T : options.T(i, random);
    const lambda = random.gamma(params.r, params.alpha);
    const p = random.beta(params.a, params.b);
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += random.exponential(lambda);
      if (t > T) break;
      if (whole) {
        const unit = Math.floor(t);
        if (unit > tx) {
          x++;
          tx = unit;
        }
      } else {
        x++;
        tx = t;
      }
      if (random.uniform() < p) break;
    }
    out.x[i] = x;
    out.tx[i] = tx;
    out.T[i] = T;
    if (options.spend !== undefined && x > 0) {
      const nu = random.gamma(options.spend.q, options.spend.gamma);
      out.zbar[i] = random.gamma(options.spend.p * x, nu * x);
    }
  }
  return out;
}
