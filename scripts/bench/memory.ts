// npm run bench:memory [-- --n 100000] [--seed 42] [--months 12]
//
// Customer-base models at scale: simulate n customers (seeded) from known BG/NBD and
// Gamma-Gamma parameters on a daily event log (first purchases spread over one year, whole
// days, same-day purchases merged), then time
//   fit:   deduplicating (x, t_x, T), BG/NBD fit and Gamma-Gamma fit;
//   score: P(alive), expected purchases in 30 and 90 days, expected spend and 12-month CLV
//          (1% monthly discount) for every customer.
// Peak RSS is the process's maxRSS (resourceUsage), which covers the whole run including the
// simulation. The last line printed is one JSON object with every figure.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fitBgNbdTriples, type BgNbdParams } from '../../src/memory/models/bg-nbd.js';
import { fitGammaGamma, type GammaGammaParams } from '../../src/memory/models/gamma-gamma.js';
import { scoreCustomers } from '../../src/memory/models/score-customers.js';
import { simulateCustomers } from '../../src/memory/models/simulate.js';
import { PERIODS_PER_MONTH } from '../../src/memory/models/time-unit.js';
import { uniqueTriples } from '../../src/memory/models/unique-triples.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    months: { type: 'string', default: '12' },
  },
});
const n = Number(args.n);
const seed = Number(args.seed);
const months = Number(args.months);
if (!(Number.isInteger(n) && n > 0) || !Number.isInteger(seed) || !(Number.isInteger(months) && months > 0)) {
  console.error('usage: npm run bench:memory -- [--n 100000] [--seed 42] [--months 12]');
  process.exit(2);
}

// CDNOW's published estimates, converted from weeks to days (α scales with the time unit).
const truthBg: BgNbdParams = { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426 };
const truthGg: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };

const seconds = (start: number): number => (performance.now() - start) / 1000;

let start = performance.now();
const customers = simulateCustomers(truthBg, n, {
  seed,
  T: (_i, random) => Math.floor(random.uniform() * 365),
  spend: truthGg,
  wholeUnits: true,
});
const simulateS = seconds(start);

start = performance.now();
const triples = uniqueTriples(customers);
const dedupeS = seconds(start);
const bgStart = performance.now();
const bg = fitBgNbdTriples(triples);
const bgFitS = seconds(bgStart);
const ggStart = performance.now();
const gg = fitGammaGamma(customers.x, customers.zbar);
const ggFitS = seconds(ggStart);
const fitS = seconds(start);

start = performance.now();
const scores = scoreCustomers(bg.params, gg.params, customers, {
  horizons: [30, 90],
  clv: { months, monthlyDiscountRate: 0.01, periodsPerMonth: PERIODS_PER_MONTH.days },
});
const scoreS = seconds(start);

let finite = true;
let sumClv = 0;
let sumAlive = 0;
for (let i = 0; i < n; i++) {
  const values = [scores.pAlive[i], scores.expectedPurchases[0]?.[i], scores.expectedPurchases[1]?.[i], scores.clv[i]];
  if (!values.every((v) => v !== undefined && Number.isFinite(v))) finite = false;
  sumClv += scores.clv[i] ?? 0;
  sumAlive += scores.pAlive[i] ?? 0;
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;

const relErr = (fitted: number, truth: number): string => `${(((fitted - truth) / truth) * 100).toFixed(1)}%`;
const rows: [string, string][] = [
  ['customers', n.toLocaleString('en-US')],
  ['unique (x, t_x, T) triples', triples.size.toLocaleString('en-US')],
  ['unique (x, T) pairs scored', scores.uniquePairs.toLocaleString('en-US')],
  ['simulate', `${simulateS.toFixed(3)} s`],
  ['fit: dedupe', `${dedupeS.toFixed(3)} s`],
  ['fit: BG/NBD', `${bgFitS.toFixed(3)} s (${bg.iterations} iterations, ${bg.evaluations} evaluations, converged ${bg.converged})`],
  ['fit: Gamma-Gamma', `${ggFitS.toFixed(3)} s (${gg.iterations} iterations, ${gg.evaluations} evaluations, converged ${gg.converged})`],
  ['fit total', `${fitS.toFixed(3)} s`],
  ['score total', `${scoreS.toFixed(3)} s (${Math.round(n / scoreS).toLocaleString('en-US')} customers/s)`],
  ['fit + score', `${(fitS + scoreS).toFixed(3)} s`],
  ['peak RSS', `${peakRssMb.toFixed(0)} MB`],
  ['r / α / a / b', `${bg.params.r.toFixed(3)} / ${bg.params.alpha.toFixed(2)} / ${bg.params.a.toFixed(3)} / ${bg.params.b.toFixed(3)}`],
  ['vs truth', [relErr(bg.params.r, truthBg.r), relErr(bg.params.alpha, truthBg.alpha), relErr(bg.params.a, truthBg.a), relErr(bg.params.b, truthBg.b)].join(' / ')],
  ['p / q / γ', `${gg.params.p.toFixed(3)} / ${gg.params.q.toFixed(3)} / ${gg.params.gamma.toFixed(3)}`],
  ['vs truth', [relErr(gg.params.p, truthGg.p), relErr(gg.params.q, truthGg.q), relErr(gg.params.gamma, truthGg.gamma)].join(' / ')],
  ['mean P(alive) / mean CLV', `${(sumAlive / n).toFixed(4)} / ${(sumClv / n).toFixed(2)}`],
  ['all scores finite', String(finite)],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log(
  JSON.stringify({
    bench: 'memory',
    n,
    seed,
    fit_s: Number(fitS.toFixed(4)),
    score_s: Number(scoreS.toFixed(4)),
    total_s: Number((fitS + scoreS).toFixed(4)),
    peak_rss_mb: Number(peakRssMb.toFixed(1)),
    simulate_s: Number(simulateS.toFixed(4)),
    bg_fit_s: Number(bgFitS.toFixed(4)),
    gg_fit_s: Number(ggFitS.toFixed(4)),
    unique_triples: triples.size,
    unique_pairs: scores.uniquePairs,
    bg_converged: bg.converged,
    gg_converged: gg.converged,
    bg: bg.params,
    gg: gg.params,
    scores_finite: finite,
  }),
);
