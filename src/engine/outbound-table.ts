/**
 * The outbound accumulator of one shard (detection.md §4, issue 5): the user's own hosts
 * scanning the internet. Entries are keyed by (cloud, account, src, protocol, dst_port,
 * window, dst): one entry per public target of a host's key. Grouping entries by key
 * gives horizontal scans (many targets on one port); grouping by (host, protocol,
 * window, target) gives vertical scans (many ports of one target).
 *
 * Like ScanTable, entries only add up, so partial tables merge exactly. The interface,
 * instance and region kept per entry are the smallest string seen, so the alert names
 * the same ones whatever the record order.
 */
import { fmix32, hashAddress, mix, shardOf } from '../flow/hash.js';
import { V6Intern } from './v6-intern.js';
import { StringDict } from '../flow/dict.js';
import type { FlowBatchData } from '../flow/batch.js';
import { CLOUD_NAMES, Feed } from '../flow/types.js';
import { coefficientOfVariation, cvAtMost } from '../detect/rules.js';
import { formatAddress } from '../net/address.js';
import { HomeNet } from '../net/home-net.js';
import { LastKey } from './scan-ingest.js';
import { countAt, putAddress, selectedRows, type BlockRows, type OutboundColumns } from '../replay/row-codec.js';
import { nextPow2, type ShardFilter } from './scan-layout.js';
import type { TrafficFigures } from './verdict.js';
import { wasmGrouping, type GroupedColumns, type GroupingSpace, type WasmGrouping, type WasmHostFigures } from './outbound-wasm.js';
import { PIECE } from './wasm-pieces.js';
import { ADD_MAP_CAP, ADD_STAGE, outboundArena, type OutboundArena, type OutboundViews } from './outbound-adds.js';

const F_PACKETS = 1;
const F_BYTES = 2;
const F_SRC6 = 4;
const F_DST6 = 8;

export interface OutboundThresholds {
  minTargets: number;
  minPorts: number;
  maxCvPackets: number;
  maxCvBytes: number;
  /** Internal scan (detection.md §4): at least this many non-public targets (default 20). */
  minInternalTargets?: number;
  /**
   * --home-net CIDRs (detection.md §3). The parse threads classify records with them; here they
   * tell an internal scan's entries (target not public) from outbound ones at finalize.
   */
  homeNet?: readonly string[];
}

export const DEFAULT_OUTBOUND = Object.freeze({
  minTargets: 100,
  minPorts: 100,
  maxCvPackets: 0.5,
  maxCvBytes: 0.5,
  minInternalTargets: 20,
});

/** One outbound alert before enrichment (worm signature, allow list and severity come at merge). */
export interface OutboundFinding extends TrafficFigures {
  kind: 'horizontal' | 'vertical' | 'internal'; // internal: a horizontal scan of non-public targets (lateral movement)
  window: number;
  cloud: string;
  account: string;
  region: string;
  srcWords: number[];
  src: string;
  protocol: number;
  dstPort: number | null; // horizontal: the port; vertical: null
  target: string | null; // vertical: the one target; horizontal: null
  targets: number;
  ports: number;
  portList: number[]; // vertical: the first ports probed (up to 20), sorted
  iface: string;
  instance: string;
  protocolsOfHost: number; // distinct protocols this host sent outbound in the window
  portsOfHost: number; // distinct (protocol, dst port)s this host sent outbound in the window
  targetsOfHost: number; // distinct public targets of this host in the window
  sourcePortSpread: number; // 0..32: how spread the host's source ports are (bits set in a 32-bit hash sketch)
  firstSeen: number;
  lastSeen: number;
}

/** The table's columns as the shard hands them over: the groupings' key columns (outbound-wasm.ts) and the rest. */
export interface OutboundState extends GroupedColumns {
  f: Uint32Array;
  p: Float64Array;
  b: Float64Array;
  first: Uint32Array;
  last: Uint32Array;
  iface: Uint32Array;
  instance: Uint32Array;
  region: Uint32Array;
  strings: string[];
  accounts: string[];
  v6: Uint32Array;
  /** What the table left out past --max-memory (absent: nothing; older checkpoints). */
  shed?: ShedState;
}

type Typed = Uint32Array | Float64Array | Uint8Array;

/** Index slots for `cap` entries: a power of two, filled 0.6 at most. */
function indexSlots(cap: number): number {
  return nextPow2(Math.ceil(cap / 0.6));
}

/** The table's entry columns and each one's array type (OutboundViews has a view of each in the arena). */
const ENTRY_COLUMNS = {
  srcA: Uint32Array,
  ep: Uint32Array,
  pp: Uint32Array,
  win: Uint32Array,
  dstA: Uint32Array,
  flags: Uint8Array,
  f: Uint32Array,
  p: Float64Array,
  b: Float64Array,
  first: Uint32Array,
  last: Uint32Array,
  iface: Uint32Array,
  instance: Uint32Array,
  region: Uint32Array,
  sports: Uint32Array,
} as const;
type EntryColumn = keyof typeof ENTRY_COLUMNS;
const ENTRY_COLUMN_NAMES = Object.keys(ENTRY_COLUMNS) as EntryColumn[];

/** A host whose outbound records were not counted because the table was full (--max-memory). */
export interface OutboundDrop {
  src: string;
  cloud: string;
  account: string;
  window: number;
  records: number;
}

/**
 * What a table shed past --max-memory, as exportState hands it over: the rank below which
 * hosts are kept, the records dropped, and the named hosts' (source, cloud << 30 | account,
 * window) in the state's own ids (its v6 and accounts), with their records.
 */
export interface ShedState {
  keepBelow: number;
  records: number;
  src: Uint32Array;
  fam: Uint8Array;
  ep: Uint32Array;
  win: Uint32Array;
  counts: Float64Array;
}

/** A named dropped host: its rank (hostRank), the report's row, and its key in the table's ids. */
interface NamedDrop {
  rank: number;
  drop: OutboundDrop;
  sA: number;
  fam: number;
  epv: number;
}

/** Ranks are u32: a keepBelow of this keeps every host. */
const ALL_RANKS = 2 ** 32;

/** Bytes an entry: 12 u32 fields, 2 f64 sums, a flag byte. */
export const OUTBOUND_ENTRY_BYTES = 12 * 4 + 2 * 8 + 1;
/** Bytes an entry at most with its share of the index (a power of two over the entries at load <= 0.6). */
export const OUTBOUND_BYTES_BOUND = OUTBOUND_ENTRY_BYTES + 14;

/** Index slots: the top bits of the key's hash (a tag), and entry + 1 below (0 = empty). */
const TAG_SHIFT = 26;
/** syncIndex sorts the entries it indexes into 2^this groups of slots. */
const SYNC_GROUP_BITS = 12;
const SLOT_ENTRY = (1 << TAG_SHIFT) - 1;
/** Entries a table can number; past them records are dropped as past --max-memory (which comes long before). */
const MAX_OUTBOUND_ENTRIES = SLOT_ENTRY - 1;

/** The groupings of finalisation (OutboundTable.groupBy): by host; host, protocol and port (horizontal); host, protocol and target (vertical). */
const BY_HOST = 0;
const BY_PORT = 1;
const BY_TARGET = 2;
/** The parts of an entry each grouping's key takes beside the host, by BY_*: protocol << 16 | port, target, target's family. */
const PP_MASK = Int32Array.of(0, -1, 0xffff0000 | 0);
const DST_MASK = Int32Array.of(0, 0, -1);
const FAM_MASK = Int32Array.of(0, 0, F_DST6);

/** A batch-local string not mapped to the table's dictionaries yet (OutboundTable.mapDictionaries). */
const UNMAPPED = 0xffffffff;
/**
 * Records of a batch the module takes at least: a small batch (a few tiny files') brings a
 * string table of its own, most of whose strings would each stop the module once, and its
 * stage's copies cost more than its records (the tiny files' shard thread: +7 ms of ~70).
 */
const ADD_MIN_BATCH = 1024;
/** A stage of the batch goes to the module when at least one record in ADD_SHARE is outbound. */
const ADD_SHARE = 4;
/** Records a call of OutboundTable.addRun: short enough that V8 does not replace it on the stack. */
const ADD_RUN = 128;
/**
 * Records whose outbound index slots OutboundTable.readAhead reads before they are added: a
 * whole batch's (16,384) were partly gone from cache again by the time they were added (the
 * outbound adds on the 7 M-record bucket 181 ms, against 160-162 a read-ahead of 512 or 1,024
 * records; bench/RESULTS.md, shard7m section).
 */
const READ_AHEAD = 1024;

/** Hosts named in a table's drop report (the records of all of them are counted). */
const MAX_DROPS_NAMED = 100;

/** What one host sent outbound in one window, over all its keys (for the NAT look). */
interface HostFigures {
  protocols: number; // distinct protocols
  ports: number; // distinct (protocol, dst port)s
  targets: number; // distinct targets
  sports: number; // the source-port sketches OR-ed
}

/** HostFigures of every host of a finalisation, by host number; hostOf: an entry's host number. */
interface HostInfo {
  hostOf: Int32Array;
  protocols: Int32Array;
  ports: Int32Array;
  targets: Int32Array;
  sports: Uint32Array;
  /** where each host's entries of the list start (hostCount + 1): a host's entry count is the difference */
  listStart: Int32Array;
}

/**
 * The entries of hosts that reach a target more than once (more entries than distinct targets),
 * in their order: only they can make a vertical group of two entries or more. The grouping by
 * target is the finalisation's costliest (nearly every entry a group of its own: a slot written
 * at random in megabytes; a replayed scanner's 688 k entries on 688 k targets, issue 19,
 * replayout); a host left out here has only groups of one, which no finding takes, and the
 * groups left keep their order (first appearance) and their entries.
 */
function withRepeatedTargets(entries: Int32Array, info: HostInfo): Int32Array {
  const { hostOf, targets, listStart } = info;
  const kept = new Int32Array(entries.length);
  let k = 0;
  for (let j = 0; j < entries.length; j++) {
    const e = entries[j]!;
    const g = hostOf[e]!;
    if (listStart[g + 1]! - listStart[g]! > targets[g]!) kept[k++] = e;
  }
  return k === entries.length ? entries : kept.subarray(0, k);
}

function hostFigures(info: HostInfo, e: number): HostFigures {
  const g = info.hostOf[e]!;
  return { protocols: info.protocols[g]!, ports: info.ports[g]!, targets: info.targets[g]!, sports: info.sports[g]! };
}

