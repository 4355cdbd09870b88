// The emails an import has met so far, to refuse a second row with the same email. A file under
// IMPORT_MAX_BYTES may hold millions of rows, and a Set of the email strings would cost some 80
// bytes each; this keeps a 64-bit hash of each (8 bytes, open addressing in a typed array, at
// most 3/4 full). Two different emails share a hash with odds of about n²/2⁶⁵ (1 in 6 million
// for a million rows): the second would be refused as a duplicate, which is visible and harmless.
import { createHash } from 'node:crypto';

export class SeenEmails {
  private slots = new BigUint64Array(1 << 12);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the (lower-case) email; false when it was there already. */
  add(emailKey: string): boolean {
    if ((this.count + 1) * 4 > this.slots.length * 3) this.grow();
    const inserted = insert(this.slots, hashOf(emailKey));
    if (inserted) this.count++;
    return inserted;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new BigUint64Array(old.length * 2);
    for (const h of old) if (h !== 0n) insert(this.slots, h);
  }
}

/** Never 0: 0 marks an empty slot. */
function hashOf(key: string): bigint {
  const h = createHash('sha256').update(key).digest().readBigUInt64BE(0);
  return h === 0n ? 1n : h;
}

function insert(slots: BigUint64Array, h: bigint): boolean {
  const mask = slots.length - 1;
  // The low bits of a sha256 prefix are uniform: they pick the slot; linear probing from there.
  for (let i = Number(h & BigInt(mask)); ; i = (i + 1) & mask) {
    const at = slots[i]!;
    if (at === 0n) {
      slots[i] = h;
      return true;
    }
    if (at === h) return false;
  }
}
