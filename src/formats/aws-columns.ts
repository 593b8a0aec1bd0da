/**
 * AWS flow-log layouts compiled into readers (issue 19: one parser for every layout). A
 * file's header names its columns in any order; the reader of those columns is generated
 * once per layout (and kept per thread) as straight-line JavaScript: one block of code per
 * column, in the column's order, so the loop over a line has no per-field dispatch and a
 * custom or reordered layout reads as fast as the default one.
 *
 * A compiled reader takes only lines written plainly: single spaces, dotted-quad IPv4
 * addresses, numbers of 1-15 digits, no '-' where a flow needs a value, a flow record
 * (not NODATA, SKIPDATA or a Transit Gateway record). It returns the index just past the
 * last column, or -1 for any other line, which the general loop of aws.ts then reads: what
 * the general loop would make of a plain line is what the compiled reader makes of it,
 * byte for byte (test/aws-layouts.test.ts).
 *
 * Code is generated only from the role numbers below, never from the file's text.
 */
import { scanIPv4Bytes } from '../net/address.js';
import type { FlowRecord } from '../flow/sink.js';

/** What a column means to the detector. Other columns are skipped. */
export const enum Role {
  ignore, account, iface, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end,
  action, logStatus, tcpFlags, direction, region, instance, resourceType,
}

/** What a compiled reader asks of the parser that runs it: dictionary ids, lazy ids. */
export interface ColumnHost {
  /** The dictionary id of the account in b[s, e) (`digits`: 1-14 digits, value v). */
  accountId(v: number, digits: boolean, b: Uint8Array, s: number, e: number): number;
  regionId(b: Uint8Array, s: number, e: number): number;
  /** The record's interface (or instance) id lies in b[s, e): looked up only if needed. */
  lazyIface(b: Uint8Array, s: number, e: number): void;
  lazyInstance(b: Uint8Array, s: number, e: number): void;
}

/** Reads one plain line from s into r; returns the end of its last column, or -1. */
export type ColumnReader = (b: Uint8Array, s: number, e: number, r: FlowRecord, host: ColumnHost, dv: DataView) => number;

/** A token of bytes above ' ': its start in t; a token cannot be empty. */
const TOKEN = 't = i; while (i < e && b[i] > 32) i++; if (i === t) return -1;';

/**
 * TOKEN four bytes at a time, for the long ones (ids): a word with a byte below '!' has a
 * bit set in (w - 0x21212121) & ~w & 0x80808080 (bytes of 0x80 and above never set one).
 */
const LONG_TOKEN =
  't = i; while (i + 4 <= e) { const w = dv.getUint32(i, true); if (((w - 0x21212121) & ~w & 0x80808080) !== 0) break; i += 4; } ' +
  'while (i < e && b[i] > 32) i++; if (i === t) return -1;';

/** 1 to 15 digits into v. */
const NUMBER = 'v = 0; t = i; for (; i < e; i++) { const d = b[i] - 48; if (d < 0 || d > 9) break; v = v * 10 + d; } if (i === t || i - t > 15) return -1;';

/** Ten digits (Unix seconds) read four bytes at a time where they are there, else NUMBER. */
const TIME = `if (i + 10 < e && b[i + 10] <= 32 && (v = tenDigits(dv, b, i)) >= 0) i += 10; else { ${NUMBER} }`;

