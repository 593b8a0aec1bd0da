/**
 * The fast path of the GCP reader (gcp.ts) for one LogEntry per line: one flat loop over
 * the line's bytes that checks its grammar and picks out the fields the reader needs, with
 * no method call per value (the full walk, GcpEntries, makes several per value: peek, key,
 * str, is, skip, nextMember). A LogEntry is ~1 KB of ~40 keys, so that overhead was most
 * of its cost (bench/RESULTS.md, "GCP and Azure readers: fast paths").
 *
 * It is a strict subset of the full walk: read() returns false, having decided nothing,
 * on anything it does not read exactly as the full walk would, and the caller then reads
 * the line with the full walk (which gives the same reject, with the same reason):
 * - any syntax error, a string with an escape (a key spelled with \u escapes is still
 *   the key), a control byte, nesting deeper than MAX_DEPTH;
 * - a field the reader needs that is not of the usual type (null, a number where a
 *   string is expected, a number with a sign, fraction or exponent, more than 15 digits,
 *   an empty or non-digit counter string), or an empty object where the reader needs one;
 * - a key the reader acts on written twice in one object (the full walk lets the last
 *   one win, field by field);
 * - a top-level `message` (a Pub/Sub envelope).
 * Blocks that are not valid UTF-8 never come here (the full walk checks strings then).
 */

import { plainEnd } from './json-bytes.js';

/** String fields kept per entry (shared with gcp.ts). */
export const enum G {
  srcIp, dstIp, reporter, startTime, endTime,
  srcProject, srcRegion, srcVm, srcZone, dstProject, dstRegion, dstVm, dstZone,
  srcVpcProject, srcVpcRegion, dstVpcProject, dstVpcRegion,
  srcGwProject, srcGwLocation, srcGwName, dstGwProject, dstGwLocation, dstGwName,
  resProject, logName, count,
}

/** Integer fields: ports and protocol (int32), counters (int64). */
export const enum N { srcPort, dstPort, protocol, bytes, packets, count }

/** The objects whose keys the reader reads; `other` is everything else (checked, skipped). */
const enum Box { other, entry, payload, connection, srcInstance, dstInstance, srcVpc, dstVpc, srcGateway, dstGateway, resource, labels, count }

/** What a key asks of its value: kind in the high bits, the field or box in the low byte. */
const STR = 0x100;
const INT = 0x200;
const OBJ = 0x300;
const BAIL = 0x400;
const KIND = 0xf00;

