// Spellings of a misspelt name: everything one edit away from each word typed, which the search
// looks up in the vocabulary of the names customers have (customer_name_vocabulary). One edit
// (Damerau: a letter dropped, added or changed, or two neighbours swapped) covers most typing
// mistakes, and a lookup by equality stays fast however large the vocabulary grows, where a
// trigram similarity search over a million full names read tens of thousands of rows.

/**
 * The letters tried when adding or changing one. Accented letters are not needed: the vocabulary
 * is compared on its accent-folded form (name_fold in migration 0006), so "garcia" finds García.
 */
const LETTERS = [..."abcdefghijklmnopqrstuvwxyz'-"];

/**
 * The accent fold of the vocabulary: the same letters as name_fold in migration 0006 (a test
 * compares the two), so a spelling folded here meets the vocabulary's folded column.
 */
const FOLD_FROM = 'àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőśšşùúûüūůűųýÿźżž';
const FOLD_TO = 'aaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooosssuuuuuuuuyyzzz';
const FOLD = new Map([...FOLD_FROM].map((letter, i) => [letter, [...FOLD_TO][i]!]));

/** Lower case without accents: "García" → "garcia". */
export const foldName = (name: string): string => [...name.toLowerCase()].map((letter) => FOLD.get(letter) ?? letter).join('');

/** Words shorter than this are looked up as typed: one edit of two letters reaches far too many names. */
export const MIN_EDITABLE_LENGTH = 3;
/** Nor are longer ones: no name word is this long, and the spellings grow with the length (~56 a letter). */
export const MAX_EDITABLE_LENGTH = 40;

/** The word's folded spelling (first) and every distinct spelling one edit away from it, folded. */
export function spellingsOf(word: string): string[] {
  const chars = [...foldName(word)];
  const found = new Set<string>([chars.join('')]);
  if (chars.length < MIN_EDITABLE_LENGTH || chars.length > MAX_EDITABLE_LENGTH) return [...found];
  // head(i) + … + tail(j): strings joined, not arrays (a search makes ~56 spellings a letter).
  const heads = chars.map((_, i) => chars.slice(0, i).join(''));
  const tails = [...chars.map((_, i) => chars.slice(i).join('')), ''];
  heads.push(tails[0]!);
  for (let i = 0; i < chars.length; i++) {
    found.add(heads[i]! + tails[i + 1]!);
    if (i + 1 < chars.length) found.add(heads[i]! + chars[i + 1]! + chars[i]! + tails[i + 2]!);
    for (const letter of LETTERS) found.add(heads[i]! + letter + tails[i + 1]!);
  }
  for (let i = 0; i <= chars.length; i++) {
    for (const letter of LETTERS) found.add(heads[i]! + letter + tails[i]!);
  }
  return [...found];
}