function columnCode(role: number): string {
  switch (role) {
    case Role.srcaddr:
      return 'i = scanIPv4Bytes(b, i, e, r.src, 0); if (i < 0) return -1;';
    case Role.dstaddr:
      return 'i = scanIPv4Bytes(b, i, e, r.dst, 0); if (i < 0) return -1;';
    case Role.srcport:
      return `${NUMBER} r.sport = v;`;
    case Role.dstport:
      return `${NUMBER} r.dport = v;`;
    case Role.protocol:
      return `${NUMBER} r.proto = v;`;
    case Role.packets:
      return `${NUMBER} r.packets = v;`;
    case Role.bytes:
      return `${NUMBER} r.bytes = v;`;
    case Role.tcpFlags:
      return `${NUMBER} r.tcpFlags = v;`;
    case Role.start:
      return `${TIME} r.start = v;`;
    case Role.end:
      return `${TIME} r.end = v;`;
    case Role.account:
      // read as a number where it is one, to look it up without its bytes (ColumnHost.accountId)
      return 'aS = i; aV = 0; aD = 1; for (; i < e; i++) { const c = b[i]; if (c <= 32) break; const d = c - 48; if (d < 0 || d > 9) aD = 0; else aV = aV * 10 + d; } if (i === aS) return -1; aE = i;';
    case Role.iface:
      return `${LONG_TOKEN} fS = t; fE = i;`;
    case Role.instance:
      return `${LONG_TOKEN} nS = t; nE = i;`;
    case Role.region:
      return `${TOKEN} gS = t; gE = i;`;
    case Role.action:
      return `${TOKEN} c = b[t]; r.action = c === 65 ? 1 : c === 82 ? 2 : 0;`; // Action: accept, reject, unknown
    case Role.direction:
      return `${TOKEN} c = b[t]; r.direction = c === 105 ? 1 : c === 101 ? 2 : 0;`; // Direction: ingress, egress, unknown
    case Role.logStatus:
      return `${TOKEN} c = b[t]; if (c === 78 || c === 83) return -1;`; // NODATA, SKIPDATA: the general loop
    case Role.resourceType:
      return `${TOKEN} if (b[t] === 84) return -1;`; // TransitGateway: the general loop skips it
    default:
      return LONG_TOKEN;
  }
}

/** The source of the reader of one layout. */
function readerSource(roles: Uint8Array): string {
  const has = (role: number) => roles.includes(role);
  const body: string[] = ['let i = s, t = 0, v = 0, c = 0, aS = -1, aE = 0, aV = 0, aD = 0, fS = -1, fE = 0, nS = -1, nE = 0, gS = -1, gE = 0;'];
  roles.forEach((role, k) => {
    body.push(columnCode(role));
    // a single space after every column but the last; the caller checks what ends the line
    body.push(k < roles.length - 1 ? 'if (i >= e || b[i] !== 32) return -1; i++;' : 'if (i < e && b[i] > 32) return -1;');
  });
  // the lookups once the whole line has been read as a plain record
  if (has(Role.account)) body.push('r.account = host.accountId(aV, aD === 1 && aE - aS <= 14, b, aS, aE);');
  if (has(Role.region)) body.push('if (!(gE - gS === 1 && b[gS] === 45)) r.region = host.regionId(b, gS, gE);');
  if (has(Role.iface)) body.push('if (!(fE - fS === 1 && b[fS] === 45)) { r.iface = -1; host.lazyIface(b, fS, fE); }'); // LAZY
  if (has(Role.instance)) body.push('if (!(nE - nS === 1 && b[nS] === 45)) { r.instance = -1; host.lazyInstance(b, nS, nE); }');
  if (!has(Role.end)) body.push('r.end = r.start;');
  body.push('return i;');
  return `return function columns(b, s, e, r, host, dv) {\n  ${body.join('\n  ')}\n};`;
}

const compiled = new Map<string, ColumnReader>();
/** By roles object as well: the parser hands the same one for the same header (aws.ts rolesOf). */
const byRoles = new WeakMap<Uint8Array, ColumnReader>();

/** The reader of a layout (by its columns' roles), compiled on first use. */
export function columnReader(roles: Uint8Array, tenDigits: (dv: DataView, b: Uint8Array, s: number) => number): ColumnReader {
  let reader = byRoles.get(roles);
  if (reader) return reader;
  const key = roles.join(',');
  reader = compiled.get(key);
  if (!reader) {
    reader = new Function('scanIPv4Bytes', 'tenDigits', readerSource(roles))(scanIPv4Bytes, tenDigits) as ColumnReader;
    compiled.set(key, reader);
  }
  byRoles.set(roles, reader);
  return reader;
}
