/**
 * Azure flow-log blobs (formats.md §2): NSG flow logs (`NetworkSecurityGroupFlowEvent`,
 * v1/v2, azure-nsg.ts) and VNet flow logs (`FlowLogFlowEvent`, azure-vnet.ts).
 *
 * Container: `{"records":[ … ]}` (PT1H.json, compact or pretty-printed), or one record
 * per line / a JSON array of records (Event Hub and pipeline exports). Each tuple of
 * `records[].properties.flows[].flows[].flowTuples` (NSG) or
 * `records[].flowRecords.flows[].flowGroups[].flowTuples` (VNet) is one flow record.
 *
 * The tuple layout is chosen per record from its `category` (or, when a record has
 * none, from where its tuples are: `properties.flows` is NSG, `flowRecords` VNet),
 * never from the tuple's field count: NSG v2 and VNet tuples both have 13 fields.
 * A record is emitted when it closes, because JSON does not order keys: `category` or
 * `properties.Version` may come after the tuples. So a blob cut half-way (still being
 * written, or truncated) yields every complete record before the cut.
 *
 * Identity (detection.md §2): cloud azure; account = subscription id (lower case) from the
 * NSG's `resourceId` or the VNet flow log's `targetResourceID` / `flowLogResourceID`;
 * region from --region-map: the most specific of the resource id (then each parent
 * resource: resource group, subscription) and the bare subscription id, matched without
 * case, else --region, else ""; interface = NIC MAC (upper case, no separators: NSG
 * `flows[].mac`, VNet `macAddress`); instance = the NSG's name, or the name of the VNet
 * flow log's target (VNet, subnet or NIC).
 *
 * Counting (detection.md §6, sink.ts accountingGap): `counters.lines` counts input units, each
 * with one fate: every tuple (a record, a no-flow tuple or a reject), a record object
 * with no tuples (no-data), and a record object refused as a whole (one reject, however
 * many tuples it held). Keys are matched without case (`resourceId` is also spelled
 * `resourceid`).
 */
import { Cloud, Direction, Feed } from '../flow/types.js';
import { ByteDict } from '../flow/dict.js';
import type { FlowSink } from '../flow/sink.js';
import type { DocumentReader, ReaderContext, SniffHead } from './types.js';
import { JsonScanner, LineCounter, lit } from './json-bytes.js';
import { readOrStepOver, walkDocument, type DocHandler } from './json-doc.js';
import { NO_FLOW } from './azure-tuple.js';
import { NSG_CATEGORY, nsgTuple } from './azure-nsg.js';
import { VNET_CATEGORY, vnetTuple } from './azure-vnet.js';
import { nsgTupleFast, vnetTupleFast } from './azure-fast.js';
import { AZURE_WASM_TUPLES, azureWasm, NOT_TAKEN, RecordFlag, TupleLayout, type AzureWasm } from './azure-wasm.js';
import { ROUTE_DONE } from './wasm-route.js';

/** Off only in tests, to compare the tuple fast path (azure-fast.ts) with the full readers. */
export const azureFastPath = { enabled: true };

const K_RECORDS = lit('records');
const K_CATEGORY = lit('category');
const K_RESOURCEID = lit('resourceid');
const K_PROPERTIES = lit('properties');
const K_VERSION = lit('version');
const K_FLOWS = lit('flows');
const K_MAC = lit('mac');
const K_FLOWTUPLES = lit('flowtuples');
const K_MACADDRESS = lit('macaddress');
const K_FLOWLOGRESOURCEID = lit('flowlogresourceid');
const K_TARGETRESOURCEID = lit('targetresourceid');
const K_FLOWRECORDS = lit('flowrecords');
const K_FLOWGROUPS = lit('flowgroups');
const CAT_NSG = lit(NSG_CATEGORY.toLowerCase());
const CAT_VNET = lit(VNET_CATEGORY.toLowerCase());

/** Envelope strings kept per record. */
const enum Env { category, resourceId, target, flowLog, mac, count }
const enum Layout { none, nsg, vnet }

const REJECT_TEXT = 200;

/** Growable list of string spans, in the input or (flag set) in the scanner's arena. */
class Spans {
  s = new Int32Array(256);
  e = new Int32Array(256);
  inArena = new Uint8Array(256);
  off = new Int32Array(256); // where the string starts in the input (for line numbers)
  macS = new Int32Array(256); // the tuple's MAC (NSG: its flows[] group's; VNet: its record's), -1 when none
  macE = new Int32Array(256);
  macInArena = new Uint8Array(256);
  n = 0;

  push(sc: JsonScanner, off: number): void {
    if (this.n === this.s.length) this.grow();
    const i = this.n++;
    this.s[i] = sc.strS;
    this.e[i] = sc.strE;
    this.inArena[i] = sc.strInArena ? 1 : 0;
    this.off[i] = off;
    this.macS[i] = -1;
  }

  reserve(n: number): void {
    while (this.s.length < n) this.grow();
  }

  setMac(from: number, s: number, e: number, inArena: boolean): void {
    for (let i = from; i < this.n; i++) {
      this.macS[i] = s;
      this.macE[i] = e;
      this.macInArena[i] = inArena ? 1 : 0;
    }
  }

