/**
 * The inbound accumulator's entry layout and the types of its exported state: the leaf
 * the scan-table modules (core, ingest, finalise, state) and the spill code share.
 *
 * An entry is nine u32 words (the key, the flow count, first and last times) in one
 * array and its two f64 sums (packets, bytes) in another: 52 bytes, no object per entry.
 */

import { SHARD_BUCKETS } from '../flow/hash.js';

export const F_PACKETS = 1;
export const F_BYTES = 2;
export const F_SRC6 = 4;
export const F_DST6 = 8;

/** Entry layout, in 32-bit words (exported for the spill code, src/engine/spill.ts). */
export const ENTRY_WORDS = 9;
export const COUNT_VALUES = 2; // f64 sums an entry: packets, bytes
/** Bytes an entry (words and sums, without the index). */
export const ENTRY_BYTES = ENTRY_WORDS * 4 + COUNT_VALUES * 8;
export const SRC = 0; // IPv4 address, or IPv6 intern id
export const PP = 1; // protocol << 16 | dst port
export const WIN = 2; // window index
export const EP = 3; // cloud << 30 | account id
export const DST = 4;
export const RF = 5; // region id (low 16 bits) | flags << 16 (4 bits) | source bucket << 20
export const FLOWS = 6;
export const FIRST = 7;
export const LAST = 8;
export const PKT = 0; // within an entry's sums
export const BYT = 1;
export const BUCKET_SHIFT = 20;
export const FLAG_BITS = 0xf;
/** The key's part of the RF word: region and address families. */
export const KEY_RF = (0xffff | ((F_SRC6 | F_DST6) << 16)) >>> 0;
/** Index slots: a 4-bit tag of the key's hash << 28 | entry + 1 (0 = empty). */
export const SLOT_ENTRY = 0x0fffffff;
/** Entries a table can hold (the index's entry field); --max-memory spills long before. */
export const MAX_TABLE_ENTRIES = SLOT_ENTRY - 1;
/** Index fill at most (linear probing with tags stays short). */
export const INDEX_LOAD = 0.7;

/**
 * A held row (scan-ingest.ts PendingRows; assembly/scan-held.ts writes, sorts and adds the
 * same rows): ten u32 words, 40 bytes.
 *   0-5  the key words as an entry's (SRC, PP, WIN, EP, DST, RF; RF with the source bucket
 *        << BUCKET_SHIFT as an entry's, without the known flags: the sort reads the bucket
 *        from the row it loads, and the hold writes no list of buckets beside the rows)
 *   6    packets: the count when it is an integer below HELD_WIDE, HELD_UNKNOWN for NaN
 *        (not known), HELD_WIDE when the row is wide
 *   7    bytes: likewise; in a wide row, its place in the wide list, whose two f64 (packets,
 *        bytes) are the counts as they came
 *   8, 9 start, end
 * Counts are whole numbers below 2^32 in nearly every record, so a row is 40 bytes, not 48
 * with two f64: fewer bytes written, sorted, copied and first touched. A count held as its
 * u32 and read back as an f64 is the same f64, and -0 (held as 0) adds to a sum as +0 does.
 */
export const HELD_WORDS = 10;
export const HELD_PACKETS = 6;
export const HELD_BYTES = 7;
export const HELD_START = 8;
export const HELD_END = 9;
export const HELD_UNKNOWN = 0xffffffff;
export const HELD_WIDE = 0xfffffffe;

/**
 * A part's held rows are sorted by bucket, then by the top bits of their key hash
 * (scan-ingest.ts sortHeldPart): this many bits at most, fewer for a part of few rows (the
 * sort's groups, 64 << bits, never many more than its rows).
 */
export const HELD_SORT_BITS = 8;

/** Hash bits a part of m held rows is sorted by: the most with 64 << bits <= m, at most HELD_SORT_BITS. */
export function heldSortBits(m: number): number {
  let bits = 0;
  while (bits < HELD_SORT_BITS && 64 << (bits + 1) <= m) bits++;
  return bits;
}

/** A count's word in a held row: the count, HELD_UNKNOWN (NaN) or HELD_WIDE (not a whole number below HELD_WIDE). */
export function heldCount(x: number): number {
  if (x !== x) return HELD_UNKNOWN;
  return x >= 0 && x < HELD_WIDE && Math.floor(x) === x ? x : HELD_WIDE;
}

/** A narrow held row's count word as the f64 it was. */
export function countOfHeld(w: number): number {
  return w === HELD_UNKNOWN ? NaN : w;
}

/** Which shard is merging: entries of other shards' sources are skipped. */
export interface ShardFilter {
  shard: number;
  shards: number;
}

/** A table's contents, as exported for checkpoints and merges. */
export interface ScanTableState {
  n: number;
  words: Uint32Array; // n entries of ENTRY_WORDS words
  counts: Float64Array; // n entries of COUNT_VALUES values (packets, bytes)
  accounts: string[];
  regions: string[];
  v6: Uint32Array;
}

/** Index slots for a table of `capacity` entries (at most INDEX_LOAD full; any number, not a power of two). */
export function indexSlots(capacity: number): number {
  return Math.ceil(Math.max(SHARD_BUCKETS, capacity) / INDEX_LOAD);
}

export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
