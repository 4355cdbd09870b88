// Entry point of the built-in POS simulator: generates a deterministic dataset from a seed and
// serves it as a Square-shaped and a Lightspeed-R-Series-shaped API on loopback (port 0 by
// default). Demo mode points the ingesters at it; tests turn on fault injection through
// `control`. Nothing here reads the environment: callers pass every option.
import { generatePosDataset, type DatasetOptions } from './data/generate-dataset.js';
import type { PosDataset } from './data/sim-model.js';
import { startLightspeedServer, type LightspeedControl, type LightspeedSimOptions } from './lightspeed/lightspeed-server.js';
import { systemClock, type SimClock } from './sim-clock.js';
import { startSquareServer, type SquareControl, type SquareSimOptions } from './square/square-server.js';

export interface PosSimulatorOptions extends DatasetOptions {
  /** Default 127.0.0.1. */
  host?: string;
  clock?: SimClock;
  square?: SquareSimOptions;
  lightspeed?: LightspeedSimOptions;
}

export interface PosSimulator {
  dataset: PosDataset;
  square: { url: string; token: string; mainLocationId: string; locationIds: string[] };
  lightspeed: {
    url: string;
    apiUrl: string;
    tokenUrl: string;
    accountId: string;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
  };
  control: { square: SquareControl; lightspeed: LightspeedControl };
  close(): Promise<void>;
}

export async function startPosSimulator(opts: PosSimulatorOptions = {}): Promise<PosSimulator> {
  const clock = opts.clock ?? systemClock;
  const host = opts.host ?? '127.0.0.1';
  const dataset = generatePosDataset(opts, clock.now());
  const square = await startSquareServer(dataset.square, dataset.seed, clock, host, opts.square);
  let lightspeed;
  try {
    lightspeed = await startLightspeedServer(dataset.lightspeed, dataset.seed, clock, host, opts.lightspeed);
  } catch (err) {
    await square.close();
    throw err;
  }
  const main = dataset.square.locations.find((l) => l.isMain) ?? dataset.square.locations[0];
  return {
    dataset,
    square: {
      url: square.url,
      token: square.token,
      mainLocationId: main?.id ?? '',
      locationIds: dataset.square.locations.map((l) => l.id),
    },
    lightspeed: {
      url: lightspeed.url,
      apiUrl: lightspeed.apiUrl,
      tokenUrl: lightspeed.tokenUrl,
      accountId: lightspeed.accountId,
      clientId: lightspeed.clientId,
      clientSecret: lightspeed.clientSecret,
      refreshToken: lightspeed.refreshToken,
    },
    control: { square: square.control, lightspeed: lightspeed.control },
    close: async () => {
      await Promise.all([square.close(), lightspeed.close()]);
    },
  };
}

export { generatePosDataset, type DatasetOptions } from './data/generate-dataset.js';
export type { PosDataset, SimPerson } from './data/sim-model.js';
export type { FaultOptions, MalformedKind } from './faults.js';
export { ManualClock, systemClock, type SimClock } from './sim-clock.js';
export type { SquareControl, SquareSimOptions } from './square/square-server.js';
export type { LightspeedControl, LightspeedSimOptions } from './lightspeed/lightspeed-server.js';
