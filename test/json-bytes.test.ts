import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { JsonError, JsonScanner, LineCounter, lenientEnd, plainEnd, viewOf } from '../dist/src/formats/json-bytes.js';

/**
 * Does the byte scanner accept buf as exactly one JSON value (with surrounding whitespace)?
 * `asReaders`: check UTF-8 in strings only when the whole buffer is not UTF-8, as the
 * readers do (so strings are scanned four bytes at a time, plainEnd).
 */
function scannerAccepts(buf: Uint8Array, asReaders = false): boolean {
  const sc = new JsonScanner();
  sc.reset(buf, 0, buf.length, asReaders ? !isUtf8(buf) : true);
  try {
    sc.skip();
    return sc.peek() === -1;
  } catch (err) {
    if (err instanceof JsonError) return false;
    throw err;
  }
}

function jsonParseAccepts(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// characters that matter to JSON's grammar, plus some that never may appear raw
const EDIT_CHARS = [...'{}[]",:\\/0123456789-+.eEtrufalsn \t\n\rxu', '\u0000', '\u001f', 'é', '\u2028'];

describe('byte-level JSON scanner', () => {
  it('accepts every JSON text that JSON.parse accepts (random values)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(scannerAccepts(Buffer.from(text))).toBe(true);
        expect(scannerAccepts(Buffer.from(text), true)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with JSON.parse on damaged JSON (random edits of valid text)', () => {
    const edit = fc.record({ at: fc.nat(), del: fc.nat({ max: 3 }), ins: fc.array(fc.constantFrom(...EDIT_CHARS), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (v, edits) => {
        let text = JSON.stringify(v);
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.ins.join('') + text.slice(at + e.del);
        }
        const buf = Buffer.from(text);
        expect(scannerAccepts(buf), text).toBe(jsonParseAccepts(text));
        expect(scannerAccepts(buf, true), text).toBe(jsonParseAccepts(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('plainEnd stops at the first quote, backslash or control byte, at every offset and alignment', () => {
    const plain = 'abcdefghijklmnopqrstuvwxyzé€\u{1F600}0123456789 ~\x7f';
    const pool = Buffer.alloc(200);
    for (const stop of [0x22, 0x5c, 0x00, 0x01, 0x0a, 0x1f]) {
      for (let align = 0; align < 4; align++) {
        for (let i = 0; i <= 40; i++) {
          const body = Buffer.concat([Buffer.from(plain).subarray(0, i), Buffer.from([stop]), Buffer.from(plain)]);
          const b = pool.subarray(align, align + body.length); // views at each byte offset of one buffer
          body.copy(b);
          const dv = viewOf(b);
          for (let from = 0; from <= Math.min(i, 6); from++) expect(plainEnd(dv, b, from, b.length)).toBe(i);
          expect(plainEnd(dv, b, 0, i)).toBe(i); // no stop byte before e: e
        }
      }
    }
  });

  it('holds a Buffer it is given as a plain Uint8Array over the same bytes (one array kind for the dictionary), made once per buffer', () => {
    const pool = Buffer.from('xx{"k":"value"}yy'); // a view at an offset of its ArrayBuffer, as the file reader's are
    const b = pool.subarray(2, 15);
    const sc = new JsonScanner();
    sc.reset(b, 0, b.length, false);
    expect(sc.buf.constructor).toBe(Uint8Array);
    expect(Buffer.from(sc.buf.buffer, sc.buf.byteOffset, sc.buf.length).toString()).toBe('{"k":"value"}');
    const held = sc.buf;
    sc.reset(b, 5, b.length, false);
    expect(sc.buf).toBe(held);
    sc.str();
    expect(Buffer.from(sc.strBuf.subarray(sc.strS, sc.strE)).toString()).toBe('value');
    const u8 = new Uint8Array(4);
    sc.reset(u8, 0, 4, false);
    expect(sc.buf).toBe(u8);
  });

  it('rejects invalid UTF-8 (which a decoder would silently replace) and decodes escapes', () => {
    const bad = [Buffer.from([0x22, 0xff, 0x22]), Buffer.from([0x22, 0xc0, 0xaf, 0x22]), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), Buffer.from([0x22, 0xe2, 0x82, 0x22])];
    for (const b of bad) {
      expect(isUtf8(b)).toBe(false);
      expect(scannerAccepts(b)).toBe(false);
    }
    const sc = new JsonScanner();
    const b = Buffer.from('"a\\u00e9\\ud83d\\ude00\\n\\/"');
    sc.reset(b, 0, b.length, false);
    sc.str();
    expect(Buffer.from(sc.strBuf.subarray(sc.strS, sc.strE)).toString('utf8')).toBe('aé😀\n/');
  });

  it('numbers: exact integers, engine conversion for the rest, strict grammar', () => {
    const num = (t: string) => {
      const sc = new JsonScanner();
      const b = Buffer.from(t);
      sc.reset(b, 0, b.length, false);
      return sc.num();
    };
    expect(num('0')).toBe(0);
    expect(num('-17')).toBe(-17);
    expect(num('123456789012345')).toBe(123456789012345);
    expect(num('9007199254740993')).toBe(9007199254740992); // as JSON.parse rounds it
    expect(num('1.5e3')).toBe(1500);
    for (const bad of ['01', '-', '1.', '.5', '1e', '+1']) expect(scannerAccepts(Buffer.from(bad)), bad).toBe(false);
  });

  it('refuses nesting deeper than 512 instead of overflowing the stack', () => {
    expect(scannerAccepts(Buffer.from('['.repeat(100000) + ']'.repeat(100000)))).toBe(false);
    expect(scannerAccepts(Buffer.from('['.repeat(500) + ']'.repeat(500)))).toBe(true);
  });

  it('lenientEnd finds the end of a damaged value by matching brackets', () => {
    const t = Buffer.from('{"a":"x\xff}","b":[1,{"c":2}]} tail');
    expect(lenientEnd(t, 0, t.length)).toBe(t.indexOf(' tail'));
    expect(lenientEnd(Buffer.from('{"a":[}'), 0, 7)).toBe(-1); // mismatched
    expect(lenientEnd(Buffer.from('{"a":"cut'), 0, 9)).toBe(-1);
  });

  it('line numbers from offsets, forwards and backwards', () => {
    const b = Buffer.from('ab\ncd\n\nef');
    const lines = new LineCounter(b);
    expect([0, 2, 3, 5, 6, 7, 8].map((o) => lines.lineAt(o))).toEqual([1, 1, 2, 2, 3, 4, 4]);
    expect(lines.lineAt(1)).toBe(1);
    expect(lines.columnAt(8)).toBe(2);
    // the first newline is looked for at the first question, whichever it is
    expect(new LineCounter(b).columnAt(4)).toBe(2);
    expect(new LineCounter(b).lineAt(9)).toBe(4);
    const oneLine = new LineCounter(Buffer.from('{"records":[]}'));
    expect([13, 0, 5].map((o) => oneLine.lineAt(o))).toEqual([1, 1, 1]);
  });
});
