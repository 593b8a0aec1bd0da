/**
 * A batch of normalised flow records as typed-array columns (detection.md §2), built by the
 * readers in the parse workers and transferred (not copied) to the shard workers.
 * Strings (account, region, interface, instance) travel as batch-local dictionary ids
 * plus one small string table per batch.
 */

export interface FlowBatchData {
  n: number;
  feed: Uint8Array; // Feed bit flags
  src: Uint32Array; // 4 words per record
  dst: Uint32Array;
  proto: Uint8Array;
  sport: Uint16Array;
  dport: Uint16Array;
  tcpFlags: Int16Array; // -1 = not given by the format
  packets: Float64Array; // NaN = unknown
  bytes: Float64Array; // NaN = unknown
  start: Uint32Array;
  end: Uint32Array;
  cloud: Uint8Array;
  action: Uint8Array;
  direction: Uint8Array;
  account: Uint32Array; // index into strings
  region: Uint32Array;
  iface: Uint32Array;
  instance: Uint32Array;
  strings: string[]; // batch-local dictionary, strings[0] = ""
  /**
   * While the batch travels between threads (packStrings): `strings` past the first as one
   * string, each as its length (one UTF-16 code unit) and its characters, and `strings` is ['']
   * ('': not packed; a string from the start, so that the field keeps one type).
   */
  packedStrings?: string;
  /** Set when the columns lie in a slot of a BatchRing (batch-ring.ts): released once added. */
  ring?: { state: Int32Array; slot: number };
  /**
   * Every record's addresses are IPv4, each one word (src[i], dst[i]: the IPv4 address) in
   * place of four (src[4i..4i+3]: IPv4-mapped). The columns keep the four-word size, so the
   * batch widens in place (widenAddresses). A parse thread's batches start narrow
   * (SinkOptions.narrowAddresses) and widen at their first IPv6 record: a narrow batch
   * crosses from the parse thread's core to the shard's in 59 bytes a record, not 83.
   */
  narrow?: boolean;
}

/**
 * A batch's columns are views over ONE ArrayBuffer: one allocation per batch and one
 * buffer to transfer, instead of eighteen.
 */
export function allocBatch(capacity: number): FlowBatchData {
  return batchOver(new ArrayBuffer(capacity * BATCH_BYTES_PER_RECORD), 0, capacity);
}

/**
 * A batch of `capacity` records whose columns are views over buf from byteOffset (a
 * multiple of 8): capacity * BATCH_BYTES_PER_RECORD bytes.
 */
export function batchOver(buf: ArrayBufferLike, byteOffset: number, capacity: number): FlowBatchData {
  const c = capacity;
  let off = byteOffset;
  const take = <T>(make: new (b: ArrayBufferLike, o: number, n: number) => T, n: number, size: number): T => {
    const view = new make(buf, off, n);
    off += n * size;
    return view;
  };
  // widest first, so every view is aligned
  const packets = take(Float64Array, c, 8);
  const bytes = take(Float64Array, c, 8);
  const src = take(Uint32Array, c * 4, 4);
  const dst = take(Uint32Array, c * 4, 4);
  const start = take(Uint32Array, c, 4);
  const end = take(Uint32Array, c, 4);
  const account = take(Uint32Array, c, 4);
  const region = take(Uint32Array, c, 4);
  const iface = take(Uint32Array, c, 4);
  const instance = take(Uint32Array, c, 4);
  const sport = take(Uint16Array, c, 2);
  const dport = take(Uint16Array, c, 2);
  const tcpFlags = take(Int16Array, c, 2);
  const feed = take(Uint8Array, c, 1);
  const proto = take(Uint8Array, c, 1);
  const cloud = take(Uint8Array, c, 1);
  const action = take(Uint8Array, c, 1);
  const direction = take(Uint8Array, c, 1);
  return new FlowBatch(feed, src, dst, proto, sport, dport, tcpFlags, packets, bytes, start, end, cloud, action, direction, account, region, iface, instance);
}

/**
 * A batch over columns that lie elsewhere (a reader's routed area: FlowSink's addRouted),
 * of the one batch class, so that the tables' code that takes it keeps one map.
 */
export function batchOfColumns(c: Omit<FlowBatchData, 'n' | 'strings' | 'packedStrings' | 'ring' | 'narrow'>, n: number, strings: string[]): FlowBatchData {
  const b = new FlowBatch(c.feed, c.src, c.dst, c.proto, c.sport, c.dport, c.tcpFlags, c.packets, c.bytes, c.start, c.end, c.cloud, c.action, c.direction, c.account, c.region, c.iface, c.instance);
  b.n = n;
  b.strings = strings;
  return b;
}

/** A batch's first dictionary before its own (FlowBatch's constructor). */
const NO_STRINGS: string[] = [];