const KEYS: Array<[Box, string, number]> = [
  [Box.entry, 'jsonPayload', OBJ | Box.payload],
  [Box.entry, 'logName', STR | G.logName],
  [Box.entry, 'resource', OBJ | Box.resource],
  [Box.entry, 'message', BAIL],
  [Box.resource, 'labels', OBJ | Box.labels],
  [Box.labels, 'project_id', STR | G.resProject],
  [Box.payload, 'connection', OBJ | Box.connection],
  [Box.payload, 'reporter', STR | G.reporter],
  [Box.payload, 'start_time', STR | G.startTime],
  [Box.payload, 'end_time', STR | G.endTime],
  [Box.payload, 'bytes_sent', INT | N.bytes],
  [Box.payload, 'packets_sent', INT | N.packets],
  [Box.payload, 'src_instance', OBJ | Box.srcInstance],
  [Box.payload, 'dest_instance', OBJ | Box.dstInstance],
  [Box.payload, 'src_vpc', OBJ | Box.srcVpc],
  [Box.payload, 'dest_vpc', OBJ | Box.dstVpc],
  [Box.payload, 'src_gateway', OBJ | Box.srcGateway],
  [Box.payload, 'dest_gateway', OBJ | Box.dstGateway],
  [Box.connection, 'src_ip', STR | G.srcIp],
  [Box.connection, 'dest_ip', STR | G.dstIp],
  [Box.connection, 'src_port', INT | N.srcPort],
  [Box.connection, 'dest_port', INT | N.dstPort],
  [Box.connection, 'protocol', INT | N.protocol],
  [Box.srcInstance, 'project_id', STR | G.srcProject],
  [Box.srcInstance, 'region', STR | G.srcRegion],
  [Box.srcInstance, 'vm_name', STR | G.srcVm],
  [Box.srcInstance, 'zone', STR | G.srcZone],
  [Box.dstInstance, 'project_id', STR | G.dstProject],
  [Box.dstInstance, 'region', STR | G.dstRegion],
  [Box.dstInstance, 'vm_name', STR | G.dstVm],
  [Box.dstInstance, 'zone', STR | G.dstZone],
  [Box.srcVpc, 'project_id', STR | G.srcVpcProject],
  [Box.srcVpc, 'subnetwork_region', STR | G.srcVpcRegion],
  [Box.dstVpc, 'project_id', STR | G.dstVpcProject],
  [Box.dstVpc, 'subnetwork_region', STR | G.dstVpcRegion],
  [Box.srcGateway, 'project_id', STR | G.srcGwProject],
  [Box.srcGateway, 'location', STR | G.srcGwLocation],
  [Box.srcGateway, 'name', STR | G.srcGwName],
  [Box.dstGateway, 'project_id', STR | G.dstGwProject],
  [Box.dstGateway, 'location', STR | G.dstGwLocation],
  [Box.dstGateway, 'name', STR | G.dstGwName],
  // keys the reader skips, named so that the key after them can be foreseen (below)
  [Box.entry, 'insertId', 0],
  [Box.entry, 'receiveTimestamp', 0],
  [Box.entry, 'timestamp', 0],
  [Box.entry, 'severity', 0],
  [Box.resource, 'type', 0],
  [Box.labels, 'location', 0],
  [Box.labels, 'subnetwork_id', 0],
  [Box.labels, 'subnetwork_name', 0],
  [Box.payload, 'rtt_msec', 0],
  [Box.payload, 'src_location', 0],
  [Box.payload, 'dest_location', 0],
  [Box.srcVpc, 'subnetwork_name', 0],
  [Box.srcVpc, 'vpc_name', 0],
  [Box.dstVpc, 'subnetwork_name', 0],
  [Box.dstVpc, 'vpc_name', 0],
];
const ACTION = Int32Array.from(KEYS, ([, , a]) => a);

/**
 * Each key followed by '":' as little-endian 32-bit words, for sameWords: the whole
 * words, then (when the length is not a multiple of 4) the last four bytes again.
 */
const wordAt = new Int32Array(KEYS.length + 1);
const wordLen = new Int32Array(KEYS.length);
const words = new Int32Array(KEYS.reduce((n, [, k]) => n + Math.ceil((k.length + 2) / 4), 0));
{
  let o = 0;
  KEYS.forEach(([, k], i) => {
    const t = Buffer.from(`${k}":`, 'latin1');
    const dv = new DataView(t.buffer, t.byteOffset, t.length);
    wordAt[i] = o;
    wordLen[i] = t.length;
    for (let j = 0; j + 4 <= t.length; j += 4) words[o++] = dv.getInt32(j, true);
    if (t.length & 3) words[o++] = dv.getInt32(t.length - 4, true);
  });
}

/** True when the bytes at ks (dv's offsets) are key k, its closing '"' and a ':' (and within e). */
function sameWords(dv: DataView<ArrayBufferLike>, ks: number, e: number, k: number): boolean {
  const n = wordLen[k]!;
  if (ks + n > e) return false;
  let o = wordAt[k]!;
  let j = 0;
  for (; j + 4 <= n; j += 4) if (dv.getInt32(ks + j, true) !== words[o++]) return false;
  return j === n || dv.getInt32(ks + n - 4, true) === words[o];
}