  private grow(): void {
    const n = this.s.length * 2;
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    this.s = g32(this.s);
    this.e = g32(this.e);
    this.off = g32(this.off);
    this.macS = g32(this.macS);
    this.macE = g32(this.macE);
    this.inArena = g8(this.inArena);
    this.macInArena = g8(this.macInArena);
  }
}

const decoder = new TextDecoder();

/** Subscription id in a resource id ("/subscriptions/<id>/…"), lower case, or "". */
export function subscriptionOf(resourceId: string): string {
  const m = /^\/?subscriptions\/([^/]+)/i.exec(resourceId);
  return m ? m[1]!.toLowerCase() : '';
}

/** Region-map keys to try for a resource id, most specific first: the id, then each parent, down to the subscription. */
function regionKeys(resourceId: string): string[] {
  const id = resourceId.toLowerCase().replace(/\/+$/, '');
  const keys: string[] = [];
  const floor = /^\/?subscriptions\/[^/]+/.exec(id)?.[0].length ?? id.length;
  for (let end = id.length; end >= floor && end > 0; end = id.lastIndexOf('/', end - 1)) keys.push(id.slice(0, end));
  return keys;
}

/** Each sink's last Identities (Identities.of); a sink no longer used is let go with them. */
const identitiesBySink = new WeakMap<FlowSink, Identities>();

/** Record-level identity per resource: resolved once, then looked up by the id's bytes. */
class Identities {
  private readonly keys = new ByteDict();
  private account = new Int32Array(16).fill(-1); // -1: not resolved yet
  private region = new Int32Array(16);
  private instance = new Int32Array(16);
  private scratch = new Uint8Array(512);
  /** The last key looked up (its bytes stay in scratch) and its identity; -1: none yet. */
  private lastN = -1;
  private lastId = 0;
  private readonly regionMap = new Map<string, string>();
  private readonly defaultAccount: number;
  private readonly defaultRegion: number;

  constructor(
    private readonly sink: FlowSink,
    ctx: ReaderContext,
  ) {
    for (const [k, v] of Object.entries(ctx.regionMap ?? {})) this.regionMap.set(k.toLowerCase(), v);
    this.defaultAccount = sink.dict.idOf(ctx.account);
    this.defaultRegion = sink.dict.idOf(ctx.region);
    this.from = { regionMap: ctx.regionMap, account: ctx.account, region: ctx.region };
  }

  /** What the identities were resolved with, besides the sink's dictionary. */
  private readonly from: Pick<ReaderContext, 'regionMap' | 'account' | 'region'>;

  /**
   * The identities for a blob read into `sink` with ctx: those of the sink's last blob when it
   * was read with the same region map, account and region (ids of the same dictionary), else
   * new ones. A task's blobs share one sink, and an Azure container's blobs name a handful of
   * resources: each was resolved again a blob (subscription, region-map keys, dictionary
   * lookups), ~10 % of the reader's first pass over 696 blobs.
   */
  static of(sink: FlowSink, ctx: ReaderContext): Identities {
    const last = identitiesBySink.get(sink);
    const f = last?.from;
    if (last !== undefined && f!.regionMap === ctx.regionMap && f!.account === ctx.account && f!.region === ctx.region) return last;
    const ids = new Identities(sink, ctx);
    identitiesBySink.set(sink, ids);
    return ids;
  }

  /** Index of the identity for (primary, secondary) resource ids (either may be empty). */
  lookup(pb: Uint8Array, ps: number, pe: number, sb: Uint8Array, ss: number, se: number): number {
    const n = pe - ps + 1 + (se - ss);
    // the records of a blob name one resource: compare with the last key before hashing
    if (n === this.lastN && this.isLast(pb, ps, pe, 0) && this.isLast(sb, ss, se, pe - ps + 1)) return this.lastId;
    if (n > this.scratch.length) this.scratch = new Uint8Array(n * 2);
    const k = this.scratch;
    for (let i = ps; i < pe; i++) k[i - ps] = pb[i]!;
    k[pe - ps] = 10;
    for (let i = ss; i < se; i++) k[i - ss + pe - ps + 1] = sb[i]!;
    const id = this.keys.idOfBytes(k, 0, n);
    this.lastN = n;
    this.lastId = id;
    if (id >= this.account.length) this.grow(id);
    if (this.account[id]! < 0) this.resolve(id, decoder.decode(pb.subarray(ps, pe)), decoder.decode(sb.subarray(ss, se)));
    return id;
  }

  /** b[s, e) equals the last key's bytes from `from` (the scratch holds the last key). */
  private isLast(b: Uint8Array, s: number, e: number, from: number): boolean {
    const k = this.scratch;
    for (let i = s; i < e; i++) if (b[i] !== k[i - s + from]) return false;
    return true;
  }

  accountOf(i: number): number {
    return this.account[i]!;
  }
  regionOf(i: number): number {
    return this.region[i]!;
  }
  instanceOf(i: number): number {
    return this.instance[i]!;
  }