export class OutboundTable {
  n = 0;
  private cap: number;
  srcA!: Uint32Array;
  ep!: Uint32Array; // cloud << 30 | account id
  pp!: Uint32Array; // protocol << 16 | dst port
  win!: Uint32Array;
  dstA!: Uint32Array;
  flags!: Uint8Array;
  f!: Uint32Array;
  p!: Float64Array;
  b!: Float64Array;
  first!: Uint32Array;
  last!: Uint32Array;
  iface!: Uint32Array; // ids in `strings`
  instance!: Uint32Array;
  region!: Uint32Array;
  sports!: Uint32Array; // 32-bit sketch of source ports
  private index!: Uint32Array; // tag << TAG_SHIFT | entry + 1; 0 = empty slot
  private mask!: number;
  /** Entries [0, indexed) are in the index; the later ones (added by a fresh batch) are indexed by syncIndex when a lookup needs them. */
  private indexed = 0;
  /** A fresh batch's own index (addBatch): entry + 1 by the key's hash, 0 = empty slot. */
  private batchIndex: Uint32Array = new Uint32Array(1024);
  private batchMask = 0;
  readonly v6 = new V6Intern();
  readonly accounts = new StringDict();
  readonly strings = new StringDict(); // interfaces, instances, regions
  /**
   * The most entries the table holds (its share of --max-memory). Past it, a record of an
   * entry not in the table is counted as dropped, by host, and not added: a host scanning
   * millions of targets cannot take the process's memory, and the run says which hosts'
   * alerts are short of records.
   */
  limitEntries = Infinity;
  /**
   * Which entries the table keeps past its limit: those whose rank (entryRank: a hash of
   * the key's values, the source and target addresses, cloud, account name, window,
   * protocol and port, never of the table's ids) is below this. It only falls, and only as
   * far as the entries kept must to fit limitEntries after a batch or a merge (shed), so it
   * ends at the largest rank whose entries fit, whatever the order records came in: which
   * entries are dropped, with all of their records, depends on the input and the limit
   * alone. A host scanning more targets than fit keeps a sample of them (its alert is
   * raised, short of records). Dropping the records of new entries as they came once the
   * table was full made the drops depend on batch order, that is on timing (GCP blobs at
   * --max-memory 40MB, one worker: 6,466 or 6,137 or 6,111 records dropped, run to run).
   */
  keepBelow = ALL_RANKS;
  droppedRecords = 0;
  private readonly drops = new Map<string, NamedDrop>();
  /** The named drop of the largest order (namedOrder) while MAX_DROPS_NAMED are named; null: to be found again. */
  private namedMax: NamedDrop | null = null;
  /** Entries a batch or a merge may add past limitEntries before shed brings the table back under it. */
  private hardLimit = Infinity;
  /** The entryRanks of entries [0, ranked) (shed computes them; a compaction moves them with the entries). */
  private ranks = new Uint32Array(0);
  private ranked = 0;
  /** hostRank's hash of each account (by its id in `accounts`), computed at first use. */
  private readonly accountRanks: number[] = [];
  private readonly rankWords = new Uint32Array(4);
  private accountMap: Uint32Array = new Uint32Array(64);
  private stringMap: Uint32Array = new Uint32Array(64);
  private mappedStrings: string[] | null = null;
  private readonly lastKey = new LastKey();
  /** What readAhead read (kept, so that its reads are not left out as unused) */
  private readSeen = 0;
  /** readAhead's hashes */
  private aheadHashes = new Uint32Array(0);
  /** Where the columns lie and the add loop runs in WebAssembly (outbound-adds.ts); null: JavaScript arrays and loop. */
  private arena: OutboundArena | null = null;
  /** The table moves into an arena at its first batch of ADD_MIN_BATCH records (a run of tiny batches never compiles the module). */
  private arenaWanted = process.env.FLOWSIEVE_OUTBOUND !== 'js';
  /** The arena's views of the current layout (null on the JavaScript path). */
  private views: OutboundViews | null = null;
  /**
   * Whether replay blocks feed the table (addBlockRows): only then does its arena set room
   * aside for the finalisation, its index get written lazily and its finalisation lay out in
   * the arena's memory (session 16 replayfin: 0.92x replay CPU at 2 workers). Every other
   * table keeps the earlier path: on GCP's blobs and the text files those cost 1.02-1.03x
   * CPU (bench/RESULTS.md, sessions 16 replayfin and replayfin2).
   */
  private replayRows = false;

  constructor(
    readonly windowSeconds: number,
    initialCapacity = 1 << 10,
  ) {
    this.cap = initialCapacity;
    this.allocate(initialCapacity, 0);
  }

  /** Columns for `cap` entries (the first `keep` kept) and an empty index for them (rebuildIndex fills it). */
  private allocate(cap: number, keep: number): void {
    const slots = indexSlots(cap);
    this.index = new Uint32Array(0);
    if (this.arena !== null && this.place(this.arena, cap, keep, slots)) return;
    this.arena = null;
    this.views = null;
    this.index = new Uint32Array(slots);
    this.mask = slots - 1;
    this.moveColumns(keep, (c) => new ENTRY_COLUMNS[c](cap));
    this.cap = cap;
  }

  /** Each entry column replaced by `to`'s array for it, the first `keep` entries copied over (allocate, place). */
  private moveColumns(keep: number, to: (column: EntryColumn) => Typed): void {
    const columns = this as Record<EntryColumn, Typed | undefined>;
    for (const c of ENTRY_COLUMN_NAMES) {
      const from = columns[c];
      const a = to(c);
      if (from && keep) a.set(from.subarray(0, keep) as never);
      columns[c] = a;
    }
  }

  /** The table's entries moved into an arena (none to be had: they stay in JavaScript arrays, for good). */
  private enterArena(): void {
    this.arenaWanted = false;
    const arena = outboundArena();
    if (arena === null || !this.place(arena, this.cap, this.n, indexSlots(this.cap))) return;
    this.arena = arena;
    this.rebuildIndex(true);
    this.mappedStrings = null; // the batch's maps made again, where the module reads them
  }

  /** allocate in the arena's new memory: false when none is to be had (the table goes on in JavaScript arrays). */
  private place(arena: OutboundArena, cap: number, keep: number, slots: number): boolean {
    let v: OutboundViews;
    try {
      v = arena.place(cap, slots, keep, this.replayRows);
    } catch {
      return false; // a memory of that size cannot be had (wasm32's 4 GiB, or address space)
    }
    this.moveColumns(keep, (c) => v[c]);
    // the block's index goes on where the module reads it
    if (this.views !== null && this.batchIndex === this.views.batchIndex) {
      v.batchIndex.set(this.batchIndex);
      this.batchIndex = v.batchIndex;
    }
    // the batch's maps go on where the module reads them
    if (this.mapsInArena()) {
      v.accountMap.set(this.accountMap);
      v.stringMap.set(this.stringMap);
      this.accountMap = v.accountMap;
      this.stringMap = v.stringMap;
    }
    this.views = v;
    this.index = v.index;
    this.mask = slots - 1;
    this.cap = cap;
    return true;
  }

  /** Space for the finalisation's groupings past the columns in the arena's memory (OutboundArena.groupingSpace). */
  private groupingSpace(bytes: number): GroupingSpace | null {
    return this.arena!.groupingSpace(bytes, (v) => this.takeViews(v));
  }

  /** The arena's views of its memory taken again, entries where they were (its buffer detached by a growth). */
  private takeViews(v: OutboundViews): void {
    const inArena = this.mapsInArena();
    const columns = this as Record<EntryColumn, Typed>;
    for (const c of ENTRY_COLUMN_NAMES) columns[c] = v[c];
    if (inArena) {
      this.accountMap = v.accountMap;
      this.stringMap = v.stringMap;
    }
    if (this.views !== null && this.batchIndex === this.views.batchIndex) this.batchIndex = v.batchIndex;
    this.views = v;
    this.index = v.index;
  }

  /**
   * Whether the batch's string maps lie in the arena's memory, where the module reads them
   * (a batch of more than ADD_MAP_CAP strings, or the JavaScript path, has maps of its own).
   */
  private mapsInArena(): boolean {
    return this.views !== null && this.accountMap === this.views.accountMap;
  }

  get bytes(): number {
    return this.cap * OUTBOUND_ENTRY_BYTES + this.index.byteLength + this.v6.bytes + this.ranks.byteLength;
  }

  /** Bytes held in memory: the entries in use (see ScanTable.heldBytes), the index, IPv6 interning. */
  get heldBytes(): number {
    return this.n * OUTBOUND_ENTRY_BYTES + this.index.byteLength + this.v6.bytes + this.ranks.byteLength;
  }

  /**
   * Add a batch's outbound records. `fresh`: no key of them can be in the table yet, but from
   * the batch itself (a replay twin holding its whole bucket: outbound keys hold the source,
   * which the bucket is of, and no other block adds to it). Its records are then looked up in
   * an index of the batch's own, in cache, and its new entries enter the table's index later,
   * all at once and in the index's order (syncIndex): a lookup in the table's index is a
   * cache and TLB miss each in a table of a million entries (about 180 ms of a 1.3 s replay
   * run of 20 M records at 1 worker: bench/RESULTS.md, branch replaywasm).
   */
  addBatch(batch: FlowBatchData, fresh = false): void {
    if ((batch.feeds & Feed.outbound) === 0) return; // a parse sink's inbound batch (flow/sink.ts lanes)
    if (this.arenaWanted && this.arena === null && batch.n >= ADD_MIN_BATCH) this.enterArena();
    // the blocks of a replay file share the file's dictionary: map it once, not per block
    if (batch.strings !== this.mappedStrings) this.mapDictionaries(batch.strings);
    if (fresh) this.startBatchIndex(batch.n);
    else this.batchMask = 0;
    // every record of the batch finds room: shed decides after it what the table keeps
    this.hardLimit = this.limitEntries === Infinity ? Infinity : this.n + batch.n;
    if (this.views !== null) this.arena!.entriesAhead(this.n + batch.n);
    if (this.keepBelow === ALL_RANKS) this.addRecords(batch);
    else this.addKept(batch);
    if (this.n > this.limitEntries) this.shed();
  }

