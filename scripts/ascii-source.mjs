// A bundle's text with every character outside ASCII written as a \u escape (scripts/bundle.mjs).
//
// Why: the loader reads a bundle as UTF-8 (scripts/code-cache.cjs), and one character above
// U+00FF anywhere in it (a '…' in a message, a '→' in a comment) makes V8 keep the whole source
// as a two-byte string: a slower decode at every start of every thread that loads it, twice the
// memory, and the lazily compiled functions scanned from two-byte text. Loading the parse
// thread's bundle from its code cache took 6.3 ms of CPU as the build wrote it and 5.4 ms with
// its 41 such lines escaped (bench/RESULTS.md, session 17, boot).
//
// An escape means the same character in a string, a template's cooked text, a regular
// expression and an identifier, and nothing in a comment. It would not in a template's raw
// text (String.raw, a tagged template): the sources have none with such characters. A
// character right after a backslash (an identity escape, '\é') cannot be written so: the build
// fails and names the file rather than change its meaning.
export function asciiSource(text, file = 'bundle') {
  return text.replace(/[\u0080-\uffff]/g, (ch, at) => {
    let slashes = 0;
    while (at - slashes - 1 >= 0 && text.charCodeAt(at - slashes - 1) === 0x5c) slashes++;
    if (slashes % 2 === 1) throw new Error(`${file}: a backslash before '${ch}' at ${at}: write the character as \\u${hex4(ch.charCodeAt(0))} in the source`);
    return `\\u${hex4(ch.charCodeAt(0))}`;
  });
}

const hex4 = (code) => code.toString(16).padStart(4, '0');
