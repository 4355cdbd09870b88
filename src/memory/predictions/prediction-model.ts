// The prediction engine's pure part: fitting BG/NBD and Gamma-Gamma to a business's purchases
// and turning the parameters into one customer's predictions. No I/O.
//
// Formulas beyond the two models (documented in the README as well):
// - churn risk = 1 − P(alive).
// - next purchase date: the first day t ≤ 365 at which E[Y(t)] reaches 1; none when it does not.
// - propensity = 1 − exp(−E[Y(30)]): the chance of at least one purchase in 30 days if purchases
//   were Poisson with that mean.
// - engagement (0..1) = 0.5·P(alive) + 0.3·exp(−days since last purchase / 90)
//                      + 0.2·min(1, interactions in the last 90 days / 5).
// - confidence (0..1) = min(1, (x + 1) / 5) · min(1, days observed / 90), halved when the
//   parameters are the default prior rather than a fit to this business.
import { expectedPurchases, fitBgNbd, probabilityAlive, type BgNbdParams } from '../models/bg-nbd.js';
import { clv, conditionalExpectedAverageSpend, fitGammaGamma, type GammaGammaParams } from '../models/gamma-gamma.js';
import { buildCalibrationSummary, type CalibrationSummary, type PurchaseEvent } from '../models/rfm-summary.js';
import { DAYS_PER_UNIT, PERIODS_PER_MONTH, type TimeUnit } from '../models/time-unit.js';

export interface FittedModels {
  bgnbd: BgNbdParams & { ll: number };
  gammaGamma: (GammaGammaParams & { ll: number }) | null;
  customers: number;
  repeatBuyers: number;
}

export interface FitReport {
  models: FittedModels | null;
  converged: boolean;
  /** Why the fit is not usable, when it is not. */
  note: string | null;
  summary: CalibrationSummary;
}

/** Below these, a fit says more about noise than about the customers. */
const MIN_CUSTOMERS = 20;
const MIN_REPEAT_BUYERS = 5;

export function fitModels(events: PurchaseEvent[], options: { calibrationEnd: Date | number; unit?: TimeUnit; penalizer?: number }): FitReport {
  const summary = buildCalibrationSummary(events, { calibrationEnd: options.calibrationEnd, unit: options.unit ?? 'days' });
  const customers = summary.customerIds.length;
  const repeatBuyers = summary.x.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  if (customers < MIN_CUSTOMERS || repeatBuyers < MIN_REPEAT_BUYERS) {
    return { models: null, converged: false, note: `too little data to fit: ${customers} customers, ${repeatBuyers} repeat buyers`, summary };
  }
  const penalizer = options.penalizer ?? 0;
  const bg = fitBgNbd(summary, { penalizer });
  if (!bg.converged || !Number.isFinite(bg.logLikelihood)) {
    return { models: null, converged: false, note: `BG/NBD fit did not converge: ${bg.message}`, summary };
  }
  const gg = fitGammaGamma(summary.x, summary.zbar, { penalizer });
  const ggUsable = gg.converged && gg.params.q > 1 && Number.isFinite(gg.logLikelihood);
  return {
    models: {
      bgnbd: { ...bg.params, ll: bg.logLikelihood },
      gammaGamma: ggUsable ? { ...gg.params, ll: gg.logLikelihood } : null,
      customers,
      repeatBuyers,
    },
    converged: true,
    note: ggUsable ? null : `Gamma-Gamma fit not usable (${gg.message}); spend falls back to the observed mean`,
    summary,
  };
}

/**
 * Parameters for a business that has never had a usable fit: the published CDNOW estimates
 * (weeks) rescaled to days, and a Gamma-Gamma prior whose mean spend is the observed mean.
 */
export function defaultPrior(meanSpend: number): { bgnbd: BgNbdParams; gammaGamma: GammaGammaParams } {
  const p = 6.25;
  const q = 3.74;
  return {
    bgnbd: { r: 0.243, alpha: 4.414 * DAYS_PER_UNIT.weeks, a: 0.793, b: 2.426 },
    gammaGamma: { p, q, gamma: (Math.max(meanSpend, 1) * (q - 1)) / p },
  };
}

/** One customer's history in days: repeat occasions x, last repeat t_x and age T since the first purchase. */
export interface CustomerHistory {
  x: number;
  tx: number;
  T: number;
  /** Mean spend per repeat occasion (0 when x = 0). */
  zbar: number;
  /** Days since the last purchase, or since the profile was created when there is none. */
  daysSinceLast: number;
  hasPurchases: boolean;
  interactions90d: number;
}

export interface Scored {
  churnRisk: number;
  expectedPurchases30d: number;
  expectedPurchases90d: number;
  nextPurchaseInDays: number | null;
  expectedSpend: number;
  predictedClv12m: number;
  propensity: number;
  engagementScore: number;
  confidence: number;
}

export function scoreCustomer(
  bg: BgNbdParams,
  gg: GammaGammaParams | null,
  fallbackSpend: number,
  h: CustomerHistory,
  options: { monthlyDiscountRate: number; fitted: boolean },
): Scored {
  const pAlive = probabilityAlive(bg, h.x, h.tx, h.T);
  const e = (t: number) => expectedPurchases(bg, t, h.x, h.tx, h.T);
  const e30 = e(30);
  const e90 = e(90);
  let nextPurchaseInDays: number | null = null;
  if (e(365) >= 1) {
    let lo = 0;
    let hi = 365;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (e(mid) >= 1) hi = mid;
      else lo = mid;
    }
    nextPurchaseInDays = Math.ceil(hi);
  }
  const spend = gg ? conditionalExpectedAverageSpend(gg, h.x, h.zbar) : fallbackSpend;
  const expectedSpend = Number.isFinite(spend) && spend >= 0 ? spend : fallbackSpend;
  const lifetime = gg
    ? clv(bg, gg, h, { periodsPerMonth: PERIODS_PER_MONTH.days, monthlyDiscountRate: options.monthlyDiscountRate })
    : expectedSpend * e(365);
  const engagement = 0.5 * pAlive + 0.3 * Math.exp(-Math.max(0, h.daysSinceLast) / 90) + 0.2 * Math.min(1, h.interactions90d / 5);
  const observedDays = h.hasPurchases ? h.T : h.daysSinceLast;
  const confidence = Math.min(1, (h.x + (h.hasPurchases ? 1 : 0)) / 5) * Math.min(1, observedDays / 90) * (options.fitted ? 1 : 0.5);
  return {
    churnRisk: clamp01(1 - pAlive),
    expectedPurchases30d: finite(e30),
    expectedPurchases90d: finite(e90),
    nextPurchaseInDays,
    expectedSpend: finite(expectedSpend),
    predictedClv12m: finite(Number.isFinite(lifetime) ? lifetime : 0),
    propensity: clamp01(1 - Math.exp(-e30)),
    engagementScore: clamp01(engagement),
    confidence: clamp01(confidence),
  };
}

const finite = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);
const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