  /**
   * A replayed block's m outbound rows (selectRows found them) added where they lie, in the
   * block's columns, when they are fresh (addBatch), looked up in the block's own index: no
   * batch is expanded for them (issue 19, replayout). The module adds them where the table
   * is in its memory (addBlockInModule), else addBlockRun. False, nothing added, where they
   * must come as a batch (addBatch): not fresh, or a table that sheds.
   */
  addBlockRows(r: BlockRows, c: OutboundColumns, m: number, fresh: boolean): boolean {
    if (!fresh || this.keepBelow !== ALL_RANKS) return false;
    this.replayRows = true;
    // addBatch's steps before its adds, for m records; a replay file's blocks share one string
    // table (ADD_MIN_BATCH's reason is a small batch's own), so its first block enters the arena
    // whatever its rows: a table's first blocks in JavaScript made every shard isolate compile
    // addBlockRun (~20 ms of V8's helper threads a run) for a few thousand rows
    if (this.arenaWanted && this.arena === null) this.enterArena();
    if (r.strings !== this.mappedStrings) this.mapDictionaries(r.strings);
    this.startBatchIndex(m);
    this.hardLimit = this.limitEntries === Infinity ? Infinity : this.n + m;
    if (this.views !== null) this.arena!.entriesAhead(this.n + m);
    this.lastKey.reset();
    if (this.batchInArena()) this.addBlockInModule(r, c, 0, m);
    else this.addBlockInJs(r, c, 0, m);
    if (this.n > this.limitEntries) this.shed();
    return true;
  }

  /** Selected rows [from, m) of a block added by addBlockRun, ADD_RUN a call. */
  private addBlockInJs(r: BlockRows, c: OutboundColumns, from: number, m: number): void {
    for (let j = from; j < m; j += ADD_RUN) this.addBlockRun(r, c, j, Math.min(m, j + ADD_RUN));
  }

  /** Whether the block's index and string maps lie in the arena's memory, where addRows reads them. */
  private batchInArena(): boolean {
    return this.views !== null && this.batchIndex === this.views.batchIndex && this.mapsInArena();
  }

  /**
   * Selected rows [from, m) of a block added by the module (assembly/outbound-adds.ts addRows:
   * addBlockRun written again), a span of the block's rows staged at a time. A row it stops at
   * (an IPv6 address, a string first met, a new key and no room) is added here by addBlockRun;
   * when that moved the table to a new memory the span is staged again there, and when it left
   * WebAssembly the rest is added here. The same entries, in the same order, with the same ids
   * as addBlockRun's: the module is its loop compiled ahead, not a compile in each shard
   * isolate (addBlockRun was a replay run's largest TurboFan job: bench/RESULTS.md, session 22).
   */
  private addBlockInModule(r: BlockRows, c: OutboundColumns, from: number, m: number): void {
    const { row } = selectedRows();
    const limit = Math.min(this.hardLimit, MAX_OUTBOUND_ENTRIES);
    for (let j = from; j < m; ) {
      const v = this.views;
      const arena = this.arena!;
      const to = arena.stageRows(r, c, row, j, m);
      while (j < to) {
        j = arena.addRows(j, to, this.n, limit, this.windowSeconds, this.batchMask);
        this.n = arena.entries();
        this.takeCompares(arena);
        if (j >= to) break;
        // a string first met: mapped here, and the module takes the row (and the next ones with it)
        if (this.n < limit && this.mapRowStrings(r, c, row[j]!)) continue;
        this.lastKey.reset();
        this.addBlockRun(r, c, j, j + 1);
        j++;
        if (this.views !== v) break;
      }
      if (!this.batchInArena()) return this.addBlockInJs(r, c, j, m);
    }
  }

  /**
   * Block row i's strings mapped where they were not yet, in addBlockRun's order (account,
   * interface, instance, region): whether any was (mapStrings for a block's row).
   */
  private mapRowStrings(r: BlockRows, c: OutboundColumns, i: number): boolean {
    return this.mapIds(r.account[i]!, c.iface[i]!, c.instance[i]!, r.region[i]!);
  }


  /** Selected rows [from, to) of a block (addBlockRows), as addRun adds a batch's. */
  private addBlockRun(r: BlockRows, c: OutboundColumns, from: number, to: number): void {
    const { flags, af, src, dst, src6, dst6, proto, dport, start, dur, packets, bytes, account, region } = r;
    const { sport, iface, instance } = c;
    const { row, ks, kd } = selectedRows();
    const sw = this.blockSrc;
    const dw = this.blockDst;
    const W = this.windowSeconds;
    const last = this.lastKey;
    for (let j = from; j < to; j++) {
      const i = row[j]!;
      const a = af[i]!;
      // an IPv4 address (most rows) is its own key word, as wordOf makes it of its four words
      let sA = src[i]! | 0;
      let fam = 0;
      if ((a & 1) !== 0) {
        putAddress(sw, 0, true, 0, src6, ks[j]! * 4);
        sA = this.v6.wordOf(sw, 0) | 0;
        fam = this.v6.wasV6 ? F_SRC6 : 0;
      }
      const epv = (((flags[i]! >>> 2) & 3) << 30) | this.accountOf(account[i]!);
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const st = start[i]!;
      const w = Math.floor(st / W);
      let dA = dst[i]! | 0;
      this.targetFam = 0;
      if ((a & 2) !== 0) {
        putAddress(dw, 0, true, 0, dst6, kd[j]! * 4);
        dA = this.targetWord(dw, 0);
      }
      if (this.targetFam < 0) {
        this.drop(sA, fam, epv, w, 1);
        continue;
      }
      fam |= this.targetFam;
      if (!last.same(sA, epv, ppv, w, dA, fam)) last.entry = this.findOrAppend(sA, epv, ppv, w, dA, fam);
      const e = last.entry;
      if (e < 0) {
        this.drop(sA, fam, epv, w, 1);
        continue;
      }
      this.tally(e, countAt(packets, i), countAt(bytes, i), st, st + dur[i]!, sport[i]!, iface[i]!, instance[i]!, region[i]!);
    }
  }

  /** addBlockRun's addresses as four words (putAddress), reused. */
  private readonly blockSrc = new Uint32Array(4);
  private readonly blockDst = new Uint32Array(4);
  /** Set by targetWord: F_DST6 when the target's word is an IPv6 intern id, 0 for IPv4, -1 when the record is dropped. */
  private targetFam = 0;

  /**
   * The key word of the target at w[o] (and targetFam). Once the table is full, an IPv6 target
   * not interned yet has no entry and is not interned now: targetFam -1 (addRun's rule).
   */
  private targetWord(w: Uint32Array, o: number): number {
    if (this.full() && !(w[o] === 0 && w[o + 1] === 0 && w[o + 2] === 0xffff)) {
      const id = this.v6.find(w, o); // an intern id: below 2^31
      this.targetFam = id < 0 ? -1 : F_DST6;
      return id;
    }
    const dA = this.v6.wordOf(w, o) | 0;
    this.targetFam = this.v6.wasV6 ? F_DST6 : 0;
    return dA;
  }

  /** A record's counts into entry e (addBlockRun's; addRun's are written out in its loop). */
  private tally(e: number, pk: number, by: number, first: number, end: number, sport: number, iface: number, instance: number, region: number): void {
    this.f[e]!++;
    if (pk === pk) {
      this.p[e]! += pk;
      this.flags[e]! |= F_PACKETS;
    }
    if (by === by) {
      this.b[e]! += by;
      this.flags[e]! |= F_BYTES;
    }
    if (first < this.first[e]!) this.first[e] = first;
    if (end > this.last[e]!) this.last[e] = end;
    this.sports[e]! |= 1 << (fmix32(sport) & 31);
    this.keepSmallest(this.iface, e, this.stringId(iface));
    this.keepSmallest(this.instance, e, this.stringId(instance));
    this.keepSmallest(this.region, e, this.stringId(region));
  }

  /** addRecords over the records of entries ranked below keepBelow; the others are counted as dropped. */
  private addKept(batch: FlowBatchData): void {
    const feed = batch.feed;
    const kept = feed.slice(0, batch.n);
    const { src, dst, proto, dport, cloud, account, start } = batch;
    for (let i = 0; i < batch.n; i++) {
      if ((kept[i]! & Feed.outbound) === 0) continue;
      const ac = this.accountOf(account[i]!);
      const w = Math.floor(start[i]! / this.windowSeconds);
      const host = hostRank(hashAddress(src, i * 4), cloud[i]!, this.accountRank(ac), w);
      if (entryRank(host, ((proto[i]! << 16) | dport[i]!) >>> 0, hashAddress(dst, i * 4)) < this.keepBelow) continue;
      kept[i] = kept[i]! & ~Feed.outbound;
      const sA = this.v6.wordOf(src, i * 4);
      this.drop(sA, this.v6.wasV6 ? F_SRC6 : 0, ((cloud[i]! << 30) | ac) >>> 0, w, 1);
    }
    batch.feed = kept;
    try {
      this.addRecords(batch);
    } finally {
      batch.feed = feed;
    }
  }

  /**
   * Past limitEntries: the entries of the highest ranks leave the table (their records
   * counted as dropped) until it holds at most limitEntries, and keepBelow falls to the
   * first rank left out. It falls no further than that: the rank it ends at, the largest
   * whose entries fit, is the same in every order of the records.
   */
  private shed(): void {
    const ranks = this.entryRanks();
    this.keepBelow = Math.min(this.keepBelow, rankToKeep(ranks, this.n, this.limitEntries));
    this.leaveOut(ranks);
  }

  /** Drop the entries ranked keepBelow or above, the others moved down in order (ranks with them). */
  private leaveOut(ranks: Uint32Array): void {
    const cols: Typed[] = [...ENTRY_COLUMN_NAMES.map((c) => this[c]), ranks];
    let w = 0;
    for (let e = 0; e < this.n; e++) {
      if (ranks[e]! >= this.keepBelow) {
        this.drop(this.srcA[e]!, this.flags[e]!, this.ep[e]!, this.win[e]!, this.f[e]!);
        continue;
      }
      if (w !== e) for (const c of cols) c[w] = c[e]!;
      w++;
    }
    if (w === this.n) return;
    this.n = w;
    this.ranked = w;
    this.rebuildIndex();
  }

  /** The rank of every entry (hostRank), those not ranked yet computed now. */
  private entryRanks(): Uint32Array {
    if (this.ranks.length < this.n) {
      const grown = new Uint32Array(nextPow2(this.n));
      grown.set(this.ranks.subarray(0, this.ranked));
      this.ranks = grown;
    }
    for (let e = this.ranked; e < this.n; e++) this.ranks[e] = this.entryRankOf(this.srcA[e]!, this.flags[e]!, this.ep[e]!, this.win[e]!, this.pp[e]!, this.dstA[e]!);
    this.ranked = this.n;
    return this.ranks;
  }

  /** hostRank of a host in the table's ids. */
  private rankOf(sA: number, fam: number, epv: number, w: number): number {
    this.v6.wordsOf(sA >>> 0, (fam & F_SRC6) !== 0, this.rankWords);
    return hostRank(hashAddress(this.rankWords, 0), epv >>> 30, this.accountRank(epv & 0x3fffffff), w);
  }