  private grow(id: number): void {
    const n = Math.max(this.account.length * 2, id + 1);
    const g = (a: Int32Array) => {
      const b = new Int32Array(n).fill(-1);
      b.set(a);
      return b;
    };
    this.account = g(this.account);
    this.region = g(this.region);
    this.instance = g(this.instance);
  }

  private resolve(id: number, primary: string, secondary: string): void {
    const dict = this.sink.dict;
    const sub = subscriptionOf(primary) || subscriptionOf(secondary);
    this.account[id] = sub ? dict.idOf(sub) : this.defaultAccount;
    let region = this.defaultRegion;
    // pushed, not spread: a spread of arrays of two kinds made V8 throw away the optimised
    // lookup (into which this is inlined) at the first blob of another resource ("wrong map")
    const keys = primary ? regionKeys(primary) : [];
    if (secondary) for (const k of regionKeys(secondary)) keys.push(k);
    keys.push(sub);
    for (const key of keys) {
      const r = key ? this.regionMap.get(key) : undefined;
      if (r !== undefined) {
        region = dict.idOf(r);
        break;
      }
    }
    this.region[id] = region;
    const name = primary.replace(/\/+$/, '');
    this.instance[id] = name ? dict.idOf(name.slice(name.lastIndexOf('/') + 1)) : 0;
  }
}

/**
 * The scanner and the tuple list are scratch: a thread reads one document at a time, to the
 * end, so its documents share one of each instead of allocating ~10 KiB a blob (an Azure
 * container is hundreds of small blobs).
 */
let shared: { sc: JsonScanner; tuples: Spans } | null = null;
const NO_BYTES = new Uint8Array(0);
function scratch(): { sc: JsonScanner; tuples: Spans } {
  return (shared ??= { sc: new JsonScanner(), tuples: new Spans() });
}

class AzureDocument implements DocHandler {
  // scratch shared by the documents a thread reads one after the other (see scratch())
  private readonly sc = scratch().sc;
  private readonly lines: LineCounter;
  private readonly sink: FlowSink;
  private readonly ids: Identities;
  // the record being read
  private recStart = 0;
  private recIndex = -1;
  private readonly envS = new Int32Array(Env.count);
  private readonly envE = new Int32Array(Env.count);
  private readonly envInArena = new Uint8Array(Env.count);
  private version = 0;
  private sawNsgFlows = false;
  private sawVnetFlows = false;
  private nested = false;
  private bad: string | null = null;
  private readonly tuples = scratch().tuples;
  // NSG interface ids, cached while consecutive tuples share a MAC
  private macKey = -2;
  private macId = 0;
  private macScratch = new Uint8Array(64);
  /** The last MAC macOf read, as written (macRawN bytes; -1: none), and its id. */
  private readonly macRaw = new Uint8Array(64);
  private macRawN = -1;
  private macRawId = 0;
  private wasm = azureWasm();
  /**
   * The module's routed rows stay in its areas from record to record (the sink's routed
   * session, beginRouted, open) until they may fill (AZURE_WASM_TUPLES rows) or the blob
   * ends: the sink copies them a run at a time, not a record (often one tuple) at a time.
   * -1: no session open; else the rows the areas may hold by now.
   */
  private routedRows = -1;
  /**
   * The identity (Identities.lookup) of the last record the module walked, when its lookup was
   * made (-1: not), and its layout: a record the module finds with the same identity strings
   * (RecordFlag.sameIds) and layout has it too, without the lookup's compare of ~100 bytes.
   */
  private walkedWho = -1;
  private walkedNsg = false;
  /** The record being ended was walked by the module, and walkedWho is its identity if sameIds said so (else -1). */
  private inModule = false;
  private knownWho = -1;
  /** The module's flags (RecordFlag) of the record being ended, when inModule. */
  private moduleFlags = 0;

  constructor(
    private readonly buf: Uint8Array,
    ctx: ReaderContext,
  ) {
    this.sink = ctx.sink;
    this.lines = new LineCounter(buf);
    this.ids = Identities.of(ctx.sink, ctx);
    this.envS.fill(-1);
  }

  run(): void {
    // the WebAssembly reader reads the tuples where they stand in the blob: copied in once
    if (this.wasm !== null && !this.wasm.load(this.buf, this.sink)) this.wasm = null;
    try {
      walkDocument(this.buf, this.sink, this.sc, this.lines, this);
    } finally {
      this.endRouted();
      this.sc.reset(NO_BYTES, 0, 0, false); // the shared scanner lets go of the blob
    }
  }

  context(): string {
    return this.recIndex >= 0 ? `records[${this.recIndex}] (from line ${this.lines.lineAt(this.recStart)})` : '';
  }

  /** A top-level value: a {"records":[…]} wrapper or one record. */
  value(start: number): void {
    const sc = this.sc;
    this.recIndex = -1;
    if (sc.peek() !== 123) {
      this.notARecord(start, 'not an object');
      return;
    }
    if (!sc.openObject()) {
      this.sink.counters.lines++;
      this.sink.reject(this.lines.lineAt(start), start, 'empty object (not a flow-log record)', this.buf, start, sc.pos);
      return;
    }
    sc.key();
    if (sc.isCI(K_RECORDS)) {
      this.wrapper();
      return;
    }
    this.beginRecord(start);
    this.member();
    while (sc.nextMember()) {
      sc.key();
      this.member();
    }
    this.endRecord();
  }

