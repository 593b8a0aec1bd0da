/**
 * Azure VNet flow-log tuples (formats.md §2.2), 13 fields:
 *
 *   time,src,dst,sport,dport,proto,direction,state,encryption,packets→,bytes→,packets←,bytes←
 *
 * time in Unix milliseconds (seconds in some Microsoft examples: told by magnitude);
 * proto an IANA number; direction `I`/`O`; state `B` begin, `C` continuing, `E` end or
 * `D` denied (there is no decision column: B/C/E were allowed). The same field count as
 * an NSG v2 tuple but another layout: it is chosen from the record's category, never
 * from the count (formats.md §2.3, pitfall 8). Counts are unknown (NaN) in states B and
 * D whatever is written (the samples write 0,0,0,0), and where a field is empty.
 */
import { Action, Direction } from '../flow/types.js';
import type { FlowRecord } from '../flow/sink.js';
import { isChar, splitTuple, tupleAddresses, tupleCounts, tuplePorts, tupleTime, uint } from './azure-tuple.js';

export const VNET_CATEGORY = 'FlowLogFlowEvent';

const fs = new Int32Array(14);
const fe = new Int32Array(14);

/** Read one VNet tuple into rec: null for a flow, NO_FLOW, or why it cannot be read. */
export function vnetTuple(rec: FlowRecord, buf: Uint8Array, s: number, e: number): string | null {
  const n = splitTuple(buf, s, e, fs, fe);
  if (n !== 13) return `VNet tuple has ${n > 13 ? 'more than 13' : n} fields (expected 13)`;

  const addr = tupleAddresses(rec, buf, fs, fe);
  if (addr !== null) return addr;
  let why = tupleTime(rec, buf, fs[0]!, fe[0]!);
  if (why !== null) return why;
  why = tuplePorts(rec, buf, fs, fe);
  if (why !== null) return why;
  const p = uint(buf, fs[5]!, fe[5]!);
  if (p < 0) return 'bad protocol (expected an IANA number)';
  rec.proto = p;

  if (isChar(buf, fs[6]!, fe[6]!, 73)) rec.direction = Direction.ingress;
  else if (isChar(buf, fs[6]!, fe[6]!, 79)) rec.direction = Direction.egress;
  else return 'bad direction (expected I or O)';

  const ss = fs[7]!;
  const se = fe[7]!;
  let counted = false;
  if (isChar(buf, ss, se, 68)) rec.action = Action.reject;
  else if (isChar(buf, ss, se, 66)) rec.action = Action.accept;
  else if (isChar(buf, ss, se, 67) || isChar(buf, ss, se, 69)) {
    rec.action = Action.accept;
    counted = true;
  } else return 'bad flow state (expected B, C, E or D)';

  why = tupleCounts(rec, buf, fs, fe);
  if (why !== null) return why;
  if (!counted) {
    rec.packets = NaN;
    rec.bytes = NaN;
  }
  return null;
}
