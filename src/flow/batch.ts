/**
 * A batch of normalised flow records as typed-array columns (SPEC §2), built by the
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
}

export function allocBatch(capacity: number): FlowBatchData {
  return {
    n: 0,
    feed: new Uint8Array(capacity),
    src: new Uint32Array(capacity * 4),
    dst: new Uint32Array(capacity * 4),
    proto: new Uint8Array(capacity),
    sport: new Uint16Array(capacity),
    dport: new Uint16Array(capacity),
    tcpFlags: new Int16Array(capacity),
    packets: new Float64Array(capacity),
    bytes: new Float64Array(capacity),
    start: new Uint32Array(capacity),
    end: new Uint32Array(capacity),
    cloud: new Uint8Array(capacity),
    action: new Uint8Array(capacity),
    direction: new Uint8Array(capacity),
    account: new Uint32Array(capacity),
    region: new Uint32Array(capacity),
    iface: new Uint32Array(capacity),
    instance: new Uint32Array(capacity),
    strings: [''],
  };
}

/** The ArrayBuffers of a batch, for postMessage's transfer list. */
export function batchTransferList(b: FlowBatchData): ArrayBuffer[] {
  return [
    b.feed, b.src, b.dst, b.proto, b.sport, b.dport, b.tcpFlags, b.packets, b.bytes, b.start, b.end,
    b.cloud, b.action, b.direction, b.account, b.region, b.iface, b.instance,
  ].map((a) => a.buffer as ArrayBuffer);
}

/** Bytes per record in a batch: what moving a batch between threads costs in memory. */
export const BATCH_BYTES_PER_RECORD = 1 + 16 + 16 + 1 + 2 + 2 + 2 + 8 + 8 + 4 + 4 + 1 + 1 + 1 + 4 * 4;