  /** The members of {"records":[…], …}, after the first key "records". */
  private wrapper(): void {
    const sc = this.sc;
    for (;;) {
      if (sc.isCI(K_RECORDS)) {
        const at = sc.peek() === 91 ? sc.pos : -1;
        if (at < 0) this.notARecord(sc.pos, '"records" is not an array');
        else if (sc.openArray()) {
          let i = 0;
          do i = this.recordAt(i);
          while (sc.nextElement());
        }
        this.recIndex = -1;
      } else {
        sc.skip();
      }
      if (!sc.nextMember()) return;
      sc.key();
    }
  }

  /** records[i] read, and the records after it that the module reads at once (moduleRun): the index of the next. */
  private recordAt(i: number): number {
    const sc = this.sc;
    sc.peek();
    const start = sc.pos;
    this.recIndex = i;
    if (sc.peek() !== 123) {
      this.notARecord(start, `records[${i}] is not an object`);
      return i + 1;
    }
    sc.arenaLen = 0;
    this.recStart = start;
    const next = this.wasmRecord(start, i);
    if (next >= 0) return next;
    // a record that is bad inside but ends is one reject; the next record is read on
    readOrStepOver(sc, this.sink, this.lines, start, this.readRecord, this.where);
    return i + 1;
  }

  /**
   * After a record the module walked and this reader ended with its identity (walkedWho), the
   * records after it that the module reads and routes whole (AzureWasm.readRun: same identity
   * strings and layout, the same MAC or none, every tuple routed into the areas), with no
   * JavaScript a record: records[i] on. The index of the next record left to recordAt.
   */
  private moduleRun(i: number): number {
    if (this.walkedWho < 0 || this.routedRows < 0) return i;
    const w = this.wasm!;
    const t = this.tuples;
    const who = this.walkedWho;
    const last = t.n - 1; // its last tuple's MAC, whose id macOf gave last (endRecord: t.n > 0)
    const n = w.readRun(
      this.sc.pos, this.ids.accountOf(who), this.ids.regionOf(who), this.ids.instanceOf(who), this.walkedNsg,
      t.macS[last]!, t.macE[last]!, this.macId, AZURE_WASM_TUPLES - this.routedRows,
    );
    if (n === 0) return i;
    const sink = this.sink;
    this.sc.pos = w.runEnd;
    sink.counters.lines += w.runTuples;
    w.addCounts(sink);
    sink.routedUpToCounts(); // every row in the areas has its ids
    this.routedRows += w.runTuples;
    return i + n;
  }

  /**
   * records[i] at start walked by the WebAssembly reader (azure-wasm.ts readRecord) when it is
   * written plainly, then read and routed whole by the module with the records after it
   * (wholeRun), or ended as readRecord ends it and the records after it read by moduleRun: the
   * index of the next record; -1 when readRecord is to walk it.
   */
  private wasmRecord(start: number, i: number): number {
    const w = this.wasm;
    if (w === null || !azureFastPath.enabled) return -1;
    this.beginRecord(start);
    const end = w.readRecord(start, this.envS, this.envE);
    if (end < 0) return -1; // readRecord begins the record again
    this.envInArena.fill(0);
    this.version = w.recordVersion;
    const flags = (this.moduleFlags = w.recordFlags);
    this.sawNsgFlows = (flags & RecordFlag.nsgFlows) !== 0;
    this.sawVnetFlows = (flags & RecordFlag.vnetFlows) !== 0;
    this.knownWho = (flags & RecordFlag.sameIds) !== 0 ? this.walkedWho : -1;
    this.walkedWho = -1; // until this record's lookup
    this.inModule = true;
    const whole = this.wholeRun(start);
    if (whole > 0) {
      this.inModule = false;
      return i + whole;
    }
    w.spans(this.tuples); // still those of this record: a run that reads nothing stops at it
    this.sc.pos = end;
    this.endRecord();
    this.inModule = false;
    return this.moduleRun(i + 1);
  }

