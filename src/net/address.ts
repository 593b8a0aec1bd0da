/**
 * IP addresses as four 32-bit words (an IPv6 address, most significant word first).
 * An IPv4 address a.b.c.d is stored in its IPv4-mapped form ::ffff:a.b.c.d, so that
 * one representation serves both families and detection.md §2 ("an IPv4-mapped IPv6 address
 * is the IPv4 address") holds by construction.
 *
 * The parsers here read straight from bytes and write into a caller's Uint32Array at an
 * offset: no string, no object per address.
 */

export const V4_MAPPED_W2 = 0x0000ffff;

/**
 * Read a dotted-quad IPv4 address from s up to a space, a tab or e, into out[o..o+3] (its
 * IPv4-mapped form). Returns the index where it ends, or -1 for anything else (a leading
 * zero, a part over 255, another byte). Line readers use it to read an address and find
 * its end in one pass.
 */
export function scanIPv4Bytes(buf: Uint8Array, s: number, e: number, out: Uint32Array, o: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  let i = s;
  for (; i < e; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      // a leading zero followed by more digits is ambiguous (octal in some libcs): reject
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return -1;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c === 32 || c === 9) {
      break;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  out[o] = 0;
  out[o + 1] = 0;
  out[o + 2] = V4_MAPPED_W2;
  out[o + 3] = value * 256 + part;
  return i;
}

const v4Words = new Uint32Array(4);

/** Parse dotted-quad IPv4 in buf[s, e). Returns the address as an unsigned 32-bit number, or -1. */
export function parseIPv4Bytes(buf: Uint8Array, s: number, e: number): number {
  return scanIPv4Bytes(buf, s, e, v4Words, 0) === e ? v4Words[3]! : -1;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/**
 * Parse IPv6 text in buf[s, e) into out[o..o+3]. Handles "::" compression and an
 * embedded dotted IPv4 tail. Zone ids ("%eth0") and brackets are rejected.
 * Returns true on success.
 */
export function parseIPv6Bytes(buf: Uint8Array, s: number, e: number, out: Uint32Array, o: number): boolean {
  if (e - s < 2 || e - s > 45) return false;
  let n = 0; // groups written
  let gap = -1; // index in groups where "::" stands
  let i = s;
  if (buf[i] === 58) {
    if (buf[i + 1] !== 58) return false;
    gap = 0;
    i += 2;
    if (i === e) {
      out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
      return true;
    }
  }
  while (i < e) {
    // find the end of this group
    let j = i;
    let v = 0;
    let sawDot = false;
    while (j < e && buf[j] !== 58) {
      if (buf[j] === 46) sawDot = true;
      j++;
    }
    if (sawDot) {
      // embedded IPv4: must be the last part and leave room for two groups
      if (j !== e || n > 6) return false;
      const v4 = parseIPv4Bytes(buf, i, e);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    const len = j - i;
    if (len < 1 || len > 4 || n >= 8) return false;
    for (let k = i; k < j; k++) {
      const h = hexVal(buf[k]!);
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    groups[n++] = v;
    if (j === e) break;
    // j is at ':'
    if (buf[j + 1] === 58) {
      if (gap >= 0) return false; // two "::"
      gap = n;
      i = j + 2;
      if (i === e) break;
    } else {
      i = j + 1;
      if (i === e) return false; // trailing single ':'
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    // move groups after the gap to the end
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  out[o] = ((groups[0]! << 16) | groups[1]!) >>> 0;
  out[o + 1] = ((groups[2]! << 16) | groups[3]!) >>> 0;
  out[o + 2] = ((groups[4]! << 16) | groups[5]!) >>> 0;
  out[o + 3] = ((groups[6]! << 16) | groups[7]!) >>> 0;
  return true;
}

/** Parse either family from bytes into out[o..o+3] (IPv4 as IPv4-mapped). */
export function parseAddressBytes(buf: Uint8Array, s: number, e: number, out: Uint32Array, o: number): boolean {
  // IPv4 is by far the common case: try it first, in one pass; fall back to IPv6 on a ':' or hex digit
  const v4 = parseIPv4Bytes(buf, s, e);
  if (v4 < 0) return e - s > 1 && parseIPv6Bytes(buf, s, e, out, o);
  out[o] = 0;
  out[o + 1] = 0;
  out[o + 2] = V4_MAPPED_W2;
  out[o + 3] = v4;
  return true;
}

const enc = new TextEncoder();
const scratchWords = new Uint32Array(4);

/** Parse an address string (not on hot paths). Returns four words or null. */
export function parseAddress(text: string): Uint32Array | null {
  const b = enc.encode(text.trim());
  const out = new Uint32Array(4);
  return parseAddressBytes(b, 0, b.length, out, 0) ? out : null;
}

export function isV4(w: ArrayLike<number>, o = 0): boolean {
  return w[o] === 0 && w[o + 1] === 0 && w[o + 2] === V4_MAPPED_W2;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Address text: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, longest zero run compressed). */
export function formatAddress(w: ArrayLike<number>, o = 0): string {
  if (isV4(w, o)) return formatIPv4(w[o + 3]! >>> 0);
  const g: number[] = [];
  for (let k = 0; k < 4; k++) {
    const x = w[o + k]! >>> 0;
    g.push(x >>> 16, x & 0xffff);
  }
  // longest run of zero groups, length >= 2, first one wins on ties (RFC 5952 §4.2)
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let m = k;
    while (m < 8 && g[m] === 0) m++;
    if (m - k > bestLen) {
      bestLen = m - k;
      bestStart = k;
    }
    k = m;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Order for output: IPv4 before IPv6, then numerically. */
export function compareAddress(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  const av4 = isV4(a, ao);
  const bv4 = isV4(b, bo);
  if (av4 !== bv4) return av4 ? -1 : 1;
  for (let k = 0; k < 4; k++) {
    const x = a[ao + k]! >>> 0;
    const y = b[bo + k]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Public / special-purpose ranges (detection.md §3)

/** IPv4 ranges that are not public, as [network, prefix length]. */
const V4_SPECIAL: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];

const v4Net = new Uint32Array(V4_SPECIAL.length);
const v4Mask = new Uint32Array(V4_SPECIAL.length);
V4_SPECIAL.forEach(([net, len], i) => {
  const b = enc.encode(net);
  v4Net[i] = parseIPv4Bytes(b, 0, b.length);
  v4Mask[i] = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
});

/**
 * First octets under which some non-public IPv4 range lies (1), or which a range of /8 or
 * wider covers whole (2: every address under it is not public, 10.0.0.0/8 among them): most
 * addresses need one table read, and so does a private 10.x address, where the ranges' loop
 * found it only at its second range.
 */
const V4_SPECIAL_FIRST_OCTET = new Uint8Array(256);
V4_SPECIAL.forEach(([net, len]) => {
  const first = Number(net.split('.')[0]);
  const span = len >= 8 ? 1 : 2 ** (8 - len);
  for (let k = 0; k < span; k++) V4_SPECIAL_FIRST_OCTET[first + k] = Math.max(V4_SPECIAL_FIRST_OCTET[first + k]!, len <= 8 ? 2 : 1);
});

/** The non-public IPv4 ranges as isPublicV4 reads them (for the WebAssembly reader's copy, formats/aws-wasm.ts). */
export function v4SpecialTable(): { firstOctet: Uint8Array; net: Uint32Array; mask: Uint32Array } {
  return { firstOctet: V4_SPECIAL_FIRST_OCTET, net: v4Net, mask: v4Mask };
}

export function isPublicV4(v: number): boolean {
  const first = V4_SPECIAL_FIRST_OCTET[v >>> 24]!;
  if (first !== 1) return first === 0;
  for (let i = 0; i < v4Net.length; i++) {
    if (((v & v4Mask[i]!) >>> 0) === v4Net[i]) return false;
  }
  return true;
}

/** detection.md §3 "public address" over the four-word form. */
export function isPublicWords(w: ArrayLike<number>, o: number): boolean {
  const w0 = w[o]! >>> 0;
  if (w0 === 0 && w[o + 1] === 0) {
    if (w[o + 2] === V4_MAPPED_W2) return isPublicV4(w[o + 3]! >>> 0);
    if (w[o + 2] === 0) {
      const w3 = w[o + 3]! >>> 0;
      if (w3 === 0 || w3 === 1) return false; // ::/128, ::1/128
    }
  }
  if ((w0 & 0xfe000000) >>> 0 === 0xfc000000) return false; // fc00::/7
  if ((w0 & 0xffc00000) >>> 0 === 0xfe800000) return false; // fe80::/10
  if ((w0 & 0xff000000) >>> 0 === 0xff000000) return false; // ff00::/8
  if (w0 === 0x20010db8) return false; // 2001:db8::/32
  return true;
}

export function isPublicAddress(text: string): boolean {
  const w = parseAddress(text);
  if (!w) throw new Error(`not an IP address: ${text}`);
  scratchWords.set(w);
  return isPublicWords(scratchWords, 0);
}
