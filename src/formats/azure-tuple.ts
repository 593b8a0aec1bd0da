/**
 * Pieces shared by the two Azure tuple layouts (formats.md §2.1, §2.2): a tuple is one
 * comma-separated string, read here byte by byte into the sink's reused record.
 */
import { parseAddressBytes } from '../net/address.js';
import type { FlowRecord } from '../flow/sink.js';

/** A tuple result that is not a flow: no addresses (detection.md §2: counted and skipped). */
export const NO_FLOW = 'no flow';

/** The most fields a tuple of either layout has; one more is "too many". */
export const MAX_FIELDS = 13;

/**
 * Field boundaries of the tuple buf[s, e) into fs/fe. Returns the number of fields,
 * MAX_FIELDS + 1 when there are more.
 */
export function splitTuple(buf: Uint8Array, s: number, e: number, fs: Int32Array, fe: Int32Array): number {
  let n = 0;
  let i = s;
  for (;;) {
    if (n > MAX_FIELDS) return n;
    let j = i;
    while (j < e && buf[j] !== 44) j++;
    if (n < MAX_FIELDS) {
      fs[n] = i;
      fe[n] = j;
    }
    n++;
    if (j >= e) return n;
    i = j + 1;
  }
}

/** Unsigned decimal of at most 15 digits; -1 when empty or not digits. */
export function uint(buf: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A packet or byte counter: empty is unknown (NaN), not 0 (detection.md §2); -1 when malformed. */
export function counter(buf: Uint8Array, s: number, e: number): number {
  if (e === s) return NaN;
  return uint(buf, s, e);
}

/** Largest tuple timestamp read as seconds (year 5138); larger ones are milliseconds. */
const MAX_SECONDS = 1e11;
/** Largest read as milliseconds; anything larger is in another unit (microseconds...). */
const MAX_MILLIS = 1e14;

/**
 * A tuple timestamp as Unix seconds, fractions dropped. Azure writes seconds (NSG) or
 * milliseconds (VNet, and seconds in some Microsoft examples): the unit is told by
 * magnitude (formats.md §2.3). A value too large for milliseconds is refused rather
 * than read as a date tens of thousands of years away. Returns a reason on failure.
 */
export function tupleTime(rec: FlowRecord, buf: Uint8Array, s: number, e: number): string | null {
  // up to 19 digits are read, so that microseconds and nanoseconds get their own reason
  const v = e - s <= 19 ? uintWide(buf, s, e) : -1;
  if (v < 0) return 'bad timestamp (expected Unix seconds or milliseconds)';
  if (v >= MAX_MILLIS) return `timestamp ${decimal(buf, s, e)} is neither Unix seconds nor milliseconds (microseconds?)`;
  const t = v >= MAX_SECONDS ? Math.floor(v / 1000) : v;
  rec.start = t;
  rec.end = t;
  return null;
}

/** Unsigned decimal of any length (approximate above 2^53, which is only compared); -1 when not digits. */
function uintWide(buf: Uint8Array, s: number, e: number): number {
  if (e <= s) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function decimal(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
}

/** Source and destination addresses (fields 1, 2). NO_FLOW when either is empty. */
export function tupleAddresses(rec: FlowRecord, buf: Uint8Array, fs: Int32Array, fe: Int32Array): string | null {
  if (fs[1] === fe[1] || fs[2] === fe[2]) return NO_FLOW;
  if (!parseAddressBytes(buf, fs[1]!, fe[1]!, rec.src, 0)) return 'bad source address';
  if (!parseAddressBytes(buf, fs[2]!, fe[2]!, rec.dst, 0)) return 'bad destination address';
  return null;
}

/** Ports (fields 3, 4); range is checked by the sink. */
export function tuplePorts(rec: FlowRecord, buf: Uint8Array, fs: Int32Array, fe: Int32Array): string | null {
  const sp = uint(buf, fs[3]!, fe[3]!);
  if (sp < 0) return 'bad source port';
  const dp = uint(buf, fs[4]!, fe[4]!);
  if (dp < 0) return 'bad destination port';
  rec.sport = sp;
  rec.dport = dp;
  return null;
}

/** Packets and bytes sent from src to dst (fields 9 and 10 in both 13-field layouts). */
export function tupleCounts(rec: FlowRecord, buf: Uint8Array, fs: Int32Array, fe: Int32Array): string | null {
  const p = counter(buf, fs[9]!, fe[9]!);
  if (p < 0) return 'bad packet count';
  const b = counter(buf, fs[10]!, fe[10]!);
  if (b < 0) return 'bad byte count';
  // the reverse counters are not used, but a malformed one means a malformed tuple
  if (counter(buf, fs[11]!, fe[11]!) < 0 || counter(buf, fs[12]!, fe[12]!) < 0) return 'bad reverse counter';
  rec.packets = p;
  rec.bytes = b;
  return null;
}

/** True when buf[s, e) is the single byte c. */
export function isChar(buf: Uint8Array, s: number, e: number, c: number): boolean {
  return e - s === 1 && buf[s] === c;
}