/**
 * A batch made here. A class, not an object literal: V8 gave the literal's map a boilerplate
 * after a few hundred batches, which generalised every column's field type and deoptimised the
 * code compiled against it (the sink's copyIds, recompiled twice a bucket run: `--trace-opt
 * --trace-generalization`, bench/RESULTS.md, branch v8c). `ring` is present from the start, so
 * a ring's batch (batch-ring.ts take) and a private one share one map.
 */
class FlowBatch implements FlowBatchData {
  // declared, not defined: a defined field starts as undefined, and its field type would be
  // Any instead of the column's class. Assigned in the literal's order, so that batches
  // cloned to other threads keep the shape they had.
  declare n: number;
  declare feed: Uint8Array;
  declare src: Uint32Array;
  declare dst: Uint32Array;
  declare proto: Uint8Array;
  declare sport: Uint16Array;
  declare dport: Uint16Array;
  declare tcpFlags: Int16Array;
  declare packets: Float64Array;
  declare bytes: Float64Array;
  declare start: Uint32Array;
  declare end: Uint32Array;
  declare cloud: Uint8Array;
  declare action: Uint8Array;
  declare direction: Uint8Array;
  declare account: Uint32Array;
  declare region: Uint32Array;
  declare iface: Uint32Array;
  declare instance: Uint32Array;
  declare strings: string[];
  declare packedStrings: string;
  declare ring: { state: Int32Array; slot: number } | undefined;
  declare narrow: boolean;

  constructor(
    feed: Uint8Array,
    src: Uint32Array,
    dst: Uint32Array,
    proto: Uint8Array,
    sport: Uint16Array,
    dport: Uint16Array,
    tcpFlags: Int16Array,
    packets: Float64Array,
    bytes: Float64Array,
    start: Uint32Array,
    end: Uint32Array,
    cloud: Uint8Array,
    action: Uint8Array,
    direction: Uint8Array,
    account: Uint32Array,
    region: Uint32Array,
    iface: Uint32Array,
    instance: Uint32Array,
  ) {
    this.n = 0;
    this.feed = feed;
    this.src = src;
    this.dst = dst;
    this.proto = proto;
    this.sport = sport;
    this.dport = dport;
    this.tcpFlags = tcpFlags;
    this.packets = packets;
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.cloud = cloud;
    this.action = action;
    this.direction = direction;
    this.account = account;
    this.region = region;
    this.iface = iface;
    this.instance = instance;
    // set twice: a shard thread gives a batch it took back a new dictionary (workers/shard.ts
    // takeBatch), and a field set once is tracked as constant, so that first replacement
    // deoptimised the code compiled against it (the sink's copyIds, compiled again in the
    // shard thread that parses GCP: `node --trace-generalization`, bench/RESULTS.md session 15 gcp)
    this.strings = NO_STRINGS;
    this.strings = [''];
    this.packedStrings = '';
    this.ring = undefined;
    this.narrow = false;
  }
}

/**
 * Tables of fewer strings travel as arrays: their clone costs a few µs a message (an Azure or
 * GCP batch holds 15-25 strings), and packing them would only add a call.
 */
export const PACK_STRINGS_FROM = 64;

/**
 * The batch's string table (strings past the first) packed into one string for a message to
 * another thread (unpackStrings takes it out): a batch of the bucket has ~550 strings (the
 * interfaces of its outbound records), and a message's clone writes and reads each string on
 * its own: ~100 ns a string for the main thread's receive and send to the shard, against ~15
 * µs for the one packed string (bench/RESULTS.md, session 15 shardbatch). A table with a
 * string longer than a code unit can count stays an array.
 */
export function packStrings(b: FlowBatchData): void {
  const strings = b.strings;
  if (strings.length < PACK_STRINGS_FROM) return;
  let packed = '';
  for (let i = 1; i < strings.length; i++) {
    const s = strings[i]!;
    if (s.length > 0xffff) return;
    packed += String.fromCharCode(s.length) + s;
  }
  b.packedStrings = packed;
  b.strings = [''];
}

/** A batch's string table as it was before packStrings (nothing to do for a batch not packed). */
export function unpackStrings(b: FlowBatchData): void {
  const packed = b.packedStrings;
  if (packed === undefined || packed === '') return;
  const strings = [''];
  for (let o = 0; o < packed.length; ) {
    const n = packed.charCodeAt(o);
    strings.push(packed.slice(o + 1, o + 1 + n));
    o += 1 + n;
  }
  b.strings = strings;
  b.packedStrings = '';
}

/*
 * A narrow batch's address columns (src, dst; FlowBatchData.narrow), of capacity C (the
 * batch's feed.length) and 4C words as in the four-word form:
 *   [0, C)          a word a record: the IPv4 address, or for an IPv6 one its entry's index
 *   [C, C + C/32)   a bit a record: set for an IPv6 address
 *   narrowCountAt   the number of IPv6 entries
 *   narrowV6At on   the IPv6 entries, four words each, in the order they came
 * so a batch of IPv4 and a few IPv6 addresses (the bucket: 1.5 % IPv6 rows) stays narrow; a
 * batch with more IPv6 addresses than its columns hold widens (widenAddresses).
 */

