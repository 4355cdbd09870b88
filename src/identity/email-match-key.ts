// The email as duplicate detection compares it, in TypeScript: the mirror of emailMatchKeySql
// (src/db/schema/customers.ts), which the duplicates query and its index use. Lower case; a
// "+tag" after a non-empty local part is dropped (plus addressing: Gmail, Outlook, iCloud,
// Fastmail… deliver a+shop@x to a@x); for Gmail also the dots, which Gmail ignores, and
// googlemail.com is gmail.com. Other providers' dots are kept: for them a.b and ab differ.
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

export function emailMatchKey(email: string | null | undefined): string | null {
  if (email === null || email === undefined) return null;
  const lower = email.toLowerCase();
  const [localPart = '', domain = ''] = lower.split('@');
  const untagged = /^([^+]+)\+.*$/.exec(localPart)?.[1] ?? localPart;
  return GMAIL_DOMAINS.has(domain) ? `${untagged.replaceAll('.', '')}@gmail.com` : `${untagged}@${domain}`;
}