/** Key candidates by (box, length): up to PER_LEN indices into KEYS, -1 after the last. */
const MAX_KEY = 32;
const PER_LEN = 6;
const byLen = new Int16Array(Box.count * MAX_KEY * PER_LEN).fill(-1);
const keyBytes = KEYS.map(([, k]) => Uint8Array.from(k, (ch) => ch.charCodeAt(0)));
KEYS.forEach(([box, k], i) => {
  const at = (box * MAX_KEY + k.length) * PER_LEN;
  let j = 0;
  while (byLen[at + j]! >= 0) j++;
  if (j >= PER_LEN) throw new Error('gcp-fast: too many keys of one length');
  byLen[at + j] = i;
});

const MAX_DEPTH = 64;

/**
 * Foreseeing keys: a writer puts an object's keys in the same order in every entry, so
 * the key that followed key k last time (next[k]) is compared with the bytes at once,
 * which both finds and checks the key in one pass. Slots after KEYS: an object's start
 * (START + box) and an unnamed key (UNNAMED + box). A wrong guess costs a few bytes.
 */
const START = KEYS.length;
const UNNAMED = START + Box.count;

export class GcpFastPath {
  /** Integer fields; -1 when absent. */
  readonly ints = new Float64Array(N.count);
  hasPayload = false;
  hasConnection = false;
  hasSrcInstance = false;
  hasDstInstance = false;
  private readonly box = new Uint8Array(MAX_DEPTH);
  private readonly isArray = new Uint8Array(MAX_DEPTH);
  /** seen[k] === stamp: key k of KEYS was read in this entry (a second one is a bail). */
  private readonly seen = new Int32Array(KEYS.length);
  private stamp = 0;
  /** The key read last in the object at each depth (a KEYS index, START + box or UNNAMED + box). */
  private readonly lastKey = new Int16Array(MAX_DEPTH);
  /** What followed each key last time (a KEYS index), -1 when not known. */
  private readonly next = new Int16Array(UNNAMED + Box.count).fill(-1);
  /**
   * What followed it before that, when it differed: a file interleaves entries of two
   * shapes (reporter DEST: dest_instance, dest_vpc, src_location; SRC: dest_location,
   * rtt_msec, src_instance, src_vpc), and with one guess a key each switch missed.
   */
  private readonly alt = new Int16Array(UNNAMED + Box.count).fill(-1);

  /** spanS/spanE: the reader's string spans (into the line's buffer), filled here. */
  constructor(
    private readonly spanS: Int32Array,
    private readonly spanE: Int32Array,
  ) {}