  /** entryRank of a key in the table's ids. */
  private entryRankOf(sA: number, fam: number, epv: number, w: number, ppv: number, dA: number): number {
    const host = this.rankOf(sA, fam, epv, w);
    this.v6.wordsOf(dA >>> 0, (fam & F_DST6) !== 0, this.rankWords);
    return entryRank(host, ppv, hashAddress(this.rankWords, 0));
  }

  /** An account's part of hostRank: a hash of its name (ids depend on the order accounts came in). */
  private accountRank(id: number): number {
    return (this.accountRanks[id] ??= stringHash(this.accounts.strings[id]!));
  }

  /** An empty batch index for up to n records (addBatch). */
  private startBatchIndex(n: number): void {
    const size = nextPow2(Math.max(64, 2 * n));
    const v = this.views;
    // in the arena's memory where it fits, where the module's adds read it (addBlockInModule)
    if (v !== null && size <= v.batchIndex.length) {
      this.batchIndex = v.batchIndex;
      this.batchIndex.fill(0, 0, size);
    } else if (this.batchIndex.length < size || (v !== null && this.batchIndex === v.batchIndex)) this.batchIndex = new Uint32Array(size);
    else this.batchIndex.fill(0, 0, size);
    this.batchMask = size - 1;
  }

  /**
   * A new string table: its maps start empty, and a string is mapped when a record first
   * uses it (mapAccount, stringId). Mapping all of them up front cost two dictionary
   * lookups per string per batch (about 700 strings a batch on the bucket, for a few dozen
   * used by its outbound records: 11 ms of the shard thread's profile).
   */
  private mapDictionaries(strings: string[]): void {
    this.mappedStrings = strings;
    const m = strings.length;
    const v = this.views;
    if (v !== null && m <= ADD_MAP_CAP) {
      this.accountMap = v.accountMap;
      this.stringMap = v.stringMap;
    } else if (this.accountMap.length < m || this.mapsInArena()) {
      this.accountMap = new Uint32Array(nextPow2(m));
      this.stringMap = new Uint32Array(nextPow2(m));
    }
    this.accountMap.fill(UNMAPPED, 0, m);
    this.stringMap.fill(UNMAPPED, 0, m);
  }

  /**
   * The table's account id of batch-local string a, mapped on first use. One call site of
   * mapAccount for addRun, addKept and mapStrings (V8 inlines this one): addRun was often
   * optimised while the module's stages mapped every account (mapStrings), then met an
   * unmapped one and deoptimised there ("insufficient type feedback for generic named
   * access", `--trace-deopt`), recompiled in one bucket run of two (bench/RESULTS.md, branch v8c).
   */
  private accountOf(a: number): number {
    const ac = this.accountMap[a]!;
    return ac !== UNMAPPED ? ac : this.mapAccount(a);
  }

  /** The table's account id of batch-local string a (accountMap[a] was UNMAPPED). */
  private mapAccount(a: number): number {
    const id = this.accounts.idOf(this.mappedStrings![a]!);
    this.accountMap[a] = id;
    return id;
  }

  /** The table's id (in `strings`) of batch-local string k, mapped on first use. */
  private stringId(k: number): number {
    const id = this.stringMap[k]!;
    if (id !== UNMAPPED) return id;
    const mapped = this.strings.idOf(this.mappedStrings![k]!);
    this.stringMap[k] = mapped;
    return mapped;
  }

  /**
   * A batch's records added a run of ADD_RUN at a time. One call over a whole batch (tens of
   * thousands of records) made V8 compile this loop twice: on-stack replacement during the
   * first batch, then a whole-function compile for the next (20-40 ms of its compile threads
   * each, on the bucket and GCP blobs). Short calls are compiled once, as any hot function.
   * A run starts at an outbound record: runs of inbound records only made addRun hot before
   * its body had run, and it was deoptimised at the first outbound record.
   */
  private addRecords(batch: FlowBatchData): void {
    this.lastKey.reset();
    // a fresh batch is added here, in its own index, in the module's memory or not: the module
    // would look each record up in the table's index (replay of 20 M records: 0.80x main's CPU
    // at 1 worker this way, 0.86x through the module; bench/RESULTS.md, branch replaywasm)
    if (this.batchMask !== 0) this.addInJs(batch, 0, batch.n);
    else if (this.mapsInArena() && batch.n >= ADD_MIN_BATCH) {
      // the module looks records up in the table's index: a fresh batch's entries into it first
      if (this.indexed < this.n) this.syncIndex();
      this.addInModule(batch, 0);
    } else this.addInJs(batch, 0, batch.n);
  }

  /**
   * Records from `start` on added by the module (outbound-adds.ts), a stage at a time; a
   * record it stops at added here by addRun. When that moved the table to a new memory the
   * stage is copied there again, and when it left WebAssembly the rest is added here. A
   * stage with few outbound records is added here too: copying its columns costs more than
   * the module saves (the bucket: 8 % outbound, 1.02x CPU when every stage was copied).
   */
  private addInModule(batch: FlowBatchData, start: number): void {
    const limit = Math.min(this.hardLimit, MAX_OUTBOUND_ENTRIES);
    for (let from = start; from < batch.n; from += ADD_STAGE) {
      const n = Math.min(batch.n - from, ADD_STAGE);
      let v = this.views!;
      if (this.arena!.stageFeed(batch, from, n) * ADD_SHARE < n) {
        this.lastKey.reset();
        this.addInJs(batch, from, from + n);
        if (this.views === null) return this.addInJs(batch, from + n, batch.n);
        continue;
      }
      this.arena!.stage(batch, from, n);
      for (let k = 0; ; k++) {
        const arena = this.arena!;
        // entries not in the index yet (a replay table's after a growth: rebuildIndex) go in first
        if (this.indexed < this.n) this.syncIndex();
        k = arena.add(k, n, this.n, limit, this.windowSeconds);
        this.n = arena.entries();
        this.indexed = this.n; // the module indexes the entries it adds
        this.takeCompares(arena);
        if (k >= n) break;
        // a string first met: mapped here, and the module takes the record (and the next ones with it)
        if (this.n < limit && this.mapStrings(batch, from + k)) {
          k--;
          continue;
        }
        this.lastKey.reset();
        this.addRun(batch, from + k, from + k + 1);
        if (this.views === v) continue;
        if (this.views === null) return this.addInJs(batch, from + k + 1, batch.n);
        v = this.views;
        this.arena!.stageFeed(batch, from, n);
        this.arena!.stage(batch, from, n);
      }
    }
  }

  /**
   * Record i's strings mapped to the table's dictionaries where they were not yet, in the
   * order addRun maps them (account, interface, instance, region): whether any was. Only
   * while the table has room: addRun maps no string but the account of a record it drops.
   */
  private mapStrings(batch: FlowBatchData, i: number): boolean {
    return this.mapIds(batch.account[i]!, batch.iface[i]!, batch.instance[i]!, batch.region[i]!);
  }

  /** A record's batch-local account and strings mapped where they were not yet, in that order: whether any was (mapStrings). */
  private mapIds(account: number, iface: number, instance: number, region: number): boolean {
    let mapped = false;
    if (this.accountMap[account] === UNMAPPED) {
      this.accountOf(account);
      mapped = true;
    }
    for (let c = 0; c < 3; c++) {
      const k = c === 0 ? iface : c === 1 ? instance : region;
      if (this.stringMap[k] === UNMAPPED) {
        this.stringId(k);
        mapped = true;
      }
    }
    return mapped;
  }


  /** The string choices the module left (keepSmallest compares strings, which live here). */
  private takeCompares(arena: OutboundArena): void {
    const c = arena.compares;
    for (let j = 0, m = arena.compareCount() * 3; j < m; j += 3) {
      const which = c[j + 1]!;
      this.keepSmallest(which === 0 ? this.iface : which === 1 ? this.instance : this.region, c[j]!, c[j + 2]!);
    }
  }

  /** Records [start, end) added by addRun. */
  private addInJs(batch: FlowBatchData, start: number, n: number): void {
    for (let from = start; from < n; from += READ_AHEAD) {
      const to = Math.min(n, from + READ_AHEAD);
      if (this.batchMask === 0) this.readAhead(batch, from, to);
      this.addRange(batch, from, to);
    }
  }

  /** Records [start, n) added by addRun, in runs from an outbound record on. */
  private addRange(batch: FlowBatchData, start: number, n: number): void {
    const feed = batch.feed;
    for (let i = start; i < n; ) {
      if ((feed[i]! & Feed.outbound) === 0) {
        i++;
        continue;
      }
      const to = Math.min(n, i + ADD_RUN);
      this.addRun(batch, i, to);
      i = to;
    }
  }

