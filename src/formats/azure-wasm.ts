/**
 * The Azure reader's fast paths in WebAssembly (assembly/azure-tuples.ts, built into dist/wasm/
 * by scripts/wasm.mjs): a record written plainly is walked there (readRecord), and the tuples
 * of one record are read at once into rows in the module's memory, each as azure-fast.ts would read it, and routed there as the sink's emit would
 * route its record (wasm-route.ts) where the sink allows it; azure.ts hands the sink a
 * routed tuple's string ids, copies any other taken row into the sink's record, and reads
 * every other tuple with the JavaScript readers.
 *
 * Loaded synchronously, once per thread, the first time an Azure blob is read. The
 * environment variable FLOWSIEVE_AZURE_READER (AzureReaderKind: js, wasm-parse, wasm)
 * selects the reader for A/B runs; a build without the module (an install without
 * devDependencies) runs the JavaScript one.
 */
import type { FlowRecord, FlowSink, RoutedColumns } from '../flow/sink.js';
import { Cloud } from '../flow/types.js';
import { V4_MAPPED_W2 } from '../net/address.js';
import { ROUTING_BLOCK_BYTES, WasmReaderChoice, WasmRouting, type WasmReaderKind } from './wasm-route.js';

/** Tuples a call reads at most (more: JavaScript), and the largest blob copied into the module (larger: JavaScript). */
export const AZURE_WASM_TUPLES = 4096;
export const AZURE_WASM_BLOB = 16 * 1024 * 1024;
/**
 * Reads of routed rows a one-shard area holds (~1.3 MB an area): the one shard of a run that
 * parses its own tasks ('fusedParseHere', a folder of blobs at one worker) adds them where they
 * lie (FlowSink addRouted) in runs of up to ~16 k rows, with no copy into batches first (as
 * gcp-wasm.ts GCP_KEPT_READS). 4, 8 and 16 measured: the main thread's CPU 0.98x, 1, 1.04x
 * (bench/RESULTS.md, session 22 azure).
 */
const AZURE_KEPT_READS = 4;

// linear memory: the module's static data (below MODULE_DATA_BYTES), the tuple spans (starts,
// ends, MAC starts, MAC ends), the record block (readRecord), the run block (readRun), the
// rows, the routing block, the shards' areas (when the sink routes), the blob (memory grows
// to the largest read)
/**
 * The bytes the module's static data may take (its dataEnd(), ~1.4 KB): the function
 * references its walk calls through lie there, and spans written over them (from 0, as they
 * were, for a record of more than ~260 tuples) made every walk after it fail.
 */
const MODULE_DATA_BYTES = 4096;
const SPANS_AT = MODULE_DATA_BYTES;
const ENDS_AT = SPANS_AT + AZURE_WASM_TUPLES * 4;
const MACS_AT = ENDS_AT + AZURE_WASM_TUPLES * 4;
const MACE_AT = MACS_AT + AZURE_WASM_TUPLES * 4;
const RECORD_AT = MACE_AT + AZURE_WASM_TUPLES * 4;
const RECORD_BLOCK_BYTES = 64; // assembly/azure-tuples.ts
const RUN_AT = RECORD_AT + RECORD_BLOCK_BYTES;
const RUN_BLOCK_BYTES = 64; // assembly/azure-tuples.ts
/** The run block's flags (assembly/azure-tuples.ts RUN_FLAGS). */
const RUN_SELF = 1;
const RUN_KEEP = 2;
const ROWS_AT = RUN_AT + RUN_BLOCK_BYTES;
const ROW_BYTES = 64; // assembly/azure-tuples.ts ROW_BYTES
const ROUTING_AT = ROWS_AT + AZURE_WASM_TUPLES * ROW_BYTES;
const AREAS_AT = ROUTING_AT + ROUTING_BLOCK_BYTES;
/** Where the blob lies when no areas are made (else past them). */
const BUF_AT = AREAS_AT;