  /**
   * The record the module just walked, at start, and the records after it, read and routed
   * whole by the module (AzureWasm.readRunFrom) when its layout is plain and every tuple is
   * routed: no JavaScript a tuple, where endRecord read the first record of every blob, its
   * tuples one by one (and V8 compiled that path, ~10-30 ms of its threads a run). The
   * records read (0: none, nothing routed: endRecord ends it); the position past the last.
   */
  private wholeRun(start: number): number {
    const w = this.wasm!;
    const n = w.recordTuples; // its spans are still in the module (AzureWasm.spans)
    if (n === 0 || n > AZURE_WASM_TUPLES || !this.sink.routable) return 0;
    // the layout as layout() gives it, without its reject: a record it refuses is endRecord's
    const flags = this.moduleFlags;
    const hasCategory = this.envS[Env.category]! >= 0;
    const nsg = hasCategory ? (flags & RecordFlag.categoryNsg) !== 0 : this.sawNsgFlows;
    const vnet = hasCategory ? (flags & RecordFlag.categoryVnet) !== 0 : !this.sawNsgFlows && this.sawVnetFlows;
    if (!nsg && !vnet) return 0;
    const who = this.identity(nsg);
    const last = n - 1;
    const ms = w.macStartOf(last);
    const me = w.macEndOf(last);
    const iface = ms < 0 ? 0 : this.macOf(this.buf, ms, me);
    // the areas are emptied first when the record's tuples may not fit: what they hold is copied first
    if (this.routedRows + n > AZURE_WASM_TUPLES) this.endRouted();
    const keep = this.routedRows >= 0;
    const region = this.ids.regionOf(who);
    const read = w.readRunFrom(start, this.ids.accountOf(who), region, this.ids.instanceOf(who), nsg, ms, me, iface, keep, region === 0);
    if (read === 0) return 0;
    const sink = this.sink;
    const areas = w.routedAreas!;
    if (!keep) {
      sink.beginRouted(areas);
      this.routedRows = 0;
    }
    sink.counters.lines += w.runTuples;
    w.addCounts(sink);
    sink.routedUpToCounts(); // every row in the areas has its ids
    this.routedRows += w.runTuples;
    // as endRecord leaves them: the next record the module walks may be read by moduleRun with these
    this.walkedWho = who;
    this.walkedNsg = nsg;
    this.macKey = ms;
    this.macId = iface;
    this.sc.pos = w.runEnd;
    return read;
  }

  /** The record at recStart (bound once: no closure per record). */
  private readonly readRecord = (): void => {
    const sc = this.sc;
    this.beginRecord(this.recStart);
    if (sc.openObject()) {
      do {
        sc.key();
        this.member();
      } while (sc.nextMember());
    }
    this.endRecord();
  };

  private readonly where = (): string => this.context();

  private notARecord(start: number, reason: string): void {
    this.sc.skip(); // first: a syntax error here is counted by the walker, not twice
    this.sink.counters.lines++;
    this.sink.reject(this.lines.lineAt(start), start, reason, this.buf, start, Math.min(this.sc.pos, start + REJECT_TEXT));
  }

  private beginRecord(start: number): void {
    this.recStart = start;
    this.envS.fill(-1);
    this.version = 0;
    this.sawNsgFlows = false;
    this.sawVnetFlows = false;
    this.nested = false;
    this.bad = null;
    this.tuples.n = 0;
  }

  /** One member of a record; its key has just been read. */
  private member(): void {
    const sc = this.sc;
    if (sc.isCI(K_CATEGORY)) this.envString(Env.category, 'category');
    else if (sc.isCI(K_RESOURCEID)) this.envString(Env.resourceId, 'resourceId');
    else if (sc.isCI(K_TARGETRESOURCEID)) this.envString(Env.target, 'targetResourceID');
    else if (sc.isCI(K_FLOWLOGRESOURCEID)) this.envString(Env.flowLog, 'flowLogResourceID');
    else if (sc.isCI(K_MACADDRESS)) this.envString(Env.mac, 'macAddress');
    else if (sc.isCI(K_PROPERTIES)) this.properties();
    else if (sc.isCI(K_FLOWRECORDS)) this.flowRecords();
    else if (sc.isCI(K_RECORDS)) {
      this.nested = true;
      sc.skip();
    } else sc.skip();
  }

  private envString(f: Env, name: string): void {
    const sc = this.sc;
    if (sc.peek() === 34) {
      sc.str();
      this.envS[f] = sc.strS;
      this.envE[f] = sc.strE;
      this.envInArena[f] = sc.strInArena ? 1 : 0;
    } else if (!sc.skipNull()) {
      this.bad ??= `${name} is not a string`;
      sc.skip();
    }
  }

  /** Positioned inside a non-empty array: true; an empty array or null: false; anything else is noted and skipped. */
  private array(name: string): boolean {
    const sc = this.sc;
    if (sc.peek() === 91) return sc.openArray();
    if (!sc.skipNull()) {
      this.bad ??= `${name} is not an array`;
      sc.skip();
    }
    return false;
  }

  /** Positioned inside a non-empty object: true; otherwise as array(). */
  private object(name: string): boolean {
    const sc = this.sc;
    if (sc.peek() === 123) return sc.openObject();
    if (!sc.skipNull()) {
      this.bad ??= `${name} is not an object`;
      sc.skip();
    }
    return false;
  }

  /** NSG: properties {Version, flows: [{rule, flows: [{mac, flowTuples}]}]}. */
  private properties(): void {
    const sc = this.sc;
    if (!this.object('properties')) return;
    do {
      sc.key();
      if (sc.isCI(K_VERSION)) this.readVersion();
      else if (sc.isCI(K_FLOWS)) {
        this.sawNsgFlows = true;
        if (!this.array('properties.flows')) continue;
        do {
          if (!this.object('properties.flows[]')) continue;
          do {
            sc.key();
            if (sc.isCI(K_FLOWS)) this.nsgMacGroups();
            else sc.skip();
          } while (sc.nextMember());
        } while (sc.nextElement());
      } else sc.skip();
    } while (sc.nextMember());
  }

