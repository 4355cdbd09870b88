// The compact set of emails an import has met: it finds every repeat, through growth.
import { describe, expect, it } from 'vitest';
import { SeenEmails } from '../../../src/imports/seen-emails.js';

describe('SeenEmails', () => {
  it('adds each email once and finds every repeat, across many resizes', () => {
    const seen = new SeenEmails();
    const n = 50_000;
    for (let i = 0; i < n; i++) expect(seen.add(`user${i}@example.com`)).toBe(true);
    expect(seen.size).toBe(n);
    for (let i = 0; i < n; i += 7) expect(seen.add(`user${i}@example.com`)).toBe(false);
    expect(seen.add('someone.else@example.com')).toBe(true);
    expect(seen.size).toBe(n + 1);
  });
});
