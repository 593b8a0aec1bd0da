/**
 * The inbound accumulator's state: its contents exported (checkpoints, merges elsewhere)
 * and another table's contents merged in. Entries merge by addition, so tables holding
 * parts of the same keys (shards, checkpoints, machines) combine exactly.
 */
import { bucketOf, hashAddress, shardOf } from '../flow/hash.js';
import type { ScanCore } from './scan-core.js';
import {
  BYT, COUNT_VALUES, DST, ENTRY_WORDS, EP, F_BYTES, F_PACKETS, F_SRC6, F_DST6, FIRST, FLAG_BITS, FLOWS, LAST, PKT, PP,
  RF, SRC, WIN, type ScanTableState, type ShardFilter,
} from './scan-layout.js';

/** The table's contents (the caller adds held records first). */
export function exportState(t: ScanCore): ScanTableState {
  return {
    n: t.count,
    words: t.u.slice(0, t.count * ENTRY_WORDS),
    counts: t.d.slice(0, t.count * COUNT_VALUES),
    accounts: t.accounts.strings.slice(),
    regions: t.regions.strings.slice(),
    v6: t.v6.words.slice(0, t.v6.n * 4),
  };
}

/**
 * The table's contents in place, not copied (a spill writes them out at once): valid until
 * the table next changes. Copying them made each spill leave a table's worth of garbage
 * that the shard's collector freed late (issue 16 item 5).
 */
export function viewState(t: ScanCore): ScanTableState {
  return {
    n: t.count,
    words: t.u.subarray(0, t.count * ENTRY_WORDS),
    counts: t.d.subarray(0, t.count * COUNT_VALUES),
    accounts: t.accounts.strings,
    regions: t.regions.strings,
    v6: t.v6.words.subarray(0, t.v6.n * 4),
  };
}

/** Add another table's contents to this one: counts add, first/last take min/max (the caller adds held records first). */
export function mergeState(t: ScanCore, s: ScanTableState, only?: ShardFilter): void {
  if (!(s.counts instanceof Float64Array) || s.words.length !== s.n * ENTRY_WORDS) {
    // a checkpoint written by a flowsieve with the older 56-byte entries
    throw new Error('accumulator state of another layout (written by an older flowsieve): it cannot be read by this one');
  }
  const accountIds = s.accounts.map((a) => t.accounts.idOf(a));
  const regionIds = s.regions.map((r) => t.regions.idOf(r));
  const v6Ids = new Uint32Array(s.v6.length / 4);
  for (let k = 0; k < v6Ids.length; k++) v6Ids[k] = t.v6.intern(s.v6, k * 4);
  const su = s.words;
  const sd = s.counts;
  const words = new Uint32Array(4);
  for (let i = 0; i < s.n; i++) {
    const iw = i * ENTRY_WORDS;
    const fl = (su[iw + RF]! >>> 16) & FLAG_BITS;
    if (fl & F_SRC6) words.set(s.v6.subarray(su[iw + SRC]! * 4, su[iw + SRC]! * 4 + 4));
    else {
      words[0] = 0;
      words[1] = 0;
      words[2] = 0xffff;
      words[3] = su[iw + SRC]!;
    }
    const srcHash = hashAddress(words, 0);
    // keep only the sources this shard owns (a checkpoint may come from another worker count)
    if (only && shardOf(srcHash, only.shards) !== only.shard) continue;
    const sA = fl & F_SRC6 ? v6Ids[su[iw + SRC]!]! : su[iw + SRC]!;
    const dA = fl & F_DST6 ? v6Ids[su[iw + DST]!]! : su[iw + DST]!;
    const epIn = su[iw + EP]!;
    const epv = (((epIn >>> 30) << 30) | accountIds[epIn & 0x3fffffff]!) >>> 0;
    const rf = (regionIds[su[iw + RF]! & 0xffff]! | (fl << 16)) >>> 0;
    const e = t.findOrInsert(sA, su[iw + PP]!, su[iw + WIN]!, epv, dA, rf, bucketOf(srcHash));
    const ew = e * ENTRY_WORDS;
    const ed = e * COUNT_VALUES;
    t.u[ew + FLOWS]! += su[iw + FLOWS]!;
    t.d[ed + PKT]! += sd[i * COUNT_VALUES + PKT]!;
    t.d[ed + BYT]! += sd[i * COUNT_VALUES + BYT]!;
    t.u[ew + RF] = (t.u[ew + RF]! | ((fl & (F_PACKETS | F_BYTES)) << 16)) >>> 0;
    if (su[iw + FIRST]! < t.u[ew + FIRST]!) t.u[ew + FIRST] = su[iw + FIRST]!;
    if (su[iw + LAST]! > t.u[ew + LAST]!) t.u[ew + LAST] = su[iw + LAST]!;
  }
}