  /**
   * Read the LogEntry that is all of b[s, e) (a trimmed line of a valid UTF-8 block; dv
   * views b, viewOf in json-bytes.ts: made by the caller once a block, since a call made
   * here only on a new block deoptimised this function, and each thread compiled it twice).
   * True: the fields are set as the full walk would set them and the line is valid JSON.
   * False: nothing is decided; read the line with the full walk.
   */
  read(b: Uint8Array, dv: DataView<ArrayBufferLike>, s: number, e: number): boolean {
    this.spanS.fill(-1);
    this.ints.fill(-1);
    this.hasPayload = false;
    this.hasConnection = false;
    this.hasSrcInstance = false;
    this.hasDstInstance = false;
    if (++this.stamp > 0x3fffffff) {
      this.stamp = 1;
      this.seen.fill(0);
    }
    if (b[s] !== 123) return false;
    const box = this.box;
    const isArray = this.isArray;
    let d = 0;
    box[0] = Box.entry;
    isArray[0] = 0;
    this.lastKey[0] = START + Box.entry;
    let p = s + 1;
    let c = 0;
    // after '{': a key or '}'
    while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
    if (c === 125 && p < e) return false; // an empty LogEntry: the full walk names it
    for (;;) {
      // ---- a member: key, ':', value (p at the key's '"')
      if (p >= e || b[p] !== 34) return false;
      const ks = p + 1;
      let q: number;
      let want = 0;
      const bx = box[d]!;
      if (bx !== Box.other) {
        const last = this.lastKey[d]!;
        let k = this.next[last]!;
        // the foreseen key with its closing '"' and ':' (compact JSON), four bytes at a time
        if (k >= 0 && !sameWords(dv, ks, e, k)) {
          const a = this.alt[last]!;
          if (a >= 0 && sameWords(dv, ks, e, a)) {
            this.alt[last] = k;
            this.next[last] = a;
            k = a;
          } else k = -1;
        }
        if (k >= 0) q = ks + wordLen[k]! - 2;
        else {
          q = plainEnd(dv, b, ks, e);
          if (q >= e || b[q] !== 34) return false;
          k = q - ks < MAX_KEY ? keyIndex(b, ks, (bx * MAX_KEY + (q - ks)) * PER_LEN) : -1;
          const was = this.next[last]!;
          if (was >= 0 && was !== k) this.alt[last] = was;
          this.next[last] = k;
        }
        if (k >= 0) {
          want = ACTION[k]!;
          if (want !== 0) {
            if (this.seen[k] === this.stamp || want === BAIL) return false;
            this.seen[k] = this.stamp;
          }
          this.lastKey[d] = k;
        } else this.lastKey[d] = UNNAMED + bx;
      } else {
        q = plainEnd(dv, b, ks, e);
        if (q >= e || b[q] !== 34) return false;
      }
      p = q + 1;
      while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
      if (p >= e || b[p] !== 58) return false;
      p++;
      // ---- a value (p after ':' or '[' or an array's ','); `want` says what the reader needs of it
      for (;;) {
        while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
        if (p >= e) return false;
        c = b[p]!;
        const kind = want & KIND;
        if (c === 34) {
          q = plainEnd(dv, b, p + 1, e);
          if (q >= e || b[q] !== 34) return false;
          if (kind === STR) {
            this.spanS[want & 0xff] = p + 1;
            this.spanE[want & 0xff] = q;
          } else if (kind === INT) {
            const v = digitsOf(b, p + 1, q);
            if (v < 0) return false;
            this.ints[want & 0xff] = v;
          } else if (kind !== 0) return false;
          p = q + 1;
        } else if (c === 123 || c === 91) {
          if (kind !== 0 && !(kind === OBJ && c === 123)) return false;
          if (++d >= MAX_DEPTH) return false;
          box[d] = kind === OBJ ? want & 0xff : Box.other;
          isArray[d] = c === 91 ? 1 : 0;
          this.lastKey[d] = START + box[d]!;
          p++;
          while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
          if (p >= e) return false;
          if (c === (isArray[d] ? 93 : 125)) {
            // an empty object or array: the reader's own objects are left to the full walk
            if (box[d] !== Box.other) return false;
            d--;
            p++;
          } else if (kind === OBJ) {
            this.opened(want & 0xff);
            break; // read the first member
          } else if (isArray[d]) {
            want = 0;
            continue; // read the first element
          } else break;
        } else if (c === 45 || (c >= 48 && c <= 57)) {
          if (kind === INT) {
            q = p;
            while (q < e && (c = b[q]!) >= 48 && c <= 57) q++;
            // no sign, fraction or exponent, no leading zero, at most 15 digits: exact
            if (q === p || q - p > 15 || (b[p] === 48 && q - p > 1) || c === 46 || c === 101 || c === 69) return false;
            this.ints[want & 0xff] = digitsOf(b, p, q);
            p = q;
          } else if (kind !== 0) return false;
          else {
            p = numberEnd(b, p, e);
            if (p < 0) return false;
          }
        } else if (kind !== 0) return false;
        else if (c === 116 && p + 4 <= e && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) p += 4;
        else if (c === 102 && p + 5 <= e && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) p += 5;
        else if (c === 110 && p + 4 <= e && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108) p += 4;
        else return false;
        // ---- after a value: ',' or the end of its container (maybe several)
        for (;;) {
          while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
          if (p >= e) return false;
          if (c === 44) {
            p++;
            if (isArray[d]) {
              want = 0;
              break; // the next element
            }
            while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
            break; // the next member
          }
          if (c !== (isArray[d] ? 93 : 125)) return false;
          p++;
          if (d === 0) {
            // the LogEntry closed: only whitespace may follow
            while (p < e && ((c = b[p]!) === 32 || c === 10 || c === 13 || c === 9)) p++;
            return p === e;
          }
          d--;
        }
        if (!isArray[d]) break; // a member follows
      }
    }
  }

