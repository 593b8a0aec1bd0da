/**
 * Byte-level helpers shared by the NetFlow/IPFIX readers (nfdump CSV, goflow2 JSON):
 * protocol names, case-insensitive name tables, UTC date-times, TCP flag strings and
 * epoch values in a known unit. Nothing here allocates per call.
 */
import { Cloud, cloudFromName } from '../flow/types.js';

/**
 * A case-insensitive table from ASCII names to numbers, looked up straight from bytes
 * (open addressing over an FNV-1a hash of the lower-cased bytes; no string is made). Built
 * at its first lookup, not when made: the readers' tables are made as the parse code loads,
 * in every thread that loads it, and most runs read no NetFlow or Zeek file (their five
 * tables were ~1-2 ms of a parse thread's start: bench/RESULTS.md, branch azurestart).
 */
export class NameTable {
  private readonly names: Uint8Array[] = [];
  private readonly values: number[] = [];
  /** UNBUILT in its one slot until the first lookup builds the table. */
  private slots = Int32Array.of(UNBUILT);
  private entries: Array<readonly [string, number]> | null;

  constructor(entries: Iterable<readonly [string, number]>) {
    this.entries = [...entries];
  }

  /** The table, built now if this is its first lookup. */
  private build(): this {
    const list = this.entries!;
    this.entries = null;
    let size = 16;
    while (size < list.length * 3) size *= 2;
    this.slots = new Int32Array(size).fill(EMPTY);
    for (const [name, value] of list) {
      const bytes = Buffer.from(name.toLowerCase(), 'latin1');
      if (this.lookup(bytes, 0, bytes.length) >= 0) continue; // first entry wins (nfdump repeats a few names)
      let slot = hashLower(bytes, 0, bytes.length) & (size - 1);
      while (this.slots[slot]! >= 0) slot = (slot + 1) & (size - 1);
      this.slots[slot] = this.names.length;
      this.names.push(bytes);
      this.values.push(value);
    }
    return this;
  }

  /** The value of buf[s, e) (any letter case), or -1. */
  lookup(buf: Uint8Array, s: number, e: number): number {
    return this.lookupHashed(buf, s, e, hashLower(buf, s, e));
  }

  /** lookup() when the caller computed hashLower's value while scanning the bytes. */
  lookupHashed(buf: Uint8Array, s: number, e: number, hash: number): number {
    const len = e - s;
    if (len <= 0 || len > 64) return -1;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const id = this.slots[slot]!;
      // an empty slot ends the probe; the one slot of a table not built yet builds it
      if (id < 0) return id === EMPTY ? -1 : this.build().lookupHashed(buf, s, e, hash);
      const name = this.names[id]!;
      if (name.length === len && sameLower(name, buf, s)) return this.values[id]!;
      slot = (slot + 1) & mask;
    }
  }

  /** Convenience for strings (not on hot paths). */
  get(name: string): number {
    const b = Buffer.from(name, 'latin1');
    return this.lookup(b, 0, b.length);
  }
}

/** A slot of a built table that holds no name. */
const EMPTY = -1;
/** The one slot of a table not built yet. */
const UNBUILT = -2;

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** FNV-1a over the bytes with bit 5 set (lower case for letters; a hash, so other bytes may collide). */
export const HASH_SEED = 0x811c9dc5;
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ (c | 0x20), 0x01000193);
}

function hashLower(buf: Uint8Array, s: number, e: number): number {
  let h = HASH_SEED;
  for (let i = s; i < e; i++) h = hashStep(h, buf[i]!);
  return h >>> 0;
}

function sameLower(name: Uint8Array, buf: Uint8Array, s: number): boolean {
  for (let k = 0; k < name.length; k++) if (name[k] !== lower(buf[s + k]!)) return false;
  return true;
}

/**
 * Protocol names as nfdump prints them (its 138-entry table, e.g. ICMP6, Rte6, UDP-L),
 * plus the spellings goflow2 and IANA use (ICMPv6, IPv6-ICMP, OSPFIGP...).
 */
