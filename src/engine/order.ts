/** The order of verdict output (detection.md §7): window, source (IPv4 before IPv6, numerically), protocol, port. */
import { compareAddress, isV4 } from '../net/address.js';

export interface Ordered {
  window: number;
  srcWords: number[];
  protocol: number;
  dstPort: number;
}

export function compareVerdicts(a: Ordered, b: Ordered): number {
  return (
    a.window - b.window ||
    compareAddress(a.srcWords, 0, b.srcWords, 0) ||
    a.protocol - b.protocol ||
    a.dstPort - b.dstPort
  );
}

/**
 * `list` in compareVerdicts' order, ties in their order in `list` (as list.sort(compareVerdicts)),
 * as a new array. Each verdict's order as one string of 16-bit code units, which the default
 * sort compares without calling back into JavaScript: the comparator, called ~7,000 times for
 * the 7 M-record bucket's 708 scans at the end of a run, was compiled by TurboFan twice in the
 * main thread (its source words' arrays are of small integers or of doubles, and isV4
 * deoptimised on the other kind). A field the key cannot hold (no integer of 32 bits) sorts
 * by the comparator.
 */
export function sortVerdicts<T extends Ordered>(list: readonly T[]): T[] {
  const n = list.length;
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const key = orderKey(list[i]!, i);
    if (key === null) return list.slice().sort(compareVerdicts);
    keys[i] = key;
  }
  keys.sort();
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    out[i] = list[key.charCodeAt(KEY_UNITS - 2) * 0x10000 + key.charCodeAt(KEY_UNITS - 1)]!;
  }
  return out;
}

/** Code units of an order key: window 2, IPv6 or not 1, source words 8, protocol 2, port 2, place 2. */
const KEY_UNITS = 17;

/** A verdict's order key (sortVerdicts), its place `i` last; null where a field is not a 32-bit unsigned integer. */
function orderKey(v: Ordered, i: number): string | null {
  const w = v.srcWords;
  if (!u32(v.window) || !u32(v.protocol) || !u32(v.dstPort) || w.length < 4) return null;
  // the words as compareAddress reads them (>>> 0); IPv4 first as it tells (isV4)
  const w0 = w[0]! >>> 0;
  const w1 = w[1]! >>> 0;
  const w2 = w[2]! >>> 0;
  const w3 = w[3]! >>> 0;
  return String.fromCharCode(
    v.window >>> 16, v.window & 0xffff,
    isV4(w, 0) ? 0 : 1,
    w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff,
    v.protocol >>> 16, v.protocol & 0xffff,
    v.dstPort >>> 16, v.dstPort & 0xffff,
    i >>> 16, i & 0xffff,
  );
}

function u32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}