  /** The reader's flags for an object it needs, when it is not empty. */
  private opened(bx: number): void {
    if (bx === Box.payload) this.hasPayload = true;
    else if (bx === Box.connection) this.hasConnection = true;
    else if (bx === Box.srcInstance) this.hasSrcInstance = true;
    else if (bx === Box.dstInstance) this.hasDstInstance = true;
  }
}

/** The KEYS index of the key at b[ks] among the candidates at byLen[at…] (its box and length), or -1. */
function keyIndex(b: Uint8Array, ks: number, at: number): number {
  for (let j = 0; j < PER_LEN; j++) {
    const k = byLen[at + j]!;
    if (k < 0) break;
    if (sameBytes(b, ks, keyBytes[k]!)) return k;
  }
  return -1;
}

function sameBytes(b: Uint8Array, s: number, lit: Uint8Array): boolean {
  for (let k = 0; k < lit.length; k++) if (b[s + k] !== lit[k]) return false;
  return true;
}

/** Decimal digits b[s, e) (1 to 15 of them), or -1. */
function digitsOf(b: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The end of the JSON number at b[p] (RFC 8259 grammar), or -1. */
function numberEnd(b: Uint8Array, p: number, e: number): number {
  let c: number;
  if (b[p] === 45) p++;
  if (p >= e) return -1;
  if (b[p] === 48) p++;
  else {
    const f = p;
    while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
    if (p === f) return -1;
  }
  if (p < e && b[p] === 46) {
    const f = ++p;
    while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
    if (p === f) return -1;
  }
  if (p < e && (b[p] === 101 || b[p] === 69)) {
    p++;
    if (p < e && (b[p] === 43 || b[p] === 45)) p++;
    const f = p;
    while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
    if (p === f) return -1;
  }
  return p;
}

/**
 * The key table of the WebAssembly reader (assembly/gcp-lines.ts, its T_* layout), made from
 * KEYS: the candidates by (box, length) as i16, then each key's action, its bytes' offset
 * in the table and its length as i32 (64 slots each), sixteen bytes of each key and '":'
 * and their mask (32 bytes a key), then the keys' bytes, each followed by '":'.
 */
export function wasmKeyTable(): Uint8Array {
  const slots = 64;
  if (KEYS.length > slots) throw new Error('gcp-fast: more keys than the WebAssembly reader takes');
  const action = byLen.byteLength;
  const keyAt = action + slots * 4;
  const keyLen = keyAt + slots * 4;
  const pattern = keyLen + slots * 4;
  let at = pattern + slots * 32;
  const t = new Uint8Array(at + keyBytes.reduce((n, k) => n + k.length + 8, 0));
  const dv = new DataView(t.buffer);
  t.set(new Uint8Array(byLen.buffer, byLen.byteOffset, byLen.byteLength), 0);
  keyBytes.forEach((k, i) => {
    dv.setInt32(action + i * 4, ACTION[i]!, true);
    dv.setInt32(keyAt + i * 4, at, true);
    dv.setInt32(keyLen + i * 4, k.length, true);
    // the key, '":', then the first sixteen of those bytes and their mask
    const withEnd = [...k, 34, 58];
    t.set(withEnd, at);
    t.set(withEnd.slice(0, 16), pattern + i * 32);
    t.fill(0xff, pattern + i * 32 + 16, pattern + i * 32 + 16 + Math.min(16, withEnd.length));
    at += k.length + 8;
  });
  return t;
}