  /**
   * The index slots of the outbound records [from, to) (READ_AHEAD records) read ahead of
   * their lookups: their hashes first, then the slots in a loop of loads alone, which the
   * processor overlaps (a dozen misses at once), where each lookup of addRun waits on its
   * own. Nearly every outbound record is a new key, its home slot a cache miss in an index of
   * megabytes: findOrInsert's slot read was the outbound adds' largest line on the 7 M-record
   * bucket, and a read-ahead in the add loop's own pass, one record at a time among the
   * inbound ones, overlapped nothing (bench/RESULTS.md, shard7m section). The same hash as findOrInsert's,
   * of the records whose words need no interning (IPv4 source and target) and whose account
   * is mapped already: nothing is changed here.
   *
   * The record's other columns that addRun reads (end, source port, strings, counts) are
   * read here too, in the same pass: the batch was written by the parse thread on the other
   * core, and these loads, independent of one another, overlap as the slots' do, where
   * addRun met each line alone (the 7 M-record bucket's shard thread 0.98-0.99x CPU,
   * bench/RESULTS.md, session 18 outhold).
   */
  private readAhead(batch: FlowBatchData, from: number, to: number): void {
    const { feed, src, dst, proto, dport, start, cloud, account, end, sport, iface, instance, region, packets, bytes } = batch;
    const accountMap = this.accountMap;
    const W = this.windowSeconds;
    if (this.aheadHashes.length < to - from) this.aheadHashes = new Uint32Array(nextPow2(to - from));
    const hashes = this.aheadHashes;
    let m = 0;
    let rest = 0;
    for (let i = from; i < to; i++) {
      if ((feed[i]! & Feed.outbound) === 0) continue;
      rest |= end[i]! ^ sport[i]! ^ iface[i]! ^ instance[i]! ^ region[i]! ^ (packets[i]! > bytes[i]! ? 1 : 0);
      const o = i * 4;
      const ac = accountMap[account[i]!]!;
      if (ac === UNMAPPED || (src[o]! | src[o + 1]! | dst[o]! | dst[o + 1]!) !== 0 || src[o + 2] !== 0xffff || dst[o + 2] !== 0xffff) continue;
      const epv = (cloud[i]! << 30) | ac;
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      hashes[m++] = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, src[o + 3]! | 0), epv), ppv), Math.floor(start[i]! / W)), dst[o + 3]! | 0), 0));
    }
    const { index, mask } = this;
    let seen = 0;
    for (let k = 0; k < m; k++) seen |= index[hashes[k]! & mask]!;
    this.readSeen = seen | (rest & 1); // kept, so that no load above is dropped
  }

  /** Records [from, to) of the batch, from an outbound one; the last key carries over from the run before. */
  private addRun(batch: FlowBatchData, from: number, to: number): void {
    const { feed, src, dst, proto, dport, sport, packets, bytes, start, end, cloud, account } = batch;
    const W = this.windowSeconds;
    const last = this.lastKey;
    for (let i = from; i < to; i++) {
      if ((feed[i]! & Feed.outbound) === 0) continue;
      const o = i * 4;
      // key words as int32 (the same bits): a call boxes every u32 past 2^31 (findOrInsert)
      const sA = this.v6.wordOf(src, o) | 0;
      let fam = this.v6.wasV6 ? F_SRC6 : 0;
      const ac = this.accountOf(account[i]!);
      const epv = (cloud[i]! << 30) | ac;
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const w = Math.floor(start[i]! / W);
      let dA: number;
      if (this.full() && !(dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff)) {
        // full: an IPv6 target not interned yet has no entry, and is not interned now
        dA = this.v6.find(dst, o); // an intern id: below 2^31
        if (dA < 0) {
          this.drop(sA, fam, epv, w, 1);
          continue;
        }
        fam |= F_DST6;
      } else {
        dA = this.v6.wordOf(dst, o) | 0;
        if (this.v6.wasV6) fam |= F_DST6;
      }
      if (!last.same(sA, epv, ppv, w, dA, fam)) last.entry = this.batchMask !== 0 ? this.findOrAppend(sA, epv, ppv, w, dA, fam) : this.findOrInsert(sA, epv, ppv, w, dA, fam);
      const e = last.entry;
      if (e < 0) {
        this.drop(sA, fam, epv, w, 1);
        continue;
      }
      this.f[e]!++;
      const pk = packets[i]!;
      if (pk === pk) {
        this.p[e]! += pk;
        this.flags[e]! |= F_PACKETS;
      }
      const by = bytes[i]!;
      if (by === by) {
        this.b[e]! += by;
        this.flags[e]! |= F_BYTES;
      }
      if (start[i]! < this.first[e]!) this.first[e] = start[i]!;
      if (end[i]! > this.last[e]!) this.last[e] = end[i]!;
      this.sports[e]! |= 1 << (fmix32(sport[i]!) & 31);
      this.keepSmallest(this.iface, e, this.stringId(batch.iface[i]!));
      this.keepSmallest(this.instance, e, this.stringId(batch.instance[i]!));
      this.keepSmallest(this.region, e, this.stringId(batch.region[i]!));
    }
  }

  /** Count `records` of host (sA, epv, w) as dropped: past the limit. */
  private drop(sA: number, fam: number, epv: number, w: number, records: number): void {
    this.droppedRecords += records;
    this.nameDrop(sA, fam, epv, w, records);
  }

  /**
   * Add `records` to a named host's. The hosts named are those of the MAX_DROPS_NAMED
   * smallest orders (namedOrder) among the dropped: a host among them is so from its first
   * dropped record on, in any order, so that every record of it is counted. (The first
   * hosts dropped, as named before, depended on the order.)
   */
  private nameDrop(sA: number, fam: number, epv: number, w: number, records: number): void {
    const key = `${sA >>> 0}|${fam & F_SRC6}|${epv >>> 0}|${w}`; // words as u32: callers pass int32 or u32
    const named = this.drops.get(key);
    if (named) {
      named.drop.records += records;
      return;
    }
    const rank = this.rankOf(sA, fam, epv, w);
    const full = this.drops.size >= MAX_DROPS_NAMED;
    if (full && rank > this.largestNamed().rank) return;
    const words = new Uint32Array(4);
    this.v6.wordsOf(sA >>> 0, (fam & F_SRC6) !== 0, words);
    const d = { src: formatAddress(words), cloud: CLOUD_NAMES[epv >>> 30]!, account: this.accounts.strings[epv & 0x3fffffff]!, window: w, records };
    const n: NamedDrop = { rank, drop: d, sA: sA >>> 0, fam: fam & F_SRC6, epv: epv >>> 0 };
    if (full) {
      const max = this.largestNamed();
      if (namedOrder(n, max) > 0) return;
      this.drops.delete(`${max.sA}|${max.fam}|${max.epv}|${max.drop.window}`);
      this.namedMax = null;
    }
    this.drops.set(key, n);
  }

  private largestNamed(): NamedDrop {
    if (this.namedMax === null) for (const n of this.drops.values()) if (this.namedMax === null || namedOrder(n, this.namedMax) > 0) this.namedMax = n;
    return this.namedMax!;
  }

  /** The hosts whose records were dropped (MAX_DROPS_NAMED of them: see nameDrop), by source and window. */
  droppedHosts(): OutboundDrop[] {
    return [...this.drops.values()].map((n) => ({ ...n.drop })).sort((a, b) => (a.src < b.src ? -1 : a.src > b.src ? 1 : a.window - b.window));
  }

  /** Keep the smallest non-empty string (0 = none yet): independent of record order. */
  private keepSmallest(col: Uint32Array, e: number, id: number): void {
    const cur = col[e]!;
    if (id === cur || id === 0) return;
    if (cur === 0 || this.strings.strings[id]! < this.strings.strings[cur]!) col[e] = id;
  }

  findOrInsert(sA: number, epv: number, ppv: number, w: number, dA: number, fam: number): number {
    if (this.indexed < this.n) this.syncIndex();
    const famBits = fam & (F_SRC6 | F_DST6);
    // the key's hash (low bits: the slot; top bits: the tag), its mixes written out: V8 did not
    // inline a keyHash function here (a call a lookup; scan-core.ts hashKeys). findOrAppend and syncIndex hash alike.
    const h = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, sA), epv), ppv), w), dA), famBits));
    const tag = h >>> TAG_SHIFT;
    let slot = h & this.mask;
    const { index, srcA, ep, pp, win, dstA, flags } = this;
    for (;;) {
      const v = index[slot]!;
      if (v === 0) break;
      // the tag rejects most other keys without reading their entries: a compare reads six
      // columns, a cache miss each in a table of many entries
      if (v >>> TAG_SHIFT === tag) {
        const e = (v & SLOT_ENTRY) - 1;
        // all fields compared without branches (scan-table.ts findOrInsert says why)
        if (((srcA[e]! ^ sA) | (ep[e]! ^ epv) | (pp[e]! ^ ppv) | (win[e]! ^ w) | (dstA[e]! ^ dA) | ((flags[e]! & (F_SRC6 | F_DST6)) ^ famBits)) === 0) {
          return e;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.full()) return -1; // full: the caller counts the record as dropped
    if (this.n === this.cap) {
      this.grow();
      return this.findOrInsert(sA, epv, ppv, w, dA, fam);
    }
    const e = this.newEntry(sA, epv, ppv, w, dA, famBits);
    this.index[slot] = ((tag << TAG_SHIFT) | (e + 1)) >>> 0;
    this.indexed = this.n;
    return e;
  }

  /**
   * findOrInsert for a fresh batch (addBatch): the entry of the key among the batch's, or a
   * new one, which the table's index takes in later (syncIndex); -1 when the table is full.
   */
  private findOrAppend(sA: number, epv: number, ppv: number, w: number, dA: number, fam: number): number {
    const famBits = fam & (F_SRC6 | F_DST6);
    const h = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, sA), epv), ppv), w), dA), famBits));
    const mask = this.batchMask;
    const { batchIndex, srcA, ep, pp, win, dstA, flags } = this;
    let slot = h & mask;
    for (;;) {
      const v = batchIndex[slot]!;
      if (v === 0) break;
      const e = v - 1;
      if (((srcA[e]! ^ sA) | (ep[e]! ^ epv) | (pp[e]! ^ ppv) | (win[e]! ^ w) | (dstA[e]! ^ dA) | ((flags[e]! & (F_SRC6 | F_DST6)) ^ famBits)) === 0) return e;
      slot = (slot + 1) & mask;
    }
    if (this.full()) return -1;
    if (this.n === this.cap) this.grow();
    const e = this.newEntry(sA, epv, ppv, w, dA, famBits);
    this.batchIndex[slot] = e + 1;
    return e;
  }

  /** Twice the capacity (up to the limit), the index written again (a batch index needs none: it numbers entries). */
  private grow(): void {
    this.allocate(Math.min(this.cap * 2, Math.max(this.hardLimit, this.cap + 1)), this.n);
    this.rebuildIndex(true);
  }

  /** A new entry of the key, its counts empty (not in any index yet). */
  private newEntry(sA: number, epv: number, ppv: number, w: number, dA: number, famBits: number): number {
    const e = this.n++;
    this.srcA[e] = sA;
    this.ep[e] = epv;
    this.pp[e] = ppv;
    this.win[e] = w;
    this.dstA[e] = dA;
    this.flags[e] = famBits;
    this.f[e] = 0;
    this.p[e] = 0;
    this.b[e] = 0;
    this.first[e] = 0xffffffff;
    this.last[e] = 0;
    this.iface[e] = 0;
    this.instance[e] = 0;
    this.region[e] = 0;
    this.sports[e] = 0;
    return e;
  }

  /**
   * The index over entries [0, n) to be written again, in the index allocate sized for the
   * capacity (in the module's memory when the table is there, where the module reads it):
   * emptied, its entries written by the next lookup that needs them (findOrInsert, the
   * module's adds: syncIndex). A replay run's fresh blocks are looked up in their own index
   * only, so its table's index is never written: its 4 MB a shard were page faults for
   * nothing, by the fill and by the entries moved into the arena (~3 ms each a shard thread).
   * `fresh`: the index is allocate's, all zeros already, and not filled again. Any other
   * table than a replay one (replayRows) fills and writes it at once, as before: lazily, GCP's
   * and the text files' runs measured 1.01-1.03x CPU (bench/RESULTS.md, session 16).
   */
  private rebuildIndex(fresh = false): void {
    if (!fresh || !this.replayRows) this.index.fill(0);
    this.mask = this.index.length - 1;
    this.indexed = 0;
    if (!this.replayRows) this.syncIndex();
  }

  /**
   * Entries [indexed, n) into the index, in the order of their slots (a counting sort by the
   * slot's top bits): the index is then written front to back, not at random. Columns and
   * mask in locals and the hash's mixes written out (the same hash as findOrInsert's): it
   * runs once a growth or a replay run, mostly before it is optimised, where every `this.`
   * read and a keyHash call cost (15.6 ms self time of the shard thread's profile on the
   * bucket, one growth of 93,738 entries, before the sort).
   */
  private syncIndex(): void {
    const { n, srcA, ep, pp, win, dstA, flags, index, mask } = this;
    const from = this.indexed;
    const m = n - from;
    const hashes = new Uint32Array(m);
    const shift = Math.max(0, Math.log2(index.length) - SYNC_GROUP_BITS);
    const starts = new Int32Array((1 << SYNC_GROUP_BITS) + 1);
    for (let k = 0; k < m; k++) {
      const e = from + k;
      const h = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, srcA[e]!), ep[e]!), pp[e]!), win[e]!), dstA[e]!), flags[e]! & (F_SRC6 | F_DST6)));
      hashes[k] = h;
      starts[((h & mask) >>> shift) + 1]!++;
    }
    for (let g = 0; g < 1 << SYNC_GROUP_BITS; g++) starts[g + 1]! += starts[g]!;
    const order = new Int32Array(m);
    for (let k = 0; k < m; k++) order[starts[(hashes[k]! & mask) >>> shift]!++] = k;
    for (let j = 0; j < m; j++) {
      const k = order[j]!;
      const h = hashes[k]!;
      let slot = h & mask;
      while (index[slot] !== 0) slot = (slot + 1) & mask;
      index[slot] = (((h >>> TAG_SHIFT) << TAG_SHIFT) | (from + k + 1)) >>> 0;
    }
    this.indexed = n;
  }

  /** No entry can be added: the limit (--max-memory), or the most the index can number. */
  private full(): boolean {
    return this.n >= this.hardLimit || this.n >= MAX_OUTBOUND_ENTRIES;
  }

  /** The host of an entry: (source, cloud + account, window), as a hash and as equality. */
  private hostHash(e: number): number {
    return fmix32(mix(mix(mix(0x85ebca6b | 0, this.srcA[e]!), this.ep[e]!), this.win[e]! ^ ((this.flags[e]! & F_SRC6) << 28)));
  }

  private sameHost(a: number, b: number): boolean {
    return this.srcA[a] === this.srcA[b] && this.ep[a] === this.ep[b] && this.win[a] === this.win[b] && (this.flags[a]! & F_SRC6) === (this.flags[b]! & F_SRC6);
  }

  /**
   * Hash of entry e's key in a grouping `by`, from its host's hash. The grouping's masks
   * pick the key's parts (no branch by grouping: code first optimised on one grouping had
   * no feedback for another's branch, and was thrown away at it).
   */
  private groupHash(e: number, hostHashes: Uint32Array, by: number): number {
    const dstPart = (this.dstA[e]! & DST_MASK[by]!) ^ ((this.flags[e]! & FAM_MASK[by]!) << 27);
    return fmix32(mix(mix(hostHashes[e]! | 0, this.pp[e]! & PP_MASK[by]!), dstPart));
  }

  /** Whether entries a and b have the same key in a grouping `by` (its masks, as groupHash). */
  private sameKey(a: number, b: number, by: number): boolean {
    return this.sameHost(a, b) && (
      ((this.pp[a]! ^ this.pp[b]!) & PP_MASK[by]!) | ((this.dstA[a]! ^ this.dstA[b]!) & DST_MASK[by]!) | ((this.flags[a]! ^ this.flags[b]!) & FAM_MASK[by]!)
    ) === 0;
  }

  /**
   * Entries with equal keys in a grouping `by` (see Groups): the key by a number, not a
   * hash and an equality closure per grouping (the closures made the one loop of every
   * grouping call four different functions: 7-8 optimising compiles of it a run and a
   * call an entry; bench/RESULTS.md, shard section). A typed-array table, no array, string
   * or map entry per group or entry.
   */
  private groupBy(entries: Int32Array, hostHashes: Uint32Array, by: number): Groups {
    const m = entries.length;
    const start = new Int32Array(m + 1);
    const groupOf = new Int32Array(m);
    // the loop a method of its own: optimised while it runs, it had no feedback for the code after it
    const count = this.findGroups(entries, hostHashes, by, start, groupOf);
    return groupsOf(entries, count, start, groupOf);
  }

  /** groupBy's loop: each entry's group into groupOf, each group's size into start[g + 1]; returns the number of groups. */
  private findGroups(entries: Int32Array, hostHashes: Uint32Array, by: number, start: Int32Array, groupOf: Int32Array): number {
    const m = entries.length;
    const size = nextPow2(Math.max(16, m * 2));
    const slots = new Int32Array(size); // group + 1; 0 = empty
    const mask = size - 1;
    const first = new Int32Array(m); // the first entry of each group
    let count = 0;
    for (let j = 0; j < m; j++) {
      const e = entries[j]!;
      let slot = this.groupHash(e, hostHashes, by) & mask;
      for (;;) {
        const g1 = slots[slot]!;
        if (g1 === 0) {
          first[count] = e;
          groupOf[j] = count;
          slots[slot] = ++count;
          break;
        }
        if (this.sameKey(first[g1 - 1]!, e, by)) {
          groupOf[j] = g1 - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
      start[groupOf[j]! + 1]!++;
    }
    return count;
  }

  /** Horizontal and vertical outbound scans, and internal scans (detection.md §4). */
  finalize(t: OutboundThresholds, uptoWindow = 0xffffffff): OutboundFinding[] {
    const out: OutboundFinding[] = [];
    const minInternal = t.minInternalTargets ?? DEFAULT_OUTBOUND.minInternalTargets;
    // Only a host with at least min(min_targets, min_ports, min_internal_targets) entries in a
    // window can raise an alert: group entries by host first, and group the candidates only.
    const need = Math.max(1, Math.min(t.minTargets, t.minPorts, minInternal));
    const home = new HomeNet(t.homeNet ?? []);
    const wasm = this.n > 0 ? wasmGrouping(this, this.v6, home, PIECE, this.arena === null || !this.replayRows ? undefined : (bytes) => this.groupingSpace(bytes)) : null;
    if (wasm !== null) return this.finalizeGrouped(wasm, t, uptoWindow, need, minInternal, out);
    const hosts = this.hostHashes(uptoWindow);
    const hostOf = new Int32Array(this.n);
    const { candidates, hostCount } = this.candidateEntries(uptoWindow, need, hosts, hostOf);
    if (candidates.length === 0) return out;
    const { outbound, internal } = this.splitByTarget(candidates, home);
    const distinct = new DistinctCount();
    const grouping: Grouping = { group: (entries, by) => this.groupBy(entries, hosts, by), atLeast: groupsOfAtLeast, repeatedTargets: withRepeatedTargets };
    this.outboundScans(outbound, t, out, grouping, this.hostInfoOf(outbound, hostOf, hostCount, distinct));
    this.internalScans(internal, t, minInternal, out, grouping, this.hostInfoOf(internal, hostOf, hostCount, distinct));
    return out;
  }

  /** finalize with the groupings in WebAssembly (outbound-wasm.ts): the same findings in the same order. */
  private finalizeGrouped(wasm: WasmGrouping, t: OutboundThresholds, upto: number, need: number, minInternal: number, out: OutboundFinding[]): OutboundFinding[] {
    const { candidates, hostOf, hostCount } = wasm.candidates(upto, need);
    if (candidates.length === 0) return out;
    const { outbound, internal } = wasm.splitByTarget(candidates);
    // the figures and groupings of the hosts that have enough entries for a finding only
    // (at least 1: a threshold of 0 or less filters nothing, as a group has an entry at least)
    const outNeed = Math.max(1, Math.min(t.minTargets, t.minPorts));
    const outFigures = wasm.hostFigures(outbound, hostOf, hostCount, outNeed);
    this.outboundScans(wasm.busyHosts(outbound, hostOf, outFigures, outNeed), t, out, wasmGroups(wasm, outFigures), { hostOf, ...outFigures });
    const inNeed = Math.max(1, minInternal);
    const inFigures = wasm.hostFigures(internal, hostOf, hostCount, inNeed);
    this.internalScans(wasm.busyHosts(internal, hostOf, inFigures, inNeed), t, minInternal, out, wasmGroups(wasm, inFigures), { hostOf, ...inFigures });
    return out;
  }

  /** hostHash of every entry of windows <= upto, computed once for the four groupings of a finalisation. */
  private hostHashes(upto: number): Uint32Array {
    const hosts = new Uint32Array(this.n);
    for (let e = 0; e < this.n; e++) if (this.win[e]! <= upto) hosts[e] = this.hostHash(e);
    return hosts;
  }

  /** Entries whose target is public (outbound) and those whose target is not (internal), each in entry order. */
  private splitByTarget(entries: Int32Array, home: HomeNet): { outbound: Int32Array; internal: Int32Array } {
    const outbound = new Int32Array(entries.length);
    const internal = new Int32Array(entries.length);
    let nOut = 0;
    let nIn = 0;
    const w = new Uint32Array(4);
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j]!;
      this.v6.wordsOf(this.dstA[e]!, (this.flags[e]! & F_DST6) !== 0, w);
      if (home.isPublic(w, 0)) outbound[nOut++] = e;
      else internal[nIn++] = e;
    }
    return { outbound: outbound.subarray(0, nOut), internal: internal.subarray(0, nIn) };
  }

  /**
   * Per host and window: protocols, ports, targets and source-port spread (the NAT look),
   * counted in typed arrays (a Map entry per entry and three Sets per host cost more than
   * the rest of finalisation; issue 19). Read with hostFigures(entry). The hosts are those
   * candidateEntries grouped (hostOf: an entry's host number, of hostCount): the entries are
   * placed by host number, not grouped by hash again.
   */
  private hostInfoOf(entries: Int32Array, hostOf: Int32Array, hostCount: number, distinct: DistinctCount): HostInfo {
    const start = new Int32Array(hostCount + 1);
    const info: HostInfo = {
      hostOf,
      protocols: new Int32Array(hostCount),
      ports: new Int32Array(hostCount),
      targets: new Int32Array(hostCount),
      sports: new Uint32Array(hostCount),
      listStart: start,
    };
    if (entries.length === 0) return info;
    for (let j = 0; j < entries.length; j++) start[hostOf[entries[j]!]! + 1]!++;
    for (let g = 0; g < hostCount; g++) start[g + 1]! += start[g]!;
    const order = new Int32Array(entries.length);
    const fill = start.slice(0, hostCount);
    for (let j = 0; j < entries.length; j++) order[fill[hostOf[entries[j]!]!]!++] = entries[j]!;
    const keys = new Uint32Array(entries.length);
    const tags = new Uint8Array(entries.length); // 0 for protocols and ports
    for (let g = 0; g < hostCount; g++) {
      const from = start[g]!;
      const to = start[g + 1]!;
      if (from === to) continue;
      let sports = 0;
      for (let j = from; j < to; j++) sports |= this.sports[order[j]!]!;
      info.sports[g] = sports;
      for (let j = from; j < to; j++) keys[j] = this.pp[order[j]!]! >>> 16;
      info.protocols[g] = distinct.count(keys, tags, from, to);
      for (let j = from; j < to; j++) keys[j] = this.pp[order[j]!]!;
      info.ports[g] = distinct.count(keys, tags, from, to);
    }
    // targets: an IPv4 address or an IPv6 intern id, told apart by the family flag
    for (let j = 0; j < order.length; j++) {
      const e = order[j]!;
      keys[j] = this.dstA[e]!;
      tags[j] = this.flags[e]! & F_DST6;
    }
    for (let g = 0; g < hostCount; g++) if (start[g]! < start[g + 1]!) info.targets[g] = distinct.count(keys, tags, start[g]!, start[g + 1]!);
    return info;
  }

  /** Internal scans: many non-public targets on one port, with the same small traffic to each. */
  private internalScans(candidates: Int32Array, t: OutboundThresholds, minTargets: number, out: OutboundFinding[], grouping: Grouping, hostInfo: HostInfo): void {
    if (candidates.length === 0) return;
    const groups = grouping.group(candidates, BY_PORT);
    const large = grouping.atLeast(groups, minTargets);
    for (let k = 0; k < large.length; k++) {
      const g = large[k]!;
      if (!this.evenTraffic(groups, g, t)) continue;
      const list = listOf(groups, g);
      out.push(this.finding('internal', list, hostFigures(hostInfo, list[0]!)));
    }
  }

  private outboundScans(candidates: Int32Array, t: OutboundThresholds, out: OutboundFinding[], grouping: Grouping, hostInfo: HostInfo): void {
    if (candidates.length === 0) return;
    const horizontal = grouping.group(candidates, BY_PORT);
    const wide = grouping.atLeast(horizontal, t.minTargets);
    for (let k = 0; k < wide.length; k++) {
      const g = wide[k]!;
      if (!this.evenTraffic(horizontal, g, t)) continue;
      const list = listOf(horizontal, g);
      out.push(this.finding('horizontal', list, hostFigures(hostInfo, list[0]!)));
    }
    const vertical = grouping.group(t.minPorts > 1 ? grouping.repeatedTargets(candidates, hostInfo) : candidates, BY_TARGET);
    const deep = grouping.atLeast(vertical, t.minPorts);
    for (let k = 0; k < deep.length; k++) {
      const list = listOf(vertical, deep[k]!);
      out.push(this.finding('vertical', list, hostFigures(hostInfo, list[0]!)));
    }
  }

  /**
   * Entries (window <= upto) of hosts with at least `need` entries in their window, in
   * entry order (grouped by host exactly, in typed arrays: a Map of counts by host hash
   * cost a map operation per entry), and each one's host number into hostOf (of hostCount
   * numbers; some hosts have no candidate).
   */
  private candidateEntries(upto: number, need: number, hostHashes: Uint32Array, hostOf: Int32Array): { candidates: Int32Array; hostCount: number } {
    const inWindow = new Int32Array(this.n);
    let m = 0;
    for (let e = 0; e < this.n; e++) if (this.win[e]! <= upto) inWindow[m++] = e;
    const entries = inWindow.subarray(0, m);
    const hosts = this.groupBy(entries, hostHashes, BY_HOST);
    let k = 0;
    for (let j = 0; j < m; j++) {
      const g = hosts.groupOf[j]!;
      if (hosts.start[g + 1]! - hosts.start[g]! < need) continue;
      hostOf[entries[j]!] = g;
      inWindow[k++] = entries[j]!; // k <= j: in place
    }
    return { candidates: inWindow.subarray(0, k), hostCount: hosts.count };
  }

  /**
   * Whether group g's entries send the same small traffic to each target: the CVs of their
   * packets and of their bytes (those that have them) within the thresholds, as finding()
   * computes them (cvAtMost decides as coefficientOfVariation of the same values would). A horizontal
   * or internal scan's condition, tested before its finding is made: on the 20 M-record replay
   * file 6,255 of 6,281 horizontal groups fail it, and each finding made only to be dropped
   * sorted three arrays and built sets and strings (~5 % of the shard thread).
   */
  private evenTraffic(groups: Groups, g: number, t: OutboundThresholds): boolean {
    const from = groups.start[g]!;
    const to = groups.start[g + 1]!;
    const v = this.cvScratch(to - from);
    const { order } = groups;
    const flags = this.flags;
    let n = 0;
    for (let j = from; j < to; j++) if (flags[order[j]!]! & F_PACKETS) v[n++] = this.p[order[j]!]!;
    if (n > 0 && !cvAtMost(v, n, t.maxCvPackets)) return false;
    n = 0;
    for (let j = from; j < to; j++) if (flags[order[j]!]! & F_BYTES) v[n++] = this.b[order[j]!]!;
    return n === 0 || cvAtMost(v, n, t.maxCvBytes);
  }

  /** evenTraffic's values, reused from group to group. */
  private cvValues = new Float64Array(256);

  private cvScratch(m: number): Float64Array {
    if (this.cvValues.length < m) this.cvValues = new Float64Array(nextPow2(m));
    return this.cvValues;
  }

  private finding(kind: OutboundFinding['kind'], list: number[], info: HostFigures): OutboundFinding {
    const m = list.length;
    const fv = new Float64Array(m);
    const pv = new Float64Array(m);
    const bv = new Float64Array(m);
    let nP = 0;
    let nB = 0;
    let flows = 0;
    let packets = 0;
    let bytes = 0;
    let first = 0xffffffff;
    let last = 0;
    const ifaces = new Set<number>();
    const instances = new Set<number>();
    const regions = new Set<number>();
    list.forEach((e, j) => {
      fv[j] = this.f[e]!;
      flows += this.f[e]!;
      if (this.flags[e]! & F_PACKETS) {
        pv[nP++] = this.p[e]!;
        packets += this.p[e]!;
      }
      if (this.flags[e]! & F_BYTES) {
        bv[nB++] = this.b[e]!;
        bytes += this.b[e]!;
      }
      first = Math.min(first, this.first[e]!);
      last = Math.max(last, this.last[e]!);
      if (this.iface[e]) ifaces.add(this.iface[e]!);
      if (this.instance[e]) instances.add(this.instance[e]!);
      if (this.region[e]) regions.add(this.region[e]!);
    });
    const e0 = list[0]!;
    const srcWords = new Uint32Array(4);
    this.v6.wordsOf(this.srcA[e0]!, (this.flags[e0]! & F_SRC6) !== 0, srcWords);
    const names = (ids: Set<number>) => [...ids].map((i) => this.strings.strings[i]!).sort().join(';');
    const ports = kind === 'vertical' ? [...new Set(list.map((e) => this.pp[e]! & 0xffff))].sort((a, b) => a - b) : [this.pp[e0]! & 0xffff];
    let target: string | null = null;
    if (kind === 'vertical') {
      const w = new Uint32Array(4);
      this.v6.wordsOf(this.dstA[e0]!, (this.flags[e0]! & F_DST6) !== 0, w);
      target = formatAddress(w);
    }
    return {
      kind,
      window: this.win[e0]!,
      cloud: CLOUD_NAMES[this.ep[e0]! >>> 30]!,
      account: this.accounts.strings[this.ep[e0]! & 0x3fffffff]!,
      region: names(regions),
      srcWords: Array.from(srcWords),
      src: formatAddress(srcWords),
      protocol: this.pp[e0]! >>> 16,
      dstPort: kind !== 'vertical' ? this.pp[e0]! & 0xffff : null,
      target,
      targets: kind !== 'vertical' ? m : 1,
      ports: ports.length,
      portList: ports.slice(0, 20),
      flows,
      packets,
      bytes,
      cvPackets: nP ? coefficientOfVariation(pv, nP) : null,
      cvBytes: nB ? coefficientOfVariation(bv, nB) : null,
      cvFlows: coefficientOfVariation(fv, m),
      iface: names(ifaces),
      instance: names(instances),
      protocolsOfHost: info.protocols,
      portsOfHost: info.ports,
      targetsOfHost: info.targets,
      sourcePortSpread: popcount32(info.sports),
      firstSeen: first,
      lastSeen: last,
    };
  }

  dropWindowsUpTo(upto: number): void {
    const cols: Typed[] = [this.srcA, this.ep, this.pp, this.win, this.dstA, this.flags, this.f, this.p, this.b, this.first, this.last, this.iface, this.instance, this.region, this.sports];
    let w = 0;
    for (let e = 0; e < this.n; e++) {
      if (this.win[e]! <= upto) continue;
      if (w !== e) for (const c of cols) c[w] = c[e]!;
      w++;
    }
    this.n = w;
    this.ranked = 0;
    // an emptied table (the sidecar's closed windows finalised) keeps every host again
    if (w === 0) this.keepBelow = ALL_RANKS;
    this.rebuildIndex();
  }

  exportState(): OutboundState {
    const n = this.n;
    return {
      n,
      srcA: this.srcA.slice(0, n), ep: this.ep.slice(0, n), pp: this.pp.slice(0, n), win: this.win.slice(0, n),
      dstA: this.dstA.slice(0, n), flags: this.flags.slice(0, n), f: this.f.slice(0, n), p: this.p.slice(0, n),
      b: this.b.slice(0, n), first: this.first.slice(0, n), last: this.last.slice(0, n), iface: this.iface.slice(0, n),
      instance: this.instance.slice(0, n), region: this.region.slice(0, n), sports: this.sports.slice(0, n),
      strings: this.strings.strings.slice(), accounts: this.accounts.strings.slice(), v6: this.v6.words.slice(0, this.v6.n * 4),
      shed: this.shedState(),
    };
  }

  private shedState(): ShedState | undefined {
    if (this.keepBelow === ALL_RANKS && this.droppedRecords === 0) return undefined;
    const named = [...this.drops.values()];
    return {
      keepBelow: this.keepBelow,
      records: this.droppedRecords,
      src: Uint32Array.from(named, (n) => n.sA),
      fam: Uint8Array.from(named, (n) => n.fam),
      ep: Uint32Array.from(named, (n) => n.epv),
      win: Uint32Array.from(named, (n) => n.drop.window),
      counts: Float64Array.from(named, (n) => n.drop.records),
    };
  }

  /** A merged state's drops (its ids mapped to this table's): its records, its named hosts, and its rank bound, which entries here then obey. */
  private mergeShed(sh: ShedState, acc: number[], v6: Uint32Array, only?: ShardFilter): void {
    // a checkpoint of another worker count: each shard takes its named hosts, shard 0 the records of the unnamed
    let unnamed = sh.records;
    for (let k = 0; k < sh.counts.length; k++) unnamed -= sh.counts[k]!;
    if (!only || only.shard === 0) this.droppedRecords += unnamed;
    for (let k = 0; k < sh.src.length; k++) {
      const sA = sh.fam[k]! & F_SRC6 ? v6[sh.src[k]!]! : sh.src[k]!;
      this.v6.wordsOf(sA, sh.fam[k] !== 0, this.rankWords);
      if (only && shardOf(hashAddress(this.rankWords, 0), only.shards) !== only.shard) continue;
      this.droppedRecords += sh.counts[k]!;
      const epv = (((sh.ep[k]! >>> 30) << 30) | acc[sh.ep[k]! & 0x3fffffff]!) >>> 0;
      this.nameDrop(sA, sh.fam[k]!, epv, sh.win[k]!, sh.counts[k]!);
    }
    if (sh.keepBelow < this.keepBelow) {
      this.keepBelow = sh.keepBelow;
      this.leaveOut(this.entryRanks());
    }
  }

  mergeState(s: OutboundState, only?: ShardFilter): void {
    const acc = s.accounts.map((a) => this.accounts.idOf(a));
    const str = s.strings.map((x) => this.strings.idOf(x));
    const v6 = new Uint32Array(s.v6.length / 4);
    for (let k = 0; k < v6.length; k++) v6[k] = this.v6.intern(s.v6, k * 4);
    if (s.shed) this.mergeShed(s.shed, acc, v6, only);
    this.hardLimit = this.limitEntries === Infinity ? Infinity : this.n + s.n;
    const words = new Uint32Array(4);
    for (let i = 0; i < s.n; i++) {
      const fl = s.flags[i]!;
      if (only) {
        // keep only the sources this shard owns (a checkpoint may come from another worker count)
        if (fl & F_SRC6) words.set(s.v6.subarray(s.srcA[i]! * 4, s.srcA[i]! * 4 + 4));
        else words.set([0, 0, 0xffff, s.srcA[i]!]);
        if (shardOf(hashAddress(words, 0), only.shards) !== only.shard) continue;
      }
      const sA = fl & F_SRC6 ? v6[s.srcA[i]!]! : s.srcA[i]!;
      const dA = fl & F_DST6 ? v6[s.dstA[i]!]! : s.dstA[i]!;
      const epv = (((s.ep[i]! >>> 30) << 30) | acc[s.ep[i]! & 0x3fffffff]!) >>> 0;
      if (this.keepBelow !== ALL_RANKS && this.entryRankOf(sA, fl, epv, s.win[i]!, s.pp[i]!, dA) >= this.keepBelow) {
        this.drop(sA, fl, epv, s.win[i]!, s.f[i]!);
        continue;
      }
      const e = this.findOrInsert(sA, epv, s.pp[i]!, s.win[i]!, dA, fl);
      if (e < 0) {
        this.drop(sA, fl, epv, s.win[i]!, s.f[i]!);
        continue;
      }
      this.f[e]! += s.f[i]!;
      this.p[e]! += s.p[i]!;
      this.b[e]! += s.b[i]!;
      this.flags[e]! |= fl & (F_PACKETS | F_BYTES);
      this.first[e] = Math.min(this.first[e]!, s.first[i]!);
      this.last[e] = Math.max(this.last[e]!, s.last[i]!);
      this.sports[e]! |= s.sports[i]!;
      this.keepSmallest(this.iface, e, str[s.iface[i]!]!);
      this.keepSmallest(this.instance, e, str[s.instance[i]!]!);
      this.keepSmallest(this.region, e, str[s.region[i]!]!);
    }
    if (this.n > this.limitEntries) this.shed();
  }
}