  private readVersion(): void {
    const sc = this.sc;
    const c = sc.peek();
    let v = -1;
    if (c === 45 || (c >= 48 && c <= 57)) v = sc.num();
    else if (c === 34) {
      sc.str();
      v = Number(decoder.decode(sc.strBuf.subarray(sc.strS, sc.strE)));
    } else sc.skip();
    this.version = Number.isInteger(v) && v > 0 ? v : -1;
  }

  /** NSG: flows[].flows[] = [{mac, flowTuples}]; the MAC may come before or after the tuples. */
  private nsgMacGroups(): void {
    const sc = this.sc;
    if (!this.array('properties.flows[].flows')) return;
    do {
      if (!this.object('properties.flows[].flows[]')) continue;
      const first = this.tuples.n;
      let macS = -1;
      let macE = -1;
      let macInArena = false;
      do {
        sc.key();
        if (sc.isCI(K_MAC)) {
          if (sc.peek() === 34) {
            sc.str();
            macS = sc.strS;
            macE = sc.strE;
            macInArena = sc.strInArena;
          } else sc.skip();
        } else if (sc.isCI(K_FLOWTUPLES)) this.tupleList();
        else sc.skip();
      } while (sc.nextMember());
      if (macS >= 0) this.tuples.setMac(first, macS, macE, macInArena);
    } while (sc.nextElement());
  }

  /** VNet: flowRecords {flows: [{aclID, flowGroups: [{rule, flowTuples}]}]}. */
  private flowRecords(): void {
    const sc = this.sc;
    this.sawVnetFlows = true;
    if (!this.object('flowRecords')) return;
    do {
      sc.key();
      if (!sc.isCI(K_FLOWS)) {
        sc.skip();
        continue;
      }
      if (!this.array('flowRecords.flows')) continue;
      do {
        if (!this.object('flowRecords.flows[]')) continue;
        do {
          sc.key();
          if (!sc.isCI(K_FLOWGROUPS)) {
            sc.skip();
            continue;
          }
          if (!this.array('flowGroups')) continue;
          do {
            if (!this.object('flowGroups[]')) continue;
            do {
              sc.key();
              if (sc.isCI(K_FLOWTUPLES)) this.tupleList();
              else sc.skip();
            } while (sc.nextMember());
          } while (sc.nextElement());
        } while (sc.nextMember());
      } while (sc.nextElement());
    } while (sc.nextMember());
  }

  private tupleList(): void {
    const sc = this.sc;
    if (!this.array('flowTuples')) return;
    do {
      if (sc.peek() === 34) {
        const off = sc.pos;
        sc.str();
        this.tuples.push(sc, off);
      } else {
        this.bad ??= 'a flowTuples element is not a string';
        sc.skip();
      }
    } while (sc.nextElement());
  }

  private envBuf(f: Env): Uint8Array {
    return this.envInArena[f] ? this.sc.arena : this.buf;
  }

  private categoryIs(name: Uint8Array): boolean {
    const b = this.envBuf(Env.category);
    const s = this.envS[Env.category]!;
    const n = this.envE[Env.category]! - s;
    if (n !== name.length) return false;
    for (let k = 0; k < n; k++) {
      const c = b[s + k]!;
      if ((c >= 65 && c <= 90 ? c | 32 : c) !== name[k]) return false;
    }
    return true;
  }

  /** The record refused as a whole: one unit, one reject. */
  private recordReject(reason: string): void {
    this.sink.counters.lines++;
    const s = this.recStart;
    this.sink.reject(this.lines.lineAt(s), s, reason, this.buf, s, Math.min(this.buf.length, s + REJECT_TEXT));
  }

  private layout(): Layout {
    if (this.envS[Env.category]! >= 0) {
      // the module compared a record it walked (RecordFlag.categoryNsg, categoryVnet)
      if (this.inModule ? (this.moduleFlags & RecordFlag.categoryNsg) !== 0 : this.categoryIs(CAT_NSG)) return Layout.nsg;
      if (this.inModule ? (this.moduleFlags & RecordFlag.categoryVnet) !== 0 : this.categoryIs(CAT_VNET)) return Layout.vnet;
      const b = this.envBuf(Env.category);
      const text = decoder.decode(b.subarray(this.envS[Env.category]!, this.envE[Env.category]!));
      this.recordReject(`category '${text.slice(0, 80)}' is not ${NSG_CATEGORY} or ${VNET_CATEGORY}`);
      return Layout.none;
    }
    if (this.sawNsgFlows) return Layout.nsg;
    if (this.sawVnetFlows) return Layout.vnet;
    this.recordReject('no category and no flows: not an Azure flow-log record');
    return Layout.none;
  }

