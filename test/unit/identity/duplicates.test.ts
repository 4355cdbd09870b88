// Duplicate pairs' reasons (rules and similarities, never values), the pair cursor, and the
// recognition of a cancelled name search.
import { describe, expect, it } from 'vitest';
import { isStatementTimeout, nameSearchFloor } from '../../../src/identity/duplicates.repository.js';
import { decodePairCursor, encodePairCursor, reasonsOf } from '../../../src/identity/duplicates.service.js';

describe('reasonsOf', () => {
  it('names the rules that matched and how alike the names are', () => {
    expect(reasonsOf({ same_email: true, same_email_key: true, same_phone: true, name_similarity: 1 })).toEqual([
      { rule: 'email', detail: 'same email' },
      { rule: 'phone', detail: 'same E.164 phone' },
      { rule: 'name', similarity: 1, detail: 'same name' },
    ]);
    expect(reasonsOf({ same_email: false, same_email_key: true, same_phone: false, name_similarity: 0.8234 })).toEqual([
      { rule: 'email', detail: 'same normalised email (case, +tag or Gmail dots)' },
      { rule: 'name', similarity: 0.82, detail: 'similar names' },
    ]);
    expect(reasonsOf({ same_email: false, same_email_key: false, same_phone: true, name_similarity: 0.1 })[1]).toEqual({
      rule: 'name',
      similarity: 0.1,
      detail: 'names differ (lowers the score)',
    });
    // Neither alike nor different enough to matter, or a name missing: no name reason.
    expect(reasonsOf({ same_email: false, same_email_key: false, same_phone: true, name_similarity: 0.4 })).toHaveLength(1);
    expect(reasonsOf({ same_email: false, same_email_key: false, same_phone: true, name_similarity: null })).toHaveLength(1);
  });
});

describe('pair cursor', () => {
  it('round-trips a position and refuses anything else, naming query.cursor', () => {
    const p = { score: '0.885', a: '0b6f1a52-0000-4000-8000-000000000001', b: '0b6f1a52-0000-4000-8000-000000000002' };
    expect(decodePairCursor(encodePairCursor(p))).toEqual(p);
    for (const bad of ['nope', Buffer.from('["2", "x", "y"]').toString('base64url'), Buffer.from(JSON.stringify(['0.5;drop', p.a, p.b])).toString('base64url')]) {
      expect(() => decodePairCursor(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: [expect.objectContaining({ field: 'query.cursor' })] }));
    }
  });
});

describe('name search', () => {
  it('runs only when a name likeness alone can reach minScore, from a similarity of at least 0.5', () => {
    expect(nameSearchFloor(0.6)).toBeNull();
    expect(nameSearchFloor(0.5)).toBe(1);
    expect(nameSearchFloor(0.4)).toBeCloseTo(0.8);
    expect(nameSearchFloor(0.25)).toBe(0.5);
  });

  it('recognises a statement cancelled by its timeout through drizzle’s wrapping', () => {
    expect(isStatementTimeout({ message: 'failed query', cause: { code: '57014' } })).toBe(true);
    expect(isStatementTimeout({ code: '23505' })).toBe(false);
    expect(isStatementTimeout(new Error('x'))).toBe(false);
  });
});
