/**
 * A stage: some of a batch's columns, room for `cap` records each, laid out one after
 * another in a WebAssembly module's memory, where the module reads a batch a stage at a time
 * (scan-wasm.ts HeldSorter for the inbound hold step, outbound-adds.ts OutboundArena for the
 * outbound add loop). A stage is filled one copy a column; the module's side
 * (assembly/scan-held.ts setHold, assembly/outbound-adds.ts addStaged) finds each column where
 * the column order given here puts it.
 */
import { narrowCountAt, narrowIsV6, narrowV6At, type FlowBatchData } from '../flow/batch.js';

type ColumnArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;
type ColumnType = new (buf: ArrayBufferLike, byteOffset: number, length: number) => ColumnArray;

/** The columns a stage may hold: each one's array type and values a record (flow/batch.ts). */
const COLUMNS = {
  feed: [Uint8Array, 1],
  src: [Uint32Array, 4],
  dst: [Uint32Array, 4],
  proto: [Uint8Array, 1],
  sport: [Uint16Array, 1],
  dport: [Uint16Array, 1],
  packets: [Float64Array, 1],
  bytes: [Float64Array, 1],
  start: [Uint32Array, 1],
  end: [Uint32Array, 1],
  cloud: [Uint8Array, 1],
  account: [Uint32Array, 1],
  region: [Uint32Array, 1],
  iface: [Uint32Array, 1],
  instance: [Uint32Array, 1],
} as const satisfies Record<string, readonly [ColumnType & { BYTES_PER_ELEMENT: number }, number]>;

export type StagedColumn = keyof typeof COLUMNS;

/** Bytes a record takes in a stage of these columns (unaligned: each column follows the last). */
export function stageRecordBytes(columns: readonly StagedColumn[]): number {
  let bytes = 0;
  for (const c of columns) bytes += COLUMNS[c][0].BYTES_PER_ELEMENT * COLUMNS[c][1];
  return bytes;
}

export class BatchStage<C extends StagedColumn> {
  /** The stage's columns, as views of the memory (valid while it is not grown). */
  readonly views: { readonly [K in C]: FlowBatchData[K] };
  /** keepsNarrow: the batch's entry index of the first IPv6 entry staged in src, dst (narrowStage). */
  k0Src = 0;
  k0Dst = 0;

  /**
   * The columns, in this order, for `cap` records each, from byte `at` of `buf`.
   * `keepsNarrow`: a narrow batch's addresses (flow/batch.ts) are staged as they are, a word
   * each at the column's start (the module reads that form: assembly/scan-held.ts holdStaged);
   * else they are staged in four words.
   */
  constructor(
    buf: ArrayBufferLike,
    at: number,
    readonly cap: number,
    private readonly columns: readonly C[],
    private readonly keepsNarrow = false,
  ) {
    const views: Partial<Record<C, ColumnArray>> = {};
    for (const c of columns) {
      const [make, per] = COLUMNS[c];
      views[c] = new (make as ColumnType)(buf, at, cap * per);
      at += cap * per * make.BYTES_PER_ELEMENT;
    }
    this.views = views as BatchStage<C>['views'];
  }

  /**
   * Records [from, from + n) of the batch (n <= cap) copied into the stage's columns, or into
   * those of them named. A call a stage, not a record: the loop over columns costs nothing.
   */
  copy(batch: FlowBatchData, from: number, n: number, columns: readonly C[] = this.columns): void {
    for (const c of columns) {
      const per = COLUMNS[c][1];
      if (per === 4 && batch.narrow === true) this.copyNarrow(this.views[c] as Uint32Array, batch[c] as Uint32Array, batch.feed.length, from, n);
      else (this.views[c] as Uint32Array).set((batch[c] as Uint32Array).subarray(from * per, (from + n) * per));
    }
  }

  /**
   * A narrow batch's address column (capacity `cap`), records [from, from + n), staged a word
   * each (keepsNarrow: an IPv6 record's word is its entry's index, which the module never reads)
   * or in four words.
   */
  private copyNarrow(view: Uint32Array, col: Uint32Array, cap: number, from: number, n: number): void {
    if (this.keepsNarrow) {
      const k0 = narrowStage(view, this.cap, col, cap, from, n);
      if (view === this.views['src' as C]) this.k0Src = k0;
      else this.k0Dst = k0;
      return;
    }
    const v6At = narrowV6At(cap);
    for (let k = 0, o = 0; k < n; k++, o += 4) {
      const w = col[from + k]!;
      if (narrowIsV6(col, cap, from + k)) view.set(col.subarray(v6At + w * 4, v6At + w * 4 + 4), o);
      else {
        view[o] = 0;
        view[o + 1] = 0;
        view[o + 2] = 0xffff;
        view[o + 3] = w;
      }
    }
  }
}

/**
 * A narrow address column's records [from, from + n) (capacity `cap`) staged for the hold
 * module (assembly/scan-held.ts holdStaged, NARROW_*) in a stage column of `stageCap` records
 * (four words each): the words, then a bit a record from word stageCap, then from word
 * stageCap + stageCap / 32 the IPv6 entries from the first of these records on, as many as fit.
 * Returns the batch's index of the first entry staged.
 */
export function narrowStage(view: Uint32Array, stageCap: number, col: Uint32Array, cap: number, from: number, n: number): number {
  view.set(col.subarray(from, from + n));
  const bitsAt = stageCap;
  const words = (n + 31) >>> 5;
  const shift = from & 31;
  let any = 0;
  for (let j = 0, w = cap + (from >>> 5); j < words; j++, w++) {
    let bits = shift === 0 ? col[w]! : (col[w]! >>> shift) | (col[w + 1]! << (32 - shift));
    if (j === words - 1 && (n & 31) !== 0) bits &= (1 << (n & 31)) - 1; // no bits of records past the stage's
    view[bitsAt + j] = bits;
    any |= bits;
  }
  if (any === 0) return 0;
  // the entries lie in record order: the first staged record with an IPv6 address holds the first one's index
  let k0 = 0;
  for (let j = 0; j < words; j++) {
    const bits = view[bitsAt + j]!;
    if (bits !== 0) {
      k0 = col[from + j * 32 + (31 - Math.clz32(bits & -bits))]!;
      break;
    }
  }
  const v6At = bitsAt + (stageCap >>> 5);
  const room = (view.length - v6At) >>> 2;
  const entries = Math.min(room, col[narrowCountAt(cap)]! - k0);
  const at = narrowV6At(cap) + k0 * 4;
  view.set(col.subarray(at, at + entries * 4), v6At);
  return k0;
}