const NFDUMP_PROTOCOLS = [
  '0', 'ICMP', 'IGMP', 'GGP', 'IPIP', 'ST', 'TCP', 'CBT', 'EGP', 'IGP', 'BBN', 'NVPII', 'PUP', 'ARGUS', 'ENCOM',
  'XNET', 'CHAOS', 'UDP', 'MUX', 'DCN', 'HMP', 'PRM', 'XNS', 'Trnk1', 'Trnk2', 'Leaf1', 'Leaf2', 'RDP', 'IRTP',
  'ISO-4', 'NETBK', 'MFESP', 'MEINP', 'DCCP', '3PC', 'IDPR', 'XTP', 'DDP', 'IDPR', 'TP++', 'IL', 'IPv6', 'SDRP',
  'Rte6', 'Frag6', 'IDRP', 'RSVP', 'GRE', 'MHRP', 'BNA', 'ESP', 'AH', 'INLSP', 'SWIPE', 'NARP', 'MOBIL', 'TLSP',
  'SKIP', 'ICMP6', 'NOHE6', 'OPTS6', 'HOST', 'CFTP', 'NET', 'SATNT', 'KLAN', 'RVD', 'IPPC', 'FS', 'SATM', 'VISA',
  'IPCV', 'CPNX', 'CPHB', 'WSN', 'PVP', 'BSATM', 'SUNND', 'WBMON', 'WBEXP', 'ISOIP', 'VMTP', 'SVMTP', 'VINES',
  'TTP', 'NSIGP', 'DGP', 'TCF', 'EIGRP', 'OSPF', 'S-RPC', 'LARP', 'MTP', 'AX.25', 'IPIP', 'MICP', 'SCCSP', 'ETHIP',
  'ENCAP', '99', 'GMTP', 'IFMP', 'PNNI', 'PIM', 'ARIS', 'SCPS', 'QNX', 'A/N', 'IPcmp', 'SNP', 'CpqPP', 'IPXIP',
  'VRRP', 'PGM', '0hop', 'L2TP', 'DDX', 'IATP', 'STP', 'SRP', 'UTI', 'SMP', 'SM', 'PTP', 'ISIS4', 'FIRE', 'CRTP',
  'CRUDP', '128', 'IPLT', 'SPS', 'PIPE', 'SCTP', 'FC', '134', 'MHEAD', 'UDP-L', 'MPLS',
];

const OTHER_PROTOCOL_NAMES: Array<[string, number]> = [
  ['HOPOPT', 0], ['ICMPv6', 58], ['IPv6-ICMP', 58], ['IPv6-Route', 43], ['IPv6-Frag', 44], ['IPv6-NoNxt', 59],
  ['IPv6-Opts', 60], ['OSPFIGP', 89], ['IPv4', 4], ['UDPLite', 136], ['MPLS-in-IP', 137], ['IPComp', 108],
  ['Mobility-Header', 135], ['ETHERIP', 97],
];

/** Protocol names (any case) -> IANA numbers. Digits are not names: parse them as numbers. */
export const PROTOCOLS = new NameTable([
  ...NFDUMP_PROTOCOLS.map((n, i) => [n, i] as const).filter(([n]) => !/^\d+$/.test(n)),
  ...OTHER_PROTOCOL_NAMES,
]);

export const NOT_A_NUMBER = -1;

/** Unsigned decimal in buf[s, e) (at most 15 digits, so exact), else NOT_A_NUMBER. */
export function parseDecimal(buf: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return NOT_A_NUMBER;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return NOT_A_NUMBER;
    v = v * 10 + c;
  }
  return v;
}

/** A protocol written as a number (0..255) or a name, else -1. */
export function parseProtocol(buf: Uint8Array, s: number, e: number): number {
  const c = buf[s];
  if (c !== undefined && c >= 48 && c <= 57) {
    const v = parseDecimal(buf, s, e);
    return v >= 0 && v <= 255 ? v : -1;
  }
  return PROTOCOLS.lookup(buf, s, e);
}

/**
 * TCP flags: nfdump's flag string (one character per flag, '.' when unset, aligned to the
 * right: "......S." = 8 characters CEUAPRSF, older versions print 6 UAPRSF), a hex value
 * "0x12", or a decimal number. Returns the flag byte, or -1.
 */
