/**
 * Azure NSG flow-log tuples (formats.md §2.1), versions 1 and 2:
 *
 *   v1: time,src,dst,sport,dport,proto,direction,decision                      (8 fields)
 *   v2: ...,decision,state,packets→,bytes→,packets←,bytes←                      (13 fields)
 *
 * time in Unix seconds; proto `T`/`U`; direction `I`/`O`; decision `A`/`D`; state `B`
 * (begin: no statistics), `C` (continuing) or `E` (end). The counters are since the
 * tuple before; the record keeps those sent from src to dst (detection.md §2). Counts are
 * unknown (NaN), never 0, in state B whatever is written, for denied flows, for v1, and
 * where the field is empty. The layout comes from the record's `properties.Version`.
 */
import { Action, Direction } from '../flow/types.js';
import type { FlowRecord } from '../flow/sink.js';
import { isChar, splitTuple, tupleAddresses, tupleCounts, tuplePorts, tupleTime, uint } from './azure-tuple.js';

export const NSG_CATEGORY = 'NetworkSecurityGroupFlowEvent';

const fs = new Int32Array(14);
const fe = new Int32Array(14);

/**
 * Read one NSG tuple into rec. `version` is properties.Version (1 or 2), or 0 when the
 * record does not say: then 8 fields are v1 and 13 are v2 (the two NSG layouts cannot be
 * confused; the VNet layout is never chosen this way). Returns null for a flow, NO_FLOW
 * (azure-tuple.ts) for a tuple without addresses, or the reason it cannot be read.
 */
export function nsgTuple(rec: FlowRecord, buf: Uint8Array, s: number, e: number, version: number): string | null {
  const n = splitTuple(buf, s, e, fs, fe);
  const v = version === 0 ? (n === 8 ? 1 : n === 13 ? 2 : 0) : version;
  if (v === 0) return `NSG tuple has ${n > 13 ? 'more than 13' : n} fields (expected 8 for v1 or 13 for v2)`;
  if (v !== 1 && v !== 2) return `NSG flow-log version ${v} is not supported (1 or 2)`;
  const want = v === 1 ? 8 : 13;
  if (n !== want) return `NSG v${v} tuple has ${n > 13 ? 'more than 13' : n} fields (expected ${want})`;

  const addr = tupleAddresses(rec, buf, fs, fe);
  if (addr !== null) return addr;
  let why = tupleTime(rec, buf, fs[0]!, fe[0]!);
  if (why !== null) return why;
  why = tuplePorts(rec, buf, fs, fe);
  if (why !== null) return why;

  // protocol: letters T / U (numbers accepted too: some copies rewrite them)
  const ps = fs[5]!;
  const pe = fe[5]!;
  if (isChar(buf, ps, pe, 84)) rec.proto = 6;
  else if (isChar(buf, ps, pe, 85)) rec.proto = 17;
  else {
    const p = uint(buf, ps, pe);
    if (p < 0) return 'bad protocol (expected T or U)';
    rec.proto = p;
  }

  if (isChar(buf, fs[6]!, fe[6]!, 73)) rec.direction = Direction.ingress;
  else if (isChar(buf, fs[6]!, fe[6]!, 79)) rec.direction = Direction.egress;
  else return 'bad direction (expected I or O)';

  let denied = false;
  if (isChar(buf, fs[7]!, fe[7]!, 65)) rec.action = Action.accept;
  else if (isChar(buf, fs[7]!, fe[7]!, 68)) {
    rec.action = Action.reject;
    denied = true;
  } else return 'bad decision (expected A or D)';

  rec.packets = NaN;
  rec.bytes = NaN;
  if (v === 1) return null;

  const ss = fs[8]!;
  const se = fe[8]!;
  const begin = isChar(buf, ss, se, 66);
  if (!begin && !isChar(buf, ss, se, 67) && !isChar(buf, ss, se, 69)) return 'bad flow state (expected B, C or E)';
  why = tupleCounts(rec, buf, fs, fe);
  if (why !== null) return why;
  if (begin || denied) {
    rec.packets = NaN;
    rec.bytes = NaN;
  }
  return null;
}

