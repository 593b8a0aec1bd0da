/**
 * Home networks (detection.md §3): the user's own networks on public addresses, given as CIDRs
 * (`--home-net`). An address inside them counts as not public in every rule.
 *
 * The CIDRs are turned once into sorted, merged ranges over the 128-bit four-word form
 * (IPv4 in its IPv4-mapped form), so a record's address is checked with a binary search
 * over typed arrays: nothing is allocated per record, and only public addresses are
 * looked up at all (a private address is not public whatever the home networks say).
 */
import { isPublicWords } from './address.js';
import { parseCidr } from './cidr.js';

export class HomeNet {
  /** Range k is [lo[4k..4k+3], hi[4k..4k+3]], ascending and disjoint. */
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  readonly size: number;

  /** CIDR texts; throws on one that is not a CIDR or an address. */
  constructor(readonly cidrs: readonly string[]) {
    const ranges: Array<[bigint, bigint]> = [];
    for (const text of cidrs) {
      const c = parseCidr(text);
      if (!c) throw new Error(`--home-net: not a CIDR or address: '${text}'`);
      let v = 0n;
      for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(c.words[k]! >>> 0);
      const hostBits = BigInt(128 - c.prefix);
      const lo = (v >> hostBits) << hostBits;
      ranges.push([lo, lo + (1n << hostBits) - 1n]);
    }
    ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: Array<[bigint, bigint]> = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1n) {
        if (r[1] > last[1]) last[1] = r[1];
      } else merged.push([r[0], r[1]]);
    }
    this.size = merged.length;
    this.lo = new Uint32Array(merged.length * 4);
    this.hi = new Uint32Array(merged.length * 4);
    merged.forEach(([lo, hi], i) => {
      for (let k = 0; k < 4; k++) {
        const shift = BigInt(96 - 32 * k);
        this.lo[i * 4 + k] = Number((lo >> shift) & 0xffffffffn);
        this.hi[i * 4 + k] = Number((hi >> shift) & 0xffffffffn);
      }
    });
  }

  /** Whether w[o..o+3] lies in a home network. */
  contains(w: ArrayLike<number>, o: number): boolean {
    // the last range whose low end is <= w
    let a = 0;
    let b = this.size - 1;
    let found = -1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (compareWords(this.lo, m * 4, w, o) <= 0) {
        found = m;
        a = m + 1;
      } else b = m - 1;
    }
    return found >= 0 && compareWords(this.hi, found * 4, w, o) >= 0;
  }

  /**
   * The home networks' IPv4 part: sorted, disjoint [lo, hi] pairs of IPv4 values (each
   * range cut to ::ffff:0.0.0.0/96), for code that checks IPv4 values without the four words
   * (the outbound finalisation in WebAssembly).
   */
  v4Ranges(): Uint32Array {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) {
      const o = k * 4;
      // below, above or across the IPv4-mapped block: compare the three high words with (0, 0, 0xffff)
      const loHigh = compareWords(this.lo, o, V4_BLOCK_LO, 0);
      const hiHigh = compareWords(this.hi, o, V4_BLOCK_HI, 0);
      if (compareWords(this.hi, o, V4_BLOCK_LO, 0) < 0 || compareWords(this.lo, o, V4_BLOCK_HI, 0) > 0) continue;
      out.push(loHigh <= 0 ? 0 : this.lo[o + 3]!, hiHigh >= 0 ? 0xffffffff : this.hi[o + 3]!);
    }
    return Uint32Array.from(out);
  }

  /** detection.md §3 "public address", home networks included: public and not in a home network. */
  isPublic(w: ArrayLike<number>, o: number): boolean {
    return isPublicWords(w, o) && (this.size === 0 || !this.contains(w, o));
  }
}

const V4_BLOCK_LO = Uint32Array.of(0, 0, 0xffff, 0);
const V4_BLOCK_HI = Uint32Array.of(0, 0, 0xffff, 0xffffffff);

function compareWords(a: Uint32Array, ao: number, b: ArrayLike<number>, bo: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ao + k]!;
    const y = b[bo + k]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A HomeNet for an optional list (none: no home networks). */
export function homeNetOf(cidrs: readonly string[] | undefined): HomeNet {
  return new HomeNet(cidrs ?? []);
}

/**
 * `--home-net` value: CIDRs separated by commas or spaces, or '@FILE' with one a line ('#'
 * comments). Returns the CIDR texts; throws with the file and line of a bad entry.
 */
export function parseHomeNetOption(value: string, readFile: (path: string) => string): string[] {
  const out: string[] = [];
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part.startsWith('@')) {
      const path = part.slice(1);
      readFile(path)
        .split('\n')
        .forEach((raw, i) => {
          const line = raw.replace(/#.*/, '').trim();
          if (!line) return;
          if (!parseCidr(line)) throw new Error(`${path}:${i + 1}: not a CIDR or address: ${line}`);
          out.push(line);
        });
    } else {
      if (!parseCidr(part)) throw new Error(`not a CIDR or address: '${part}'`);
      out.push(part);
    }
  }
  return out;
}