/** A host's rank (the order of named drops): its source address's hash, cloud, account name's hash and window mixed. */
function hostRank(addressHash: number, cloud: number, accountHash: number, w: number): number {
  return fmix32(mix(mix(mix(addressHash, cloud), accountHash), w)) >>> 0;
}

/** An entry's rank (OutboundTable.keepBelow): its host's rank, protocol << 16 | port and target address's hash mixed. */
function entryRank(host: number, ppv: number, targetHash: number): number {
  return fmix32(mix(mix(host, ppv), targetHash)) >>> 0;
}

/** FNV-1a of a string's UTF-16 units, mixed. */
function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return fmix32(h) >>> 0;
}

/** Named drops' order: rank, then the report's fields (ranks of two hosts may be equal). */
function namedOrder(a: NamedDrop, b: NamedDrop): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  const x = a.drop;
  const y = b.drop;
  if (x.src !== y.src) return x.src < y.src ? -1 : 1;
  if (x.window !== y.window) return x.window - y.window;
  if (x.cloud !== y.cloud) return x.cloud < y.cloud ? -1 : 1;
  return x.account < y.account ? -1 : x.account > y.account ? 1 : 0;
}

/**
 * The largest rank bound that keeps at most `keep` of the n entries ranked `ranks`: the
 * entries counted by the top 16 bits of their rank, then those of the bucket where the
 * count passes `keep` sorted (ALL_RANKS when all n fit).
 */
