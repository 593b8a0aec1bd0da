/**
 * The endpoint-days of a finalisation in WebAssembly (assembly/endpoint-days.ts, built into
 * dist/wasm/ by scripts/wasm.mjs). A detect run finalises its table once, and EndpointDays'
 * per-triple loops (numbering endpoint-days, grouping the triples, sorting and counting each
 * day's sources and ports: ~200 k triples on the 7 M-record bucket) ran mostly before V8 had
 * optimised them, in both threads of the tail split, each compiling them again. The module
 * is compiled before it runs.
 *
 * StagedEndpointDays keeps each scan as it comes (its endpoint rows copied, a few words), and
 * at result() copies them all into a fresh memory sized for every array the module lays out
 * (it never grows: growing would detach the buffer the views below look at), runs the passes
 * in pieces (wasm-pieces.ts) and makes the objects from the module's columns. The same ids in
 * the same order and the same counts as EndpointDays, which still runs where the module was not
 * built, with FLOWSIEVE_FINALISE=js (A/B runs, tests), for more rows than MAX_ROWS, and where
 * the memory cannot be had.
 */
import { wasmModule } from '../data/files.js';
import { dayOf, EndpointDays, endpointDaysOf, type EndpointDaySink, type EndpointDayTable } from './endpoint-days.js';
import { finaliseInModule } from './scan-finalise-wasm.js';
import { nextPow2 } from './scan-layout.js';
import { inPieces, PIECE } from './wasm-pieces.js';
import type { EndpointDay } from './verdict.js';

interface DaysExports {
  layoutBytes(rows: number, scans: number): number;
  setLayout(at: number, rows: number, scans: number): void;
  addScans(from: number, to: number, row: number): number;
  dayCount(): number;
  countDays(from: number, to: number): void;
  dayStarts(): void;
  placeScans(from: number, to: number, triple: number): number;
  distinctDays(from: number, to: number): void;
  addresses(out: number): void;
}

/** The nine addresses `addresses` writes, in its order. */
const enum At {
  rows,
  scans,
  keys,
  entries,
  starts,
  portEnds,
  sources,
  ports,
  scanners,
}

const PAGE = 65536;
/** the module's own data lies below this; the addresses just below it */
const BASE = 4096;
const ADDRESSES = BASE - 64;
/** rows (triples) the module takes at most: ~104 bytes each laid out, well inside wasm32 */
export const MAX_ROWS = 1 << 24;
/** a staged scan's words: window, source word, IPv6 (0 or 1), port, rows */
const SCAN_WORDS = 5;
/** endpoint-days a distinctDays call takes (most have a few triples; a piece then is ~PIECE triples) */
const DAY_PIECE = 512;

/** The endpoint-days of one finalisation over `t`: the module's when it is built and not switched off, else EndpointDays. */
export function endpointDaysFor(t: EndpointDayTable, windowSeconds: number): EndpointDaySink {
  const m = finaliseInModule() ? wasmModule('endpoint-days.wasm') : null;
  return m === null ? new EndpointDays(t, windowSeconds) : new StagedEndpointDays(m, t, windowSeconds);
}

