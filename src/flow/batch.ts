/**
 * A batch of normalised flow records as typed-array columns (detection.md §2), built by the
 * readers in the parse workers and transferred (not copied) to the shard workers.
 * Strings (account, region, interface, instance) travel as ids into the batch's string
 * table: its own, or its parse sink's dictionary, which the sink's batches share (flow/sink.ts
 * SinkOptions.dictionaryIds).
 */

export interface FlowBatchData {
  /**
   * Records. In a batch of inbound records alone (`feeds` Feed.inbound: a parse sink's lane
   * with its outbound records apart), the rows a reader's module routed carry only the
   * columns the inbound table reads: `sport`, `tcpFlags`, `action`, `direction`, `iface` and
   * `instance` are left as the memory held them (flow/sink.ts FlowSink.inboundLane).
   */
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
  /**
   * The Feed bits its records may carry (types.ts Feed): a parse sink's batches of one lane
   * (FlowSink.lanes) carry one, and a table skips a batch with none of its own; 3 (both)
   * where not known.
   */
  feeds: number;
  strings: string[]; // the batch's string table (its own, or its sink's dictionary shared), strings[0] = ""
  /**
   * While the batch travels between threads (packStrings): `strings` past the first as one
   * string, each as its length (one UTF-16 code unit) and its characters, and `strings` is ['']
   * ('': not packed; a string from the start, so that the field keeps one type).
   */
  packedStrings?: string;
  /** Set when the columns lie in a slot of a BatchRing (batch-ring.ts): released once added; `id` the ring's. */
  ring?: { state: Int32Array; slot: number; id: number };
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
export function batchOfColumns(c: Omit<FlowBatchData, 'n' | 'feeds' | 'strings' | 'packedStrings' | 'ring'>, n: number, strings: string[]): FlowBatchData {
  const b = new FlowBatch(c.feed, c.src, c.dst, c.proto, c.sport, c.dport, c.tcpFlags, c.packets, c.bytes, c.start, c.end, c.cloud, c.action, c.direction, c.account, c.region, c.iface, c.instance);
  b.n = n;
  b.strings = strings;
  return b;
}

/** FlowBatchData.feeds of a batch that may hold records of either feed (Feed.inbound | Feed.outbound). */
export const ALL_FEEDS = 3;

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
  declare feeds: number;
  declare strings: string[];
  declare packedStrings: string;
  declare ring: { state: Int32Array; slot: number; id: number } | undefined;

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
    this.feeds = ALL_FEEDS;
    // set twice: a shard thread gives a batch it took back a new dictionary (workers/shard.ts
    // takeBatch), and a field set once is tracked as constant, so that first replacement
    // deoptimised the code compiled against it (the sink's copyIds, compiled again in the
    // shard thread that parses GCP: `node --trace-generalization`, bench/RESULTS.md session 15 gcp)
    this.strings = NO_STRINGS;
    this.strings = [''];
    this.packedStrings = '';
    this.ring = undefined;
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
  const shared = packedTables.get(strings);
  if (shared !== undefined) {
    b.packedStrings = shared;
    b.strings = [''];
    return;
  }
  const packed = packedFrom(strings, 1);
  if (packed === null) return;
  b.packedStrings = packed;
  b.strings = [''];
}

/** strings from `from` on packed as packStrings packs them; null where one is longer than a code unit can count. */
function packedFrom(strings: string[], from: number): string | null {
  let packed = '';
  for (let i = from; i < strings.length; i++) {
    const s = strings[i]!;
    if (s.length > 0xffff) return null;
    packed += String.fromCharCode(s.length) + s;
  }
  return packed;
}

/**
 * The tables that several batches carry (a parse sink's dictionary: flow/sink.ts
 * SinkOptions.dictionaryIds), packed once: packStrings hands each batch the same packed string.
 */
const packedTables = new WeakMap<string[], string>();

/**
 * A table that batches will share (never changed afterwards), packed for packStrings once,
 * from the packing of `grown`, its first strings' table (packed the same way), where given:
 * a sink's dictionary grows, and its strings so far are not packed again.
 */
export function shareTable(strings: string[], grown: string[] | null): void {
  if (strings.length < PACK_STRINGS_FROM) return;
  const before = grown !== null ? packedTables.get(grown) : undefined;
  const packed = before !== undefined ? packedFrom(strings, grown!.length) : packedFrom(strings, 1);
  if (packed !== null) packedTables.set(strings, before !== undefined ? before + packed : packed);
}

/** A batch's string table as it was before packStrings (nothing to do for a batch not packed). */
export function unpackStrings(b: FlowBatchData): void {
  const packed = b.packedStrings;
  if (packed === undefined || packed === '') return;
  b.strings = unpackedTable(packed);
  b.packedStrings = '';
}

/**
 * The last tables unpacked here, with their packed strings: the batches of one parse sink
 * carry its dictionary (SinkOptions.dictionaryIds), the same from batch to batch or grown at
 * its end, so a table met again is the same array (the tables map an array's strings once,
 * knowing it by identity), and a grown one is unpacked from where the one before ended.
 * Several, for the sinks of several parse threads whose batches come here in turn.
 */
const recentPacked: string[] = [];
const recentTables: string[][] = [];
const RECENT_TABLES = 4;

function unpackedTable(packed: string): string[] {
  for (let r = 0; r < recentPacked.length; r++) {
    const before = recentPacked[r]!;
    if (packed === before) return recentTables[r]!;
    if (packed.length > before.length && packed.startsWith(before)) {
      // the packing is by lengths: a packed table's start is its first strings' packing
      const strings = unpackInto(recentTables[r]!.slice(), packed, before.length);
      recentPacked[r] = packed;
      recentTables[r] = strings;
      return strings;
    }
  }
  const strings = unpackInto([''], packed, 0);
  if (recentPacked.length === RECENT_TABLES) {
    recentPacked.shift();
    recentTables.shift();
  }
  recentPacked.push(packed);
  recentTables.push(strings);
  return strings;
}

function unpackInto(strings: string[], packed: string, from: number): string[] {
  for (let o = from; o < packed.length; ) {
    const n = packed.charCodeAt(o);
    strings.push(packed.slice(o + 1, o + 1 + n));
    o += 1 + n;
  }
  return strings;
}

/** The ArrayBuffers of a batch, for postMessage's transfer list. */
export function batchTransferList(b: FlowBatchData): ArrayBuffer[] {
  // a ring slot's memory is shared, not moved
  return [...new Set([b.feed, b.src, b.dst, b.packets].map((a) => a.buffer))].filter((x): x is ArrayBuffer => x instanceof ArrayBuffer);
}

/** Bytes per record in a batch: what moving a batch between threads costs in memory. */
export const BATCH_BYTES_PER_RECORD = 1 + 16 + 16 + 1 + 2 + 2 + 2 + 8 + 8 + 4 + 4 + 1 + 1 + 1 + 4 * 4;
