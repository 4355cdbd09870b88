// A credential held on an object without leaking it: JSON.stringify, util.inspect (console logging,
// pino's fallbacks, vitest diffs) and string conversion all print "[redacted]". Code that must
// send it calls `reveal()`, which makes every use easy to find.
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
