// npm run fit -- --cdnow FILE [--calibration-end YYYY-MM-DD] [--penalizer 0]
//
// Fits BG/NBD and Gamma-Gamma to a file in the raw CDNOW format (whitespace-separated:
// master id, sample id, date YYYYMMDD, CDs, dollars). Time is in weeks; the calibration
// period is the 39 weeks from the first day in the file (its last day inclusive) unless
// --calibration-end is given. Prints the parameters readably; the last line is one JSON
// object with r, alpha, a, b, ll, p, q, gamma (and convergence details). Exits 1 when a fit
// did not converge, 2 on bad arguments or input.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fitBgNbd } from '../src/memory/models/bg-nbd.js';
import { parseCdnowTransactions } from '../src/memory/models/cdnow-format.js';
import { fitGammaGamma } from '../src/memory/models/gamma-gamma.js';
import { buildCalibrationSummary } from '../src/memory/models/rfm-summary.js';
import { dayNumberFromIsoDate } from '../src/memory/models/time-unit.js';

const CALIBRATION_WEEKS = 39;

function usage(message: string): never {
  console.error(`${message}\nusage: npm run fit -- --cdnow FILE [--calibration-end YYYY-MM-DD] [--penalizer 0]`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cdnow: { type: 'string' },
      'calibration-end': { type: 'string' },
      penalizer: { type: 'string', default: '0' },
    },
  }));
} catch (error) {
  usage((error as Error).message);
}
if (args.cdnow === undefined) usage('--cdnow FILE is required');
const penalizer = Number(args.penalizer);
if (!(penalizer >= 0)) usage('--penalizer must be a non-negative number');

let text: string;
try {
  text = readFileSync(args.cdnow, 'utf8');
} catch (error) {
  usage(`cannot read ${args.cdnow}: ${(error as Error).message}`);
}
let events: ReturnType<typeof parseCdnowTransactions>;
try {
  events = parseCdnowTransactions(text);
} catch (error) {
  usage(`${args.cdnow}: ${(error as Error).message}`);
}
if (events.length === 0) usage(`${args.cdnow} holds no transactions`);

const dateOf = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);
const firstDay = events.reduce((min, e) => Math.min(min, e.at), Number.POSITIVE_INFINITY);
let calibrationEnd: number;
if (args['calibration-end'] === undefined) {
  calibrationEnd = firstDay + CALIBRATION_WEEKS * 7 - 1;
} else {
  try {
    calibrationEnd = dayNumberFromIsoDate(args['calibration-end']);
  } catch (error) {
    usage((error as Error).message);
  }
}

const summary = buildCalibrationSummary(events, { calibrationEnd, unit: 'weeks' });
const started = performance.now();
const bg = fitBgNbd(summary, { penalizer });
const gg = fitGammaGamma(summary.x, summary.zbar, { penalizer });
const elapsed = (performance.now() - started) / 1000;

const fmt = (v: number, digits = 4): string => v.toFixed(digits);
console.log(`file               ${args.cdnow}`);
console.log(`transactions       ${events.length}`);
console.log(`calibration        ${dateOf(firstDay)} to ${dateOf(calibrationEnd)} (time unit: weeks)`);
console.log(`customers          ${summary.customerIds.length} (${bg.uniqueTriples} distinct (x, t_x, T))`);
console.log('');
console.log('BG/NBD');
console.log(`  r      ${fmt(bg.params.r)}`);
console.log(`  alpha  ${fmt(bg.params.alpha)}`);
console.log(`  a      ${fmt(bg.params.a)}`);
console.log(`  b      ${fmt(bg.params.b)}`);
console.log(`  log-likelihood ${fmt(bg.logLikelihood, 2)}`);
console.log(`  converged ${bg.converged} after ${bg.iterations} iterations (${bg.message})`);
console.log('');
console.log(`Gamma-Gamma (${gg.customers} repeat buyers)`);
console.log(`  p      ${fmt(gg.params.p)}`);
console.log(`  q      ${fmt(gg.params.q)}`);
console.log(`  gamma  ${fmt(gg.params.gamma)}`);
console.log(`  log-likelihood ${fmt(gg.logLikelihood, 2)}`);
console.log(`  converged ${gg.converged} after ${gg.iterations} iterations (${gg.message})`);
console.log(`\nfit time ${elapsed.toFixed(3)} s`);
console.log(
  JSON.stringify({
    r: bg.params.r,
    alpha: bg.params.alpha,
    a: bg.params.a,
    b: bg.params.b,
    ll: bg.logLikelihood,
    p: gg.params.p,
    q: gg.params.q,
    gamma: gg.params.gamma,
    gg_ll: gg.logLikelihood,
    customers: summary.customerIds.length,
    repeat_buyers: gg.customers,
    calibration_end: dateOf(calibrationEnd),
    bg_converged: bg.converged,
    gg_converged: gg.converged,
  }),
);
if (!bg.converged || !gg.converged) process.exitCode = 1;
