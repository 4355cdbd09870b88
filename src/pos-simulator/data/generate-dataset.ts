// The whole simulated world from one seed: the people, then each POS system's records. Every
// system draws from its own forked stream, so the same options always give the same dataset.
import { generateLightspeedData } from './generate-lightspeed.js';
import { generatePeople } from './generate-people.js';
import { generateSquareData } from './generate-square.js';
import { Prng } from './prng.js';
import type { PosDataset } from './sim-model.js';
import { DAY } from './time-units.js';

export interface DatasetOptions {
  seed?: string | number;
  /** People in total; a third are in both systems, a third in each one only. */
  customers?: number;
  /** Range of the generated transactions. Default: the `days` days before `endAt`. */
  startAt?: Date | string | number;
  /** Default: the start of the current UTC day (pass it for data identical across days). */
  endAt?: Date | string | number;
  days?: number;
  /** Average transactions per day per Square location and per Lightspeed shop. */
  transactionsPerDay?: number;
  squareLocations?: number;
  lightspeedShops?: number;
}

export const DEFAULT_SEED = 'customer360-demo';

export function generatePosDataset(opts: DatasetOptions = {}, now: number = Date.now()): PosDataset {
  const seed = String(opts.seed ?? DEFAULT_SEED);
  const endAt = opts.endAt !== undefined ? toMillis(opts.endAt, 'endAt') : Math.floor(now / DAY) * DAY;
  const startAt = opts.startAt !== undefined ? toMillis(opts.startAt, 'startAt') : endAt - (opts.days ?? 90) * DAY;
  if (!(startAt < endAt)) throw new RangeError('startAt must be before endAt');
  const transactionsPerDay = opts.transactionsPerDay ?? 3;
  const squareLocations = opts.squareLocations ?? 2;
  const lightspeedShops = opts.lightspeedShops ?? 2;
  if (!(transactionsPerDay >= 0)) throw new RangeError('transactionsPerDay must be >= 0');
  for (const [name, value] of [['squareLocations', squareLocations], ['lightspeedShops', lightspeedShops]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 20) throw new RangeError(`${name} must be an integer from 1 to 20`);
  }
  const root = new Prng(seed);
  const people = generatePeople(root.fork('people'), opts.customers ?? 40);
  const window = { startAt, endAt, transactionsPerDay };
  return {
    seed,
    startAt,
    endAt,
    people,
    square: generateSquareData(root.fork('square'), people, { ...window, locations: squareLocations }),
    lightspeed: generateLightspeedData(root.fork('lightspeed'), people, { ...window, shops: lightspeedShops }),
  };
}

function toMillis(value: Date | string | number, name: string): number {
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid date`);
  return ms;
}