  private endRecord(): void {
    if (this.bad !== null) {
      this.recordReject(this.bad);
      return;
    }
    if (this.nested) {
      this.recordReject('a records[] element that is itself a {"records":[…]} wrapper (an error in a Microsoft sample): skipped');
      return;
    }
    const layout = this.layout();
    if (layout === Layout.none) return;
    if (this.tuples.n === 0) {
      // an envelope without flows (formats.md §2.1: flows[] may be empty): no flow to read
      this.sink.counters.lines++;
      this.sink.noData();
      return;
    }
    const nsg = layout === Layout.nsg;
    const who = this.identity(nsg);
    if (this.inModule) {
      this.walkedWho = who;
      this.walkedNsg = nsg;
    }
    const account = this.ids.accountOf(who);
    const region = this.ids.regionOf(who);
    const instance = this.ids.instanceOf(who);
    const t = this.tuples;
    // a VNet tuple's interface is its record's MAC: the module gives it to the tuples it walked
    // (assembly/azure-tuples.ts vnetMacs), so both layouts take the same path below
    if (!nsg && !this.inModule) t.setMac(0, this.envS[Env.mac]!, this.envE[Env.mac]!, this.envInArena[Env.mac] === 1);
    this.macKey = -2;

    const sink = this.sink;
    const rec = sink.rec;
    sink.counters.lines += t.n; // each tuple gets one fate below
    // the areas are emptied by a read when this record's tuples may not fit: what they hold is copied first
    if (this.routedRows + t.n > AZURE_WASM_TUPLES) this.endRouted();
    const wasm = this.wasmRead(nsg, region === 0, this.routedRows >= 0);
    // the tuples the module routed lie in the shards' areas until endRouted
    const areas = wasm !== null ? wasm.routedAreas : null;
    if (wasm !== null) wasm.addCounts(sink);
    if (areas !== null) {
      if (this.routedRows < 0) {
        sink.beginRouted(areas);
        this.routedRows = 0;
      }
      this.routedRows += t.n;
    }
    for (let i = 0; i < t.n; i++) {
      const ms = t.macS[i]!;
      if (ms !== this.macKey) {
        this.macKey = ms;
        this.macId = ms < 0 ? 0 : this.macOf(t.macInArena[i] ? this.sc.arena : this.buf, ms, t.macE[i]!);
      }
      const iface = this.macId;
      const route = wasm !== null ? wasm.routeOf(i) : NOT_TAKEN;
      if (route === ROUTE_DONE) continue; // counted by the module
      if (route >= 0 && areas !== null) {
        this.routed(wasm!, i, route, account, region, iface, instance);
        continue;
      }
      // a tuple handed to the sink in its record (routed from it, emitted or rejected)
      const tb = t.inArena[i] ? this.sc.arena : this.buf;
      const s = t.s[i]!;
      const e = t.e[i]!;
      rec.cloud = Cloud.azure;
      rec.account = account;
      rec.region = region;
      rec.instance = instance;
      rec.tcpFlags = -1;
      rec.iface = iface;
      const fast =
        (route !== NOT_TAKEN && wasm!.take(rec, i)) ||
        (azureFastPath.enabled && (nsg ? nsgTupleFast(rec, tb, s, e, this.version) : vnetTupleFast(rec, tb, s, e)));
      const why = fast ? null : nsg ? nsgTuple(rec, tb, s, e, this.version) : vnetTuple(rec, tb, s, e);
      const off = t.off[i]!;
      if (why === null) {
        if (route >= 0) sink.appendRouted(route, wasm!.feedOf(i) & 3);
        else sink.emit(this.lines.lineAt(off), off);
      } else if (why === NO_FLOW) sink.noData();
      else sink.reject(this.lines.lineAt(off), off, why, tb, s, e);
    }
  }

  /**
   * The identity (Identities.lookup) of the record being ended: from the NSG's resource id, or
   * the VNet flow log's target then its own id; that of the record the module walked before it
   * when the module found the same identity strings and layout (knownWho).
   */
  private identity(nsg: boolean): number {
    const known = this.inModule && this.walkedNsg === nsg ? this.knownWho : -1;
    if (known >= 0) return known;
    const pf = nsg ? Env.resourceId : Env.target;
    const ps = this.envS[pf]!;
    const sf = Env.flowLog;
    const ss = nsg ? -1 : this.envS[sf]!;
    return this.ids.lookup(
      this.envBuf(pf), Math.max(ps, 0), ps < 0 ? 0 : this.envE[pf]!,
      this.envBuf(sf), Math.max(ss, 0), ss < 0 ? 0 : this.envE[sf]!,
    );
  }

  /** The routed rows of the records read so far copied into the sink's batches, and its session closed (routedRows). */
  private endRouted(): void {
    if (this.routedRows < 0) return;
    this.sink.endRouted();
    this.routedRows = -1;
  }

  /**
   * A tuple the module routed into its shard's area (row k): its string ids to the sink
   * (FlowSink.appendRoutedIds, into the area beside its other columns), copied with its run.
   */
  private routed(w: AzureWasm, k: number, shard: number, account: number, region: number, iface: number, instance: number): void {
    const slotFeed = w.feedOf(k);
    // an internal record logged where it arrived: its ids are the target's, not the source host's (FlowSink append)
    const target = (slotFeed & 3) === Feed.outbound && w.directionOf(k) === Direction.ingress;
    this.sink.appendRoutedIds(shard, slotFeed >>> 2, account, region, target ? 0 : iface, target ? 0 : instance);
  }

