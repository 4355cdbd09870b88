// Seeded pseudo-random numbers for the simulator's data (mulberry32 over an FNV-1a seed hash).
// Invariant: the same seed string yields the same sequence on every machine and Node version;
// nothing here touches Math.random. `fork(label)` derives an independent stream, so adding a
// draw in one part of the generator does not shift the data of another part.
const ID_ALPHABET_UPPER = 'ABCDEFGHJKMNPQRSTVWXYZ0123456789';
const ID_ALPHABET_MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class Prng {
  private state: number;

  constructor(private readonly seed: string | number) {
    this.state = hashSeed(String(seed));
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Uppercase ids like Square's customer and catalog ids (no I, L, O, U to avoid look-alikes). */
  upperId(length: number): string {
    return this.fromAlphabet(ID_ALPHABET_UPPER, length);
  }

  /** Mixed-case ids like Square's payment ids. */
  mixedId(length: number): string {
    return this.fromAlphabet(ID_ALPHABET_MIXED, length);
  }

  fork(label: string): Prng {
    return new Prng(`${String(this.seed)}/${label}`);
  }

  private fromAlphabet(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}
