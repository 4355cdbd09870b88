// The people behind the customer records. Every third person shops in both systems, so the
// identity-linking step has real overlaps to find; the others exist in one system only.
import { AREA_CODES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, MAX_PEOPLE } from './names.js';
import type { Prng } from './prng.js';
import type { SimPerson } from './sim-model.js';

const PRESENCE: ReadonlyArray<SimPerson['presence']> = ['both', 'square', 'lightspeed'];

export function generatePeople(prng: Prng, count: number): SimPerson[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_PEOPLE) {
    throw new RangeError(`customers must be an integer from 0 to ${MAX_PEOPLE}`);
  }
  const usedEmails = new Set<string>();
  const people: SimPerson[] = [];
  for (let i = 0; i < count; i++) {
    const firstName = FIRST_NAMES[i % FIRST_NAMES.length] as string;
    const lastName = LAST_NAMES[(i + Math.floor(i / FIRST_NAMES.length) * 7) % LAST_NAMES.length] as string;
    const presence = PRESENCE[i % PRESENCE.length] as SimPerson['presence'];
    // People in both systems always left an email and a phone, so an overlap is findable.
    const hasEmail = presence === 'both' || prng.chance(0.88);
    const hasPhone = presence === 'both' || prng.chance(0.85);
    const domain = prng.pick(EMAIL_DOMAINS);
    let email: string | undefined;
    if (hasEmail) {
      const base = `${firstName}.${lastName}`.toLowerCase();
      email = `${base}@${domain}`;
      for (let n = 2; usedEmails.has(email); n++) email = `${base}${n}@${domain}`;
      usedEmails.add(email);
    }
    const area = AREA_CODES[Math.floor(i / 100)] as string;
    const line = String(100 + (i % 100)).padStart(4, '0');
    people.push({
      key: `person-${String(i + 1).padStart(4, '0')}`,
      firstName,
      lastName,
      presence,
      ...(email ? { email } : {}),
      ...(hasPhone ? { phoneE164: `+1${area}555${line}` } : {}),
    });
  }
  return people;
}