/** The tuple spans of a record (src/formats/azure.ts Spans), as readRecord fills them. */
export interface TupleSpans {
  s: Int32Array;
  e: Int32Array;
  off: Int32Array;
  inArena: Uint8Array;
  macS: Int32Array;
  macE: Int32Array;
  macInArena: Uint8Array;
  n: number;
  /** Room for n spans. */
  reserve(n: number): void;
}

/** AzureWasm.recordFlags bits (assembly/azure-tuples.ts B_FLAGS). */
export const enum RecordFlag {
  nsgFlows = 1,
  vnetFlows = 2,
  /**
   * resourceId, targetResourceID and flowLogResourceID each absent or the same bytes as in
   * the record the last readRecord of this blob read (none between that read nothing)
   */
  sameIds = 4,
  /** the category is NetworkSecurityGroupFlowEvent, or FlowLogFlowEvent (any letter case) */
  categoryNsg = 8,
  categoryVnet = 16,
}

/** AzureWasm.routeOf of a row the module did not take. */
export const NOT_TAKEN = -3;

/** The tuple layouts (assembly/azure-tuples.ts readTuples `layout`). */
export const enum TupleLayout { nsg = 1, vnet = 2 }

/** The WebAssembly tuple reader of one thread: its instance and views of its rows. */
export class AzureWasm {
  private u8: Uint8Array;
  private i32: Int32Array;
  private f64: Float64Array;
  private readonly memory: WebAssembly.Memory;
  private readonly readTuples: (bufPtr: number, n: number, startsPtr: number, endsPtr: number, out: number, layout: number, version: number, routing: number, keepAreas: number) => number;
  private readonly walkRecord: (bufPtr: number, start: number, len: number, recPtr: number, tuplesPtr: number, maxTuples: number) => number;
  private readonly newBlob: () => void;
  private readonly walkRun: (bufPtr: number, start: number, len: number, recPtr: number, tuplesPtr: number, maxTuples: number, out: number, routePtr: number, runPtr: number) => number;
  /** The length of the blob last loaded. */
  private blobLength = 0;
  /** The routing block and the shards' areas (views over the memory) as the sink takes them. */
  private readonly routing: WasmRouting;
  /** The sink of the blob last loaded, and whether the module routes its tuples. */
  private sink: FlowSink | null = null;
  private routesBlob = false;
  /** The regionBlank of the routing settings last written (load writes false). */
  private settingsBlank = false;
  /** Where the blob last loaded lies. */
  private bufAt = BUF_AT;
  /**
   * The rows routed into the shards' areas since a read last emptied them: at most
   * AZURE_WASM_TUPLES, the rows an area holds (the module does not check: past them a shard's
   * rows would be written over the next shard's area, and the last one's over the blob).
   */
  private areaRows = 0;

