// Time source of the POS simulator. Token expiry, the leaky bucket, eventual consistency and
// default query windows all read it, so tests can move time instead of sleeping.
export interface SimClock {
  now(): number;
}

export const systemClock: SimClock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements SimClock {
  private current: number;

  constructor(start: Date | number | string = Date.now()) {
    this.current = new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(at: Date | number | string): void {
    this.current = new Date(at).getTime();
  }
}