/** The word of a narrow address column of capacity `cap` that counts its IPv6 entries. */
export function narrowCountAt(cap: number): number {
  return cap + ((cap + 31) >>> 5);
}

/** Where a narrow address column's IPv6 entries start (a multiple of four words). */
export function narrowV6At(cap: number): number {
  return (narrowCountAt(cap) + 4) & ~3;
}

/** Whether record i's address in a narrow column of capacity `cap` is IPv6. */
export function narrowIsV6(col: Uint32Array, cap: number, i: number): boolean {
  return ((col[cap + (i >>> 5)]! >>> (i & 31)) & 1) !== 0;
}

/** A new narrow batch's side data emptied (ring slots are reused memory). */
export function startNarrow(b: FlowBatchData): void {
  const cap = b.feed.length;
  b.src.fill(0, cap, narrowCountAt(cap) + 1);
  b.dst.fill(0, cap, narrowCountAt(cap) + 1);
  b.narrow = true;
}

/**
 * Record i's address, words w0..w3 (four-word form), into narrow column `col` of capacity
 * `cap`: false when it is IPv6 and the column has no room for another entry.
 */
export function putNarrow(col: Uint32Array, cap: number, i: number, w0: number, w1: number, w2: number, w3: number): boolean {
  if ((w0 | w1 | (w2 ^ 0xffff)) === 0) {
    col[i] = w3;
    return true;
  }
  const countAt = narrowCountAt(cap);
  const k = col[countAt]!;
  const at = narrowV6At(cap) + k * 4;
  if (at + 4 > col.length) return false;
  col[at] = w0;
  col[at + 1] = w1;
  col[at + 2] = w2;
  col[at + 3] = w3;
  col[countAt] = k + 1;
  col[i] = k;
  col[cap + (i >>> 5)] |= 1 << (i & 31);
  return true;
}

/**
 * A narrow batch's addresses in the four-word form, in place: its first `n` records (default:
 * all), for a reader of the four-word form. Nothing to do for a batch that is not narrow.
 */
export function widenAddresses(b: FlowBatchData, n = b.n): void {
  if (b.narrow !== true) return;
  widenColumn(b.src, b.feed.length, n);
  widenColumn(b.dst, b.feed.length, n);
  b.narrow = false;
}

/** Words 0..n-1 spread to 4i..4i+3, the last first (so none is overwritten before it is read); the side data copied out first. */
function widenColumn(a: Uint32Array, cap: number, n: number): void {
  const bits = a.slice(cap, cap + ((n + 31) >>> 5));
  const v6At = narrowV6At(cap);
  const v6 = a.slice(v6At, v6At + a[narrowCountAt(cap)]! * 4);
  for (let i = n - 1; i >= 0; i--) {
    const w = a[i]!;
    const o = i * 4;
    if (((bits[i >>> 5]! >>> (i & 31)) & 1) !== 0) {
      a[o] = v6[w * 4]!;
      a[o + 1] = v6[w * 4 + 1]!;
      a[o + 2] = v6[w * 4 + 2]!;
      a[o + 3] = v6[w * 4 + 3]!;
    } else {
      a[o + 3] = w;
      a[o + 2] = 0xffff;
      a[o + 1] = 0;
      a[o] = 0;
    }
  }
}

/**
 * Record i's address in `col` in the four-word form, for a reader of single records: the
 * column itself (at wideAt's offset), or for a narrow batch `scratch` (four words) holding it.
 */
export function wideAddress(b: FlowBatchData, col: Uint32Array, i: number, scratch: Uint32Array): Uint32Array {
  if (b.narrow !== true) return col;
  const cap = b.feed.length;
  if (narrowIsV6(col, cap, i)) {
    scratch.set(col.subarray(narrowV6At(cap) + col[i]! * 4, narrowV6At(cap) + col[i]! * 4 + 4));
    return scratch;
  }
  scratch[0] = 0;
  scratch[1] = 0;
  scratch[2] = 0xffff;
  scratch[3] = col[i]!;
  return scratch;
}

/** The offset of record i's address in what wideAddress returned. */
export function wideAt(b: FlowBatchData, i: number): number {
  return b.narrow === true ? 0 : i * 4;
}

/** The ArrayBuffers of a batch, for postMessage's transfer list. */
export function batchTransferList(b: FlowBatchData): ArrayBuffer[] {
  // a ring slot's memory is shared, not moved
  return [...new Set([b.feed, b.src, b.dst, b.packets].map((a) => a.buffer))].filter((x): x is ArrayBuffer => x instanceof ArrayBuffer);
}

/** Bytes per record in a batch: what moving a batch between threads costs in memory. */
export const BATCH_BYTES_PER_RECORD = 1 + 16 + 16 + 1 + 2 + 2 + 2 + 8 + 8 + 4 + 4 + 1 + 1 + 1 + 4 * 4;
