/**
 * The fast path of the Azure tuple readers (azure-nsg.ts, azure-vnet.ts): one pass over
 * a tuple's bytes, each field parsed where it stands, instead of splitting the tuple
 * into 13 field spans first and then reading each span (and each address twice). The
 * tuples are most of an Azure blob's records, so this is most of the reader's work.
 *
 * It reads the common tuple only: IPv4 addresses, ports of at most 5 digits, timestamps
 * of at most 13 digits, the usual letters and numbers. On anything else it returns false
 * having decided nothing, and the caller reads the tuple with nsgTuple / vnetTuple, which
 * give the same record or the reason it is refused (a tuple without addresses, IPv6, a
 * bad field, a wrong field count). So both paths give the same result on every tuple
 * (test/formats-azure-fast.test.ts).
 */
import { Action, Direction } from '../flow/types.js';
import type { FlowRecord } from '../flow/sink.js';
import { V4_MAPPED_W2 } from '../net/address.js';

/** Where the last field read ended (its ',' or the tuple's end): the helpers' second result. */
let at = 0;

/** Largest tuple timestamp read as seconds (as azure-tuple.ts tupleTime). */
const MAX_SECONDS = 1e11;

/** Decimal digits from i up to ',' or e: their value, or -1 when none, other bytes or more than `max`. */
function digitsTo(b: Uint8Array, i: number, e: number, max: number): number {
  const s = i;
  let v = 0;
  for (; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  at = i;
  if (i === s || i - s > max || (i < e && b[i] !== 44)) return -1;
  return v;
}

/** A counter from i: NaN when empty (unknown), else as digitsTo with 15 digits. */
function counterTo(b: Uint8Array, i: number, e: number): number {
  if (i >= e || b[i] === 44) {
    at = i;
    return NaN;
  }
  return digitsTo(b, i, e, 15);
}

/** A dotted-quad IPv4 address from i up to ',' into out (IPv4-mapped), as scanIPv4Bytes reads it. */
function ipv4To(b: Uint8Array, i: number, e: number, out: Uint32Array): boolean {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return false; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return false;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return false;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c === 44) break;
    else return false;
  }
  if (digits === 0 || parts !== 3) return false;
  at = i;
  out[0] = 0;
  out[1] = 0;
  out[2] = V4_MAPPED_W2;
  out[3] = value * 256 + part;
  return true;
}

/** The single letter at b[i] when it is a whole field (a ',' follows, or the end): else -1. */
function letterAt(b: Uint8Array, i: number, e: number): number {
  return i < e && (i + 1 === e || b[i + 1] === 44) ? b[i]! : -1;
}

/** time, src, dst, sport, dport (fields 0-4, common to both layouts); false when any is unusual. */
function head(rec: FlowRecord, b: Uint8Array, s: number, e: number): boolean {
  const t = digitsTo(b, s, e, 13);
  if (t < 0 || at >= e) return false;
  const sec = t >= MAX_SECONDS ? Math.floor(t / 1000) : t;
  if (!ipv4To(b, at + 1, e, rec.src) || at >= e) return false;
  if (!ipv4To(b, at + 1, e, rec.dst) || at >= e) return false;
  const sp = digitsTo(b, at + 1, e, 5);
  if (sp < 0 || at >= e) return false;
  const dp = digitsTo(b, at + 1, e, 5);
  if (dp < 0 || at >= e) return false;
  rec.start = sec;
  rec.end = sec;
  rec.sport = sp;
  rec.dport = dp;
  at++; // past the ',' before field 5
  return true;
}

/**
 * An NSG tuple (v1 or v2; `version` as nsgTuple takes it) read into rec: true, or false
 * when nsgTuple must read it.
 */
export function nsgTupleFast(rec: FlowRecord, b: Uint8Array, s: number, e: number, version: number): boolean {
  if (version !== 0 && version !== 1 && version !== 2) return false;
  if (!head(rec, b, s, e)) return false;
  let i = at;
  const proto = letterAt(b, i, e);
  if (proto === 84) rec.proto = 6;
  else if (proto === 85) rec.proto = 17;
  else return false;
  i += 2;
  const dir = letterAt(b, i, e);
  if (dir === 73) rec.direction = Direction.ingress;
  else if (dir === 79) rec.direction = Direction.egress;
  else return false;
  i += 2;
  const decision = letterAt(b, i, e);
  if (decision === 65) rec.action = Action.accept;
  else if (decision === 68) rec.action = Action.reject;
  else return false;
  rec.packets = NaN;
  rec.bytes = NaN;
  if (i + 1 === e) return version !== 2; // 8 fields: v1
  if (version === 1) return false;
  i += 2;
  const state = letterAt(b, i, e);
  if (state !== 66 && state !== 67 && state !== 69) return false;
  return counters(rec, b, i + 2, e, state === 66 || decision === 68);
}

/** A VNet tuple read into rec: true, or false when vnetTuple must read it. */
export function vnetTupleFast(rec: FlowRecord, b: Uint8Array, s: number, e: number): boolean {
  if (!head(rec, b, s, e)) return false;
  const proto = digitsTo(b, at, e, 3);
  if (proto < 0 || at >= e) return false;
  rec.proto = proto;
  let i = at + 1;
  const dir = letterAt(b, i, e);
  if (dir === 73) rec.direction = Direction.ingress;
  else if (dir === 79) rec.direction = Direction.egress;
  else return false;
  i += 2;
  const state = letterAt(b, i, e);
  if (state === 68) rec.action = Action.reject;
  else if (state === 66 || state === 67 || state === 69) rec.action = Action.accept;
  else return false;
  i += 2;
  // field 8, encryption: not read, any bytes
  while (i < e && b[i] !== 44) i++;
  if (i >= e) return false;
  return counters(rec, b, i + 1, e, state === 68 || state === 66);
}

/** The four counters from i to the tuple's end; the first two kept unless `unknown`. */
function counters(rec: FlowRecord, b: Uint8Array, i: number, e: number, unknown: boolean): boolean {
  const p = counterTo(b, i, e);
  if (p < 0 || at >= e) return false;
  const n = counterTo(b, at + 1, e);
  if (n < 0 || at >= e) return false;
  // the reverse counters are not kept, but a malformed one means a malformed tuple
  if (counterTo(b, at + 1, e) < 0 || at >= e) return false;
  if (counterTo(b, at + 1, e) < 0 || at !== e) return false;
  rec.packets = unknown ? NaN : p;
  rec.bytes = unknown ? NaN : n;
  return true;
}
