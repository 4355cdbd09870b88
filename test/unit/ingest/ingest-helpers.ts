// Shared pieces of the POS client tests: a sleep that records what it was asked to wait (and can
// move a ManualClock instead of waiting), a page collector, and an in-memory CredentialStore that
// writes to an ordered event log.
import type { PosPage } from '../../../src/ingest/http/pos-http.js';
import type { CredentialStore } from '../../../src/ingest/lightspeed/lightspeed.auth.js';
import type { ManualClock } from '../../../src/pos-simulator/sim-clock.js';

export interface RecordingSleep {
  sleep: (ms: number) => Promise<void>;
  delays: number[];
}

/** Returns at once, remembering each delay; with a clock, moves it forward by the delay. */
export function recordingSleep(clock?: ManualClock, onSleep?: (ms: number) => void): RecordingSleep {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      clock?.advance(ms);
      onSleep?.(ms);
      return Promise.resolve();
    },
  };
}

export async function collect<P extends PosPage>(pages: AsyncIterable<P>): Promise<{ records: unknown[]; pages: P[] }> {
  const all: P[] = [];
  for await (const page of pages) all.push(page);
  return { records: all.flatMap((p) => p.records), pages: all };
}

/** Field `key` of each raw record, as strings. */
export const ids = (records: unknown[], key = 'id'): string[] => records.map((r) => String((r as Record<string, unknown>)[key]));

export class MemoryCredentialStore implements CredentialStore {
  saves = 0;
  failNextSave = false;

  constructor(
    private token: string,
    private readonly log: string[] = [],
  ) {}

  get current(): string {
    return this.token;
  }

  loadRefreshToken(): Promise<string> {
    this.log.push('load');
    return Promise.resolve(this.token);
  }

  async saveRefreshToken(token: string): Promise<void> {
    // A real store answers later (a database round trip): a save that is not awaited shows up
    // in the log after the request it should have preceded.
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failNextSave) {
      this.failNextSave = false;
      this.log.push('save-failed');
      throw new Error('disk full');
    }
    this.saves++;
    this.token = token;
    this.log.push(`save:${token}`);
  }
}