/** Scans staged for the module (see the file comment). */
export class StagedEndpointDays implements EndpointDaySink {
  private rows: Uint32Array = new Uint32Array(4096 * 4);
  private rowCount = 0;
  private scans: Uint32Array = new Uint32Array(256 * SCAN_WORDS);
  private scanCount = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly t: EndpointDayTable,
    private readonly windowSeconds: number,
  ) {}

  /** EndpointDays.addScan's arguments, kept: the rows copied (the caller reuses them), the scan's words. */
  addScan(window: number, sA: number, s6: number, port: number, rows: Uint32Array, from: number, count: number): void {
    if ((this.rowCount + count) * 4 > this.rows.length) this.rows = grown(this.rows, (this.rowCount + count) * 4);
    this.rows.set(rows.subarray(from * 4, (from + count) * 4), this.rowCount * 4);
    this.rowCount += count;
    if ((this.scanCount + 1) * SCAN_WORDS > this.scans.length) this.scans = grown(this.scans, (this.scanCount + 1) * SCAN_WORDS);
    const s = this.scans;
    const at = this.scanCount++ * SCAN_WORDS;
    s[at] = window;
    s[at + 1] = sA;
    s[at + 2] = s6 ? 1 : 0;
    s[at + 3] = port;
    s[at + 4] = count;
  }

  result(withSources: boolean): EndpointDay[] {
    if (this.rowCount > MAX_ROWS) return this.inJs().result(withSources);
    const rows = this.rowCount;
    const scans = this.scanCount;
    // the rows' and scans' room first, so that layoutBytes' figure is the whole memory
    const probe = new WebAssembly.Instance(this.module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }).exports as unknown as DaysExports;
    const bytes = BASE + probe.layoutBytes(rows, scans);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    } catch {
      return this.inJs().result(withSources); // no room for the memory: the staged scans in JavaScript
    }
    const ex = new WebAssembly.Instance(this.module, { env: { memory } }).exports as unknown as DaysExports;
    ex.setLayout(BASE, rows, scans);
    ex.addresses(ADDRESSES);
    const b = memory.buffer;
    const at = new Uint32Array(b, ADDRESSES, 9);
    new Uint32Array(b, at[At.rows], rows * 4).set(this.rows.subarray(0, rows * 4));
    const scanWords = new Uint32Array(b, at[At.scans], scans * SCAN_WORDS);
    scanWords.set(this.scans.subarray(0, scans * SCAN_WORDS));
    // the module takes the scan's UTC day in place of its window
    for (let s = 0; s < scans; s++) scanWords[s * SCAN_WORDS] = dayOf(scanWords[s * SCAN_WORDS]!, this.windowSeconds);
    let row = 0;
    this.scanPieces((from, to) => {
      row = ex.addScans(from, to, row);
    });
    const n = ex.dayCount();
    inPieces(rows, PIECE, (from, to) => ex.countDays(from, to));
    ex.dayStarts();
    let triple = 0;
    this.scanPieces((from, to) => {
      triple = ex.placeScans(from, to, triple);
    });
    inPieces(n, DAY_PIECE, (from, to) => ex.distinctDays(from, to));
    return endpointDaysOf(
      {
        n,
        keyOf: new Uint32Array(b, at[At.keys], n * 4),
        entryOf: new Int32Array(b, at[At.entries], n),
        start: new Int32Array(b, at[At.starts], n + 1),
        portEnd: new Int32Array(b, at[At.portEnds], n),
        ports: new Uint32Array(b, at[At.ports], rows),
        scanners: new Int32Array(b, at[At.scanners], n),
        sources: () => sourcesOf(new Uint32Array(b, at[At.sources], rows * 2)),
      },
      this.t,
      withSources,
    );
  }

  /** Calls pass(from, to) over the staged scans in pieces of about PIECE rows each. */
  private scanPieces(pass: (from: number, to: number) => void): void {
    let from = 0;
    let rows = 0;
    for (let s = 0; s < this.scanCount; s++) {
      rows += this.scans[s * SCAN_WORDS + 4]!;
      if (rows >= PIECE) {
        pass(from, s + 1);
        from = s + 1;
        rows = 0;
      }
    }
    if (from < this.scanCount) pass(from, this.scanCount);
  }

  /** The staged scans given to EndpointDays (more rows than the module takes). */
  private inJs(): EndpointDays {
    const days = new EndpointDays(this.t, this.windowSeconds);
    let row = 0;
    for (let s = 0; s < this.scanCount; s++) {
      const at = s * SCAN_WORDS;
      const count = this.scans[at + 4]!;
      days.addScan(this.scans[at]!, this.scans[at + 1]!, this.scans[at + 2]!, this.scans[at + 3]!, this.rows, row, count);
      row += count;
    }
    return days;
  }
}

/** The module's sources (u64: a source word, 1 in the high word when IPv6) as EndpointDays' numbers (word + 2^32 when IPv6). */
function sourcesOf(words: Uint32Array): Float64Array {
  const out = new Float64Array(words.length >> 1);
  for (let j = 0; j < out.length; j++) out[j] = words[j * 2]! + words[j * 2 + 1]! * 4294967296;
  return out;
}

/** A copy of `a` with room for `need` items (a power of two). */
function grown(a: Uint32Array, need: number): Uint32Array {
  const b = new Uint32Array(nextPow2(need));
  b.set(a);
  return b;
}