function rankToKeep(ranks: Uint32Array, n: number, keep: number): number {
  if (n <= keep) return ALL_RANKS;
  const counts = new Uint32Array(1 << 16);
  for (let e = 0; e < n; e++) counts[ranks[e]! >>> 16]!++;
  let below = 0;
  let top = 0;
  while (below + counts[top]! <= keep) below += counts[top++]!;
  const inTop: number[] = [];
  for (let e = 0; e < n; e++) if (ranks[e]! >>> 16 === top) inTop.push(ranks[e]!);
  inTop.sort((a, b) => a - b);
  return inTop[keep - below]!;
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * Entries with equal keys: group g's entries are order[start[g], start[g + 1]), groups in
 * order of first appearance and entries in input order; groupOf[j] is the group of
 * entries[j] (OutboundTable.groupBy).
 */
interface Groups {
  count: number;
  start: Int32Array;
  order: Int32Array;
  groupOf: Int32Array;
}

/**
 * How a finalisation groups and sifts a list of entries: OutboundTable's own loops, or the
 * WebAssembly groupings' (wasmGroups). `group`: the entries by a grouping (BY_*); `atLeast`:
 * the numbers of the groups of at least `min` entries, in order; `repeatedTargets`:
 * withRepeatedTargets.
 */
interface Grouping {
  group(entries: Int32Array, by: number): Groups;
  atLeast(groups: Groups, min: number): Int32Array;
  repeatedTargets(entries: Int32Array, info: HostInfo): Int32Array;
}

/** The WebAssembly groupings' Grouping of a list whose host figures are `figures` (hostFigures of it). */
function wasmGroups(wasm: WasmGrouping, figures: WasmHostFigures): Grouping {
  return {
    group: (entries, by) => wasm.groupBy(entries, by),
    atLeast: (groups, min) => wasm.largeGroups(groups, min),
    repeatedTargets: (entries, info) => wasm.repeatedTargets(entries, info.hostOf, figures),
  };
}

/** The Groups of entries whose group numbers are groupOf, start holding each group's size at g + 1 (counted as the groups were found). */
function groupsOf(entries: Int32Array, count: number, start: Int32Array, groupOf: Int32Array): Groups {
  const m = entries.length;
  for (let g = 0; g < count; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(m);
  placeInGroups(entries, groupOf, start.slice(0, count), order);
  return { count, start: start.subarray(0, count + 1), order, groupOf };
}

/**
 * Writes each entry into order at its group's next place (fill: each group's first place).
 * A function of its own: groupsOf, optimised inside this loop, was thrown away at the code
 * after it, which had not yet run (three times a run on the bucket).
 */
function placeInGroups(entries: Int32Array, groupOf: Int32Array, fill: Int32Array, order: Int32Array): void {
  for (let j = 0; j < entries.length; j++) order[fill[groupOf[j]!]!++] = entries[j]!;
}

/** Group g's entries as a list (a finding is made from it). */
/**
 * The groups with at least `min` entries into `large` (room for every group), in group order:
 * how many. A loop of its own, run over every group: when the scans' loops ran over every
 * group, V8 compiled each of them on stack (OSR) with the findings' code inlined, 7-14 ms of
 * a helper thread a loaded GCP run (`node --trace-opt`) for loops that take a few groups in
 * thousands. Nothing follows the loop, so its OSR code is never thrown away for a later
 * statement without type feedback.
 */
function groupsOfAtLeast(groups: Groups, min: number): Int32Array {
  const { start, count } = groups;
  const large = new Int32Array(count);
  let n = 0;
  for (let g = 0; g < count; g++) if (start[g + 1]! - start[g]! >= min) large[n++] = g;
  return large.subarray(0, n);
}

function listOf(groups: Groups, g: number): number[] {
  return Array.from(groups.order.subarray(groups.start[g]!, groups.start[g + 1]!));
}

/**
 * Distinct (key, tag) pairs among keys[from, to) and tags[from, to), counted in an
 * open-addressing set whose slots are marked with a round number (no clearing between
 * counts). It replaced sorting each host's values three times (an insertion sort, O(m²),
 * was 15 % of finalisation's profile on the bucket's shape).
 */
class DistinctCount {
  private keys = new Uint32Array(64);
  private tags = new Uint8Array(64);
  private rounds = new Uint32Array(64);
  private round = 0;

  count(keys: Uint32Array, tags: Uint8Array, from: number, to: number): number {
    if (to - from <= 1) return to - from;
    if ((to - from) * 2 > this.keys.length) this.grow(nextPow2((to - from) * 2));
    if (this.round === 0xffffffff) {
      this.rounds.fill(0);
      this.round = 0;
    }
    const round = ++this.round;
    const { keys: setKeys, tags: setTags, rounds } = this;
    const mask = setKeys.length - 1;
    let n = 0;
    for (let j = from; j < to; j++) {
      const k = keys[j]!;
      const t = tags[j]!;
      let slot = fmix32(k ^ Math.imul(t, 0x9e3779b1)) & mask;
      for (;;) {
        if (rounds[slot] !== round) {
          rounds[slot] = round;
          setKeys[slot] = k;
          setTags[slot] = t;
          n++;
          break;
        }
        if (setKeys[slot] === k && setTags[slot] === t) break;
        slot = (slot + 1) & mask;
      }
    }
    return n;
  }

  private grow(size: number): void {
    this.keys = new Uint32Array(size);
    this.tags = new Uint8Array(size);
    this.rounds = new Uint32Array(size);
    this.round = 0;
  }
}
