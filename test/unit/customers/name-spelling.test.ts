// The spellings the misspelt-name search looks up: every kind of single edit, folded accents,
// and no edits of very short or very long words.
import { describe, expect, it } from 'vitest';
import { foldName, MAX_EDITABLE_LENGTH, MIN_EDITABLE_LENGTH, spellingsOf } from '../../../src/customers/name-spelling.js';

describe('spellingsOf', () => {
  it('holds the word first and every spelling one edit away: a letter dropped, added, changed, or two neighbours swapped', () => {
    const all = spellingsOf('smith');
    expect(all[0]).toBe('smith');
    for (const near of ['mith', 'smth', 'smit', 'msith', 'smtih', 'smiht', 'smyth', 'ssmith', 'smitht', "smi'th", 'smi-th']) expect(all).toContain(near);
    // Two edits away, or a letter outside the alphabet: not one edit.
    for (const far of ['msiht', 'smythe', 'snyth', 'sm1th']) expect(all).not.toContain(far);
    expect(new Set(all).size).toBe(all.length);
  });

  it('folds accents, so García and garcia meet, and leaves words shorter than the minimum or longer than the maximum as they are', () => {
    expect(foldName('García Núñez')).toBe('garcia nunez');
    expect(spellingsOf('GARCÍA')[0]).toBe('garcia');
    expect(spellingsOf('garcía')).toContain('gracia');
    expect(MIN_EDITABLE_LENGTH).toBe(3);
    expect(spellingsOf('Li')).toEqual(['li']);
    expect(spellingsOf('a'.repeat(MAX_EDITABLE_LENGTH + 1))).toEqual(['a'.repeat(MAX_EDITABLE_LENGTH + 1)]);
    expect(spellingsOf('a'.repeat(MAX_EDITABLE_LENGTH)).length).toBeGreaterThan(1);
    expect(spellingsOf('lee').length).toBeGreaterThan(100);
  });
});
