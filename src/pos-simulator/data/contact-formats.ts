// How the same email and phone number come out of two POS systems: staff type them in by hand,
// so case and punctuation differ. Identity linking must normalise both sides to match them.
export type PhoneFormat = 'plus-dash' | 'paren' | 'dots' | 'digits' | 'e164';

/** "+14155550101" → "+1 415-555-0101" | "(415) 555-0101" | "415.555.0101" | "4155550101" | "+14155550101". */
export function formatUsPhone(e164: string, format: PhoneFormat): string {
  const digits = e164.replace(/^\+1/, '');
  const area = digits.slice(0, 3);
  const exchange = digits.slice(3, 6);
  const line = digits.slice(6);
  switch (format) {
    case 'plus-dash':
      return `+1 ${area}-${exchange}-${line}`;
    case 'paren':
      return `(${area}) ${exchange}-${line}`;
    case 'dots':
      return `${area}.${exchange}.${line}`;
    case 'digits':
      return `${area}${exchange}${line}`;
    case 'e164':
      return e164;
  }
}

/** "ann.lee@example.com" → "Ann.Lee@Example.com". */
export function titleCaseEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  const title = (part: string) => part.replace(/(^|[.\-_])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
  return `${title(local)}@${title(domain)}`;
}
