/**
 * Seeded random damage for the readers' tests: the same damaged inputs on every run, so a
 * failure can be reproduced.
 */

/** A pseudo-random integer in 0..n-1 from a seed (a linear congruential generator). */
export function seeded(seed: number): (n: number) => number {
  let s = seed;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

/**
 * `text` with 1 to `maxEdits` edits, each a character of `alphabet` put in place of one,
 * inserted, or one deleted, at a random place (`atEnd`: the end of the text is a place too).
 */
export function damage(text: string, rnd: (n: number) => number, alphabet: string, maxEdits: number, atEnd = false): string {
  const chars = text.split('');
  for (let k = 1 + rnd(maxEdits); k > 0; k--) {
    const at = rnd(chars.length + (atEnd ? 1 : 0));
    const op = rnd(3);
    const ch = alphabet[rnd(alphabet.length)]!;
    if (op === 0) chars[at] = ch;
    else if (op === 1) chars.splice(at, 0, ch);
    else chars.splice(at, 1);
  }
  return chars.join('');
}