  /**
   * The record's tuples read by the WebAssembly reader (azure-wasm.ts), whose rows endRecord
   * then takes: null when it is off, or a tuple is an unescaped copy in the arena (rare: an
   * escape in the string), or the blob or the record is too large for the module.
   */
  private wasmRead(nsg: boolean, regionBlank: boolean, keepAreas: boolean): AzureWasm | null {
    const w = this.wasm;
    if (w === null || !azureFastPath.enabled) return null;
    const t = this.tuples;
    for (let i = 0; i < t.n; i++) if (t.inArena[i]) return null;
    return w.read(t.s, t.e, t.n, nsg ? TupleLayout.nsg : TupleLayout.vnet, this.version, regionBlank, keepAreas, this.inModule) ? w : null;
  }

  /**
   * Dictionary id of a MAC written any way (00-0d-3a-…, 000D3A…): upper case, no separators.
   * The last MAC's bytes as written are kept with its id: a blob's records name one or a few
   * NICs, so most are the same bytes again.
   */
  private macOf(b: Uint8Array, s: number, e: number): number {
    const n0 = e - s;
    if (n0 > this.macScratch.length) return this.sink.dict.idOfBytes(b, s, e);
    // a MAC already in the dictionary's form (Azure writes 000D3A…) is looked up as written,
    // with no loop here: macOf runs once a blob (its first record's MAC), and its byte loops
    // alone made it hot enough for V8 to compile it, idOfBytes inlined (~12-16 ms of a
    // helper thread a run; bench/RESULTS.md, session 15 azure)
    if (!(b.buffer instanceof SharedArrayBuffer) && !FOLDED_IN_MAC.test(MAC_TEXT.decode(new Uint8Array(b.buffer, b.byteOffset + s, n0)))) {
      return this.sink.dict.idOfBytes(b, s, e);
    }
    const raw = this.macRaw;
    if (n0 === this.macRawN) {
      let k = 0;
      while (k < n0 && b[s + k] === raw[k]) k++;
      if (k === n0) return this.macRawId;
    }
    const m = this.macScratch;
    let n = 0;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      raw[i - s] = c;
      if (c === 45 || c === 58) continue;
      m[n++] = c >= 97 && c <= 122 ? c - 32 : c;
    }
    this.macRawN = n0;
    return (this.macRawId = this.sink.dict.idOfBytes(m, 0, n));
  }
}

/** What macOf folds: a separator ('-', ':') or a lower-case letter. */
const FOLDED_IN_MAC = /[-:a-z]/;
/** UTF-8, as a test of ASCII bytes: each is its own character, and no other byte decodes to one (a shared buffer it refuses: macOf's loop reads those). */
const MAC_TEXT = new TextDecoder();

function parseAzure(buf: Uint8Array, ctx: ReaderContext): void {
  new AzureDocument(buf, ctx).run();
}

// the two categories' markers end alike: the first of either is found with one search
const MARKER_END = Buffer.from('FlowEvent"');
const NSG_MARKER_START = Buffer.from(`"${NSG_CATEGORY.slice(0, -'FlowEvent'.length)}`);
const VNET_MARKER_START = Buffer.from(`"${VNET_CATEGORY.slice(0, -'FlowEvent'.length)}`);

/**
 * Which Azure category the head of a JSON file names first ("NetworkSecurityGroupFlowEvent"
 * or "FlowLogFlowEvent" with its quotes), if any. The markers are ASCII: searched in the
 * head's bytes (text is their decoding), natively, ~8x faster than in the string, as one
 * search for their common end (a quoted string holds no quote, so neither marker lies inside
 * the other: the first to end is the first named). Planning sniffs every blob with it, twice
 * for a VNet one (after the NSG reader's sniff): the whole 64 KiB head was searched for the
 * NSG marker in a VNet blob, each time.
 */
function azureCategory(head: SniffHead): 'nsg' | 'vnet' | null {
  const c = head.lead; // the text's first character past white space, read from the bytes
  if (c !== 123 && c !== 91) return null;
  const bytes = head.bytes;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 65536));
  for (let end = b.indexOf(MARKER_END); end >= 0; end = b.indexOf(MARKER_END, end + 1)) {
    if (endsWith(b, end, NSG_MARKER_START)) return 'nsg';
    if (endsWith(b, end, VNET_MARKER_START)) return 'vnet';
  }
  return null;
}

/** Whether b holds `start` just before offset `at`. */
function endsWith(b: Uint8Array, at: number, start: Uint8Array): boolean {
  const s = at - start.length;
  if (s < 0) return false;
  for (let k = 0; k < start.length; k++) if (b[s + k] !== start[k]) return false;
  return true;
}

/**
 * Both readers read both categories (the layout is chosen per record); the two names
 * say what the file was recognised as, and let a user force either.
 */
export const azureNsg: DocumentReader = {
  kind: 'document',
  name: 'azure-nsg',
  sniff: (head) => azureCategory(head) === 'nsg',
  parseDocument: parseAzure,
};

export const azureVnet: DocumentReader = {
  kind: 'document',
  name: 'azure-vnet',
  sniff: (head) => azureCategory(head) === 'vnet',
  parseDocument: parseAzure,
};