  /** routes: route taken tuples in the module where the sink allows it (else every one goes to emit). */
  constructor(
    module: WebAssembly.Module,
    readonly routes = true,
  ) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as {
      memory: WebAssembly.Memory; readTuples: AzureWasm['readTuples']; readRecord: AzureWasm['walkRecord']; newBlob: () => void; readRun: AzureWasm['walkRun']; dataEnd: () => number;
    };
    // a module whose static data outgrew its room would have it overwritten by the spans
    if (exports.dataEnd() > SPANS_AT) throw new Error(`azure-tuples.wasm: its static data ends at ${exports.dataEnd()}, past ${SPANS_AT} (MODULE_DATA_BYTES)`);
    this.memory = exports.memory;
    this.readTuples = exports.readTuples;
    this.walkRecord = exports.readRecord;
    this.newBlob = exports.newBlob;
    this.walkRun = exports.readRun;
    this.u8 = this.i32 = this.f64 = null!;
    this.views(BUF_AT);
    this.routing = new WasmRouting(this.memory, ROUTING_AT, AREAS_AT, AZURE_WASM_TUPLES, Cloud.azure, AZURE_KEPT_READS);
  }

  /** Grows the memory to hold `need` bytes, and (re)makes the views. */
  private views(need: number): void {
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    const buf = this.memory.buffer;
    if (this.u8 !== null && this.u8.buffer === buf) return;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    // made after the first views: the routing's views are then over this buffer already
    if (this.routing !== undefined) this.routing.memoryGrew();
  }

  /**
   * Copies a blob into the module, once, before its records' tuples are read: false (nothing
   * copied) when it is larger than AZURE_WASM_BLOB. With a sink that allows it, its tuples
   * are routed (the shards' areas made first: the blob lies past them).
   *
   * Where the areas hold several reads (one shard: a sink may keep their rows from blob to
   * blob, FlowSink addRouted), the memory is grown once to hold the largest blob: a growth
   * detaches the memory's buffer, and with it the views of the rows the sink keeps.
   */
  load(blob: Uint8Array, sink?: FlowSink): boolean {
    if (blob.length > AZURE_WASM_BLOB) return false;
    this.sink = sink ?? null;
    this.routesBlob = sink !== undefined && this.routes && sink.routable;
    if (this.routesBlob) this.routing.settings(sink!, true, (this.settingsBlank = false));
    else this.routing.off();
    // past every area made: rows a sink keeps there stay whole whatever this blob's routing
    this.bufAt = this.routing.areasEnd;
    this.views(this.bufAt + (this.routing.keepsReads ? AZURE_WASM_BLOB : blob.length) + 16); // slack for the module's vector loads
    this.u8.set(blob, this.bufAt);
    this.u8.fill(0, this.bufAt + blob.length, this.bufAt + blob.length + 16);
    this.blobLength = blob.length;
    this.areaRows = 0;
    this.newBlob();
    return true;
  }

  /**
   * The record at `start` of the blob last loaded walked by the module (assembly/azure-tuples.ts
   * readRecord), when it is written plainly: the offset just past it, its envelope spans in
   * envS/envE (-1: absent), its tuple count in recordTuples; -1 when the JavaScript walk is to
   * read it. Its tuples' spans stay in the module until spans() copies them (a record the module
   * then reads whole, from its start, needs none of them in JavaScript).
   */
  readRecord(start: number, envS: Int32Array, envE: Int32Array): number {
    const end = this.walkRecord(this.bufAt, start, this.blobLength, RECORD_AT, SPANS_AT, AZURE_WASM_TUPLES);
    if (end < 0) return -1;
    const i32 = this.i32;
    const b = RECORD_AT >> 2;
    for (let f = 0; f < envS.length; f++) {
      envS[f] = i32[b + 2 * f]!;
      envE[f] = i32[b + 2 * f + 1]!;
    }
    this.recordVersion = i32[b + 10]!;
    this.recordFlags = i32[b + 11]!;
    this.recordTuples = i32[b + 12]!;
    return end;
  }

  /** The tuples' count of the record readRecord read. */
  recordTuples = 0;

  /** Tuple k's MAC span (blob offsets; start -1: none) of the record readRecord read, before spans() copies them. */
  macStartOf(k: number): number {
    return this.i32[(MACS_AT >> 2) + k]!;
  }
  macEndOf(k: number): number {
    return this.i32[(MACE_AT >> 2) + k]!;
  }

  /**
   * The tuples' spans of the record readRecord read, into `tuples` (relative to the blob), as
   * the JavaScript walk gives them: before any other call of the module.
   */
  spans(tuples: TupleSpans): void {
    const i32 = this.i32;
    const n = this.recordTuples;
    tuples.reserve(n);
    const { s, e, off, inArena, macS, macE, macInArena } = tuples;
    for (let k = 0; k < n; k++) {
      const ts = i32[(SPANS_AT >> 2) + k]!;
      s[k] = ts;
      e[k] = i32[(ENDS_AT >> 2) + k]!;
      off[k] = ts - 1; // the tuple's '"', where the JavaScript walk counts it from
      inArena[k] = 0;
      macS[k] = i32[(MACS_AT >> 2) + k]!;
      macE[k] = i32[(MACE_AT >> 2) + k]!;
      macInArena[k] = 0;
    }
    tuples.n = n;
  }

  /**
   * The version (0: absent, -1: not a positive integer) and flags (1: NSG flows seen, 2: VNet
   * flowRecords seen, RecordFlag.sameIds) of the record readRecord read.
   */
  recordVersion = 0;
  recordFlags = 0;

  /**
   * Reads the n tuples blob[starts[k], ends[k]) of the blob last loaded into rows: false,
   * having read nothing, when they are too many for one call. Routed (load) with the
   * record's region (regionBlank: it is the empty string); addCounts then adds what the read counted.
   * The shards' areas are emptied first, unless keepAreas: their rows routed by the reads
   * before it (up to AZURE_WASM_TUPLES in all) are kept, and its rows put after them.
   * walked: the spans are those readRecord just gave (they are in the module already).
   * False too when the kept rows and these would be more than the areas hold.
   */
  read(starts: Int32Array, ends: Int32Array, n: number, layout: TupleLayout, version: number, regionBlank = false, keepAreas = false, walked = false): boolean {
    if (n > AZURE_WASM_TUPLES) return false;
    const kept = keepAreas ? this.areaRows : 0;
    if (kept + n > AZURE_WASM_TUPLES) return false;
    this.areaRows = kept + n;
    const i32 = this.i32;
    if (!walked) {
      for (let k = 0; k < n; k++) {
        i32[(SPANS_AT >> 2) + k] = starts[k]!;
        i32[(ENDS_AT >> 2) + k] = ends[k]!;
      }
    }
    // the settings of a blob change only with the record's region (the sink's are the blob's)
    // and, for a read that empties the areas, with where the shards' batches are filled to
    // (FlowSink.areaStart: the areas' first slots; kept areas go on from their counts)
    if (this.routesBlob && (!keepAreas || regionBlank !== this.settingsBlank)) this.routing.settings(this.sink!, true, (this.settingsBlank = regionBlank));
    this.readTuples(this.bufAt, n, SPANS_AT, ENDS_AT, ROWS_AT, layout, version, ROUTING_AT, keepAreas ? 1 : 0);
    return true;
  }

  /**
   * The records after the one ending at `end` that the module reads and routes whole into the
   * shards' areas (assembly/azure-tuples.ts readRun), string ids written beside them: each with
   * the identity strings and layout (nsg) of the record before it, whose string ids these are,
   * every tuple's MAC none or the bytes blob[macS, macE) (-1: none), whose interface id is
   * iface, at most `room` tuples in all. The number read (0: none; the blob must be routed
   * into areas); runEnd and runTuples then say where the last ended and how many tuples they
   * held. addCounts then adds what they counted.
   */
  readRun(end: number, account: number, region: number, instance: number, nsg: boolean, macS: number, macE: number, iface: number, room: number): number {
    return this.run(end, account, region, instance, nsg, macS, macE, iface, room, 0);
  }

  /**
   * readRun from the record at `start` itself, the one readRecord just walked (its ids looked up
   * by the caller, its MAC's interface iface): that record and the ones after it, as readRun
   * reads them, and 0 (nothing routed) when that record cannot be read whole. keepAreas: the
   * shards' areas keep the rows routed before (else they start empty, as a read that does not
   * keep them); regionBlank as read's.
   */
  readRunFrom(start: number, account: number, region: number, instance: number, nsg: boolean, macS: number, macE: number, iface: number, keepAreas: boolean, regionBlank: boolean): number {
    if (!this.routesBlob) return 0;
    if (!keepAreas) this.areaRows = 0;
    if (!keepAreas || regionBlank !== this.settingsBlank) this.routing.settings(this.sink!, true, (this.settingsBlank = regionBlank));
    return this.run(start, account, region, instance, nsg, macS, macE, iface, AZURE_WASM_TUPLES, RUN_SELF | (keepAreas ? RUN_KEEP : 0));
  }

  private run(end: number, account: number, region: number, instance: number, nsg: boolean, macS: number, macE: number, iface: number, room: number, flags: number): number {
    const i32 = this.i32;
    const b = RUN_AT >> 2;
    i32[b] = account;
    i32[b + 1] = region;
    i32[b + 2] = instance;
    i32[b + 3] = nsg ? TupleLayout.nsg : TupleLayout.vnet;
    i32[b + 4] = macS;
    i32[b + 5] = macE;
    i32[b + 6] = iface;
    i32[b + 7] = Math.max(0, Math.min(room, AZURE_WASM_TUPLES - this.areaRows)); // no more than the areas hold
    i32[b + 10] = flags;
    const records = this.walkRun(this.bufAt, end, this.blobLength, RECORD_AT, SPANS_AT, AZURE_WASM_TUPLES, ROWS_AT, ROUTING_AT, RUN_AT);
    this.runTuples = i32[b + 8]!;
    this.runEnd = i32[b + 9]!;
    this.areaRows += this.runTuples;
    return records;
  }

  /** The tuples of the records the last readRun read, and the offset just past the last. */
  runTuples = 0;
  runEnd = 0;

  /** The shards' areas of the last read (null: the tuples it routed are appended from a FlowRecord). */
  get routedAreas(): RoutedColumns | null {
    return this.routing.routedAreas;
  }

  /** What the last read counted of the tuples it routed itself, added to the sink's counters (as emit would have). */
  addCounts(sink: FlowSink): void {
    this.routing.addCounts(sink);
  }

  /** Row k's route when taken: its shard, ROUTE_DONE or ROUTE_EMIT (wasm-route.ts); -3 when not taken. */
  routeOf(k: number): number {
    const r = (ROWS_AT + k * ROW_BYTES) >> 2;
    return this.i32[r] === 0 ? NOT_TAKEN : this.i32[r + 14]!;
  }

  /** A routed row k's Feed bits and slot in its shard's area (feed | slot << 2). */
  feedOf(k: number): number {
    return this.i32[((ROWS_AT + k * ROW_BYTES) >> 2) + 15]! >>> 0;
  }

  /** Row k's direction (a taken row). */
  directionOf(k: number): number {
    return this.i32[((ROWS_AT + k * ROW_BYTES) >> 2) + 2]!;
  }

  /** Row k into rec (as azure-fast.ts fills it): true, or false when the tuple is not taken. */
  take(rec: FlowRecord, k: number): boolean {
    const r = (ROWS_AT + k * ROW_BYTES) >> 2;
    const i32 = this.i32;
    if (i32[r] === 0) return false;
    const f = r >> 1;
    const t = this.f64[f + 4]!;
    rec.start = t;
    rec.end = t;
    rec.proto = i32[r + 1]!;
    rec.direction = i32[r + 2]!;
    rec.action = i32[r + 3]!;
    rec.sport = i32[r + 4]!;
    rec.dport = i32[r + 5]!;
    writeV4(rec.src, i32[r + 6]!);
    writeV4(rec.dst, i32[r + 7]!);
    rec.packets = this.f64[f + 5]!;
    rec.bytes = this.f64[f + 6]!;
    return true;
  }
}

/** An IPv4 address as the sink's IPv4-mapped words (as azure-fast.ts ipv4To writes it). */
function writeV4(out: Uint32Array, v: number): void {
  out[0] = 0;
  out[1] = 0;
  out[2] = V4_MAPPED_W2;
  out[3] = v;
}

const choice = new WasmReaderChoice('azure-tuples.wasm', 'FLOWSIEVE_AZURE_READER', (module, routes) => new AzureWasm(module, routes));

/** The Azure tuple readers (`FLOWSIEVE_AZURE_READER`). */
export type AzureReaderKind = WasmReaderKind;

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript reader is to run. */
export function azureWasm(): AzureWasm | null {
  return choice.current();
}

/** For tests and benchmarks: choose the reader of the parsers opened from now on in this thread. */
export function setAzureReader(kind: AzureReaderKind): void {
  choice.choose(kind);
}