export function parseTcpFlags(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return -1;
  if (n > 2 && buf[s] === 48 && (buf[s + 1] === 120 || buf[s + 1] === 88)) {
    let v = 0;
    for (let i = s + 2; i < e; i++) {
      const h = hexDigit(buf[i]!);
      if (h < 0 || v > 0xfff) return -1;
      v = v * 16 + h;
    }
    return v <= 255 ? v : -1;
  }
  const c = buf[s]!;
  if (c >= 48 && c <= 57) {
    const v = parseDecimal(buf, s, e);
    return v >= 0 && v <= 255 ? v : -1;
  }
  if (n > 8) return -1;
  let flags = 0;
  for (let i = 0; i < n; i++) {
    const ch = buf[e - 1 - i]!;
    if (ch === 46) continue; // '.'
    if (!((ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122))) return -1;
    flags |= 1 << i;
  }
  return flags;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function digits(buf: Uint8Array, s: number, n: number): number {
  let v = 0;
  for (let i = s; i < s + n; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * "YYYY-MM-DD HH:MM:SS" with an optional fraction ".mmm" (or a 'T' between date and
 * time), read as UTC, in milliseconds since the epoch; -1 when malformed. nfdump writes
 * local time without a zone: the readers take it as UTC (run nfdump with TZ=UTC).
 */
export function parseDateTimeMs(buf: Uint8Array, s: number, e: number): number {
  if (e - s < 19) return -1;
  if (buf[s + 4] !== 45 || buf[s + 7] !== 45 || buf[s + 13] !== 58 || buf[s + 16] !== 58) return -1;
  const sep = buf[s + 10];
  if (sep !== 32 && sep !== 84) return -1;
  const y = digits(buf, s, 4);
  const mo = digits(buf, s + 5, 2);
  const d = digits(buf, s + 8, 2);
  const h = digits(buf, s + 11, 2);
  const mi = digits(buf, s + 14, 2);
  const sec = digits(buf, s + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return -1;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > DAYS_IN_MONTH[mo - 1]! || (mo === 2 && d === 29 && !leap)) return -1;
  let ms = 0;
  if (e - s > 19) {
    if (buf[s + 19] !== 46 || e - s > 29) return -1;
    const frac = e - s - 20;
    if (frac === 0) return -1;
    const f = digits(buf, s + 20, frac);
    if (f < 0) return -1;
    ms = Math.floor(f / 10 ** Math.max(0, frac - 3)) * 10 ** Math.max(0, 3 - frac);
  }
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 + ms;
}

/** Epoch units the readers meet, as powers of ten per second. */
export const enum EpochUnit { seconds = 0, millis = 3, nanos = 9 }
const UNIT_NAMES = ['seconds', '', '', 'milliseconds', '', '', '', '', '', 'nanoseconds'];

/** Plausible Unix seconds for flow data: from 1973-03-03 (1e8) to the end of u32 (2106). */
export const MIN_PLAUSIBLE_SECONDS = 1e8;
export const MAX_SECONDS = 4294967296;

/**
 * Whole seconds of an unsigned integer of `unit` written as decimal digits in buf[s, e),
 * exactly, whatever its size (nanoseconds above 2^53 are cut by digits, never rounded
 * through a double). Returns -1 when the text is not all digits, and -2 when the value
 * is not a plausible time in that unit (written in another unit, most likely). 0 stays 0
 * ("not given" in goflow2).
 */
export function epochSecondsExact(buf: Uint8Array, s: number, e: number, unit: EpochUnit): number {
  if (e <= s) return -1;
  let first = s;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return -1;
    if (c === 48 && first === i) first = i + 1; // leading zeros
  }
  if (first === e) return 0;
  const intDigits = e - first - unit;
  if (intDigits <= 0 || intDigits > 10) return -2;
  const v = digits(buf, first, intDigits);
  return v >= MIN_PLAUSIBLE_SECONDS && v < MAX_SECONDS ? v : -2;
}

/** "a time in nanoseconds" etc., for reasons. */
export function unitName(unit: EpochUnit): string {
  return UNIT_NAMES[unit]!;
}

/** The cloud of a NetFlow/IPFIX record: --cloud, else "other" (detection.md §2). */
export function cloudOf(name: string | undefined): Cloud {
  return name ? cloudFromName(name) : Cloud.other;
}
