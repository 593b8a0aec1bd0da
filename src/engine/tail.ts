/**
 * The serial end of a detect run (issue 19, targets 1 and 2). After the last batch one shard
 * thread adds the records it still holds back (scan-table.ts addBatch), finalises the inbound
 * table and the outbound one, while the other core idles; then the engine's thread merges
 * and writes. Here the held-back records are added near the end of the parse instead, while
 * the shard thread waits for the last batches anyway (it idles about half of the parse), so
 * that the finalisation adds only those of the last files (bench/RESULTS.md, branch tail2).
 * The result is the same: every reader of the table adds the held records first.
 */

/**
 * Shares of the input's bytes parsed at which the shards add what they hold. At 90 % the
 * rows held since a shard's last flush (up to ~0.4 M on the bucket, ~80 ns each) take about
 * what the last tenth of the parse leaves the shard thread; at 97 % again, for those of that
 * tenth. Each flush adds fewer rows a bucket than one flush would, which costs the add path
 * (bench/probes/flush-split.mjs).
 */
export const EARLY_FLUSHES: readonly number[] = [0.9, 0.97];

/**
 * The shares this ingest flushes at: EARLY_FLUSHES; none with FLOWSIEVE_TAIL=serial (all
 * added at the finalisation, as before); FLOWSIEVE_TAIL=0.95 (a comma list of shares between
 * 0 and 1) others, for A/B runs. Read at each ingest: tests switch it.
 */
export function earlyFlushShares(): readonly number[] {
  if (process.env.FLOWSIEVE_TAIL === 'serial') return [];
  return namedShares() ?? EARLY_FLUSHES;
}

/** Whether FLOWSIEVE_TAIL names the shares (A/B runs, tests): then every flush adds, whatever it holds. */
export function earlyFlushesNamed(): boolean {
  return namedShares() !== null;
}

/** FLOWSIEVE_TAIL's list of shares, ascending; null when it names none (unset, 'serial', or not a list of shares). */
function namedShares(): number[] | null {
  const v = process.env.FLOWSIEVE_TAIL;
  if (!v || v === 'serial') return null;
  const shares = v.split(',').map(Number);
  return shares.every((s) => s > 0 && s < 1) ? shares.sort((a, b) => a - b) : null;
}

/** How many of `shares` (ascending) `parsed` of `total` bytes has passed. */
export function flushesDue(parsed: number, total: number, shares: readonly number[]): number {
  let k = 0;
  while (k < shares.length && parsed >= shares[k]! * total) k++;
  return k;
}

/**
 * The tail split: at the whole run's finalisation a lone shard thread finalises its inbound
 * table, then its outbound one, while the engine's thread waits and the other core idles
 * (~300 ms on the 7 M-record bucket: bench/probes/tail-phases.mjs). With the split the
 * shard offers its table to the engine's thread at once, which sorts it by bucket and
 * finalises buckets over the table's shared memory (scan-finalise.ts finalizeShare) while the
 * shard finalises its outbound table; then both take the buckets left, a chunk at a time, so that
 * they end together whatever the two tables' shares of the work. The parts merge as
 * shards' do. FLOWSIEVE_TAILSPLIT=off keeps the finalisation whole on the shard, =always
 * splits a table of any size (A/B runs, tests; read at each finalisation: tests switch it).
 */
export function tailSplitOn(): boolean {
  return process.env.FLOWSIEVE_TAILSPLIT !== 'off';
}

/**
 * Inbound entries below which a shard finalises alone. On the Intel host of sessions 14-22 the
 * split cost about what it saved on the 2 M-record bucket (645 k entries: 1.002x wall, 1.026x CPU
 * in 12 quiet pairs) and saved on the 7 M one (2.29 M entries: 0.967x wall). On the AMD host
 * since session 23 it saves on the 224 MB text file (631 k entries: 5 of 5 quiet pairs faster,
 * ~0.93x wall, CPU level; bench/RESULTS.md, session 24 text3).
 */
export const TAIL_SPLIT_MIN_ENTRIES = 600_000;

/**
 * Outbound entries from which a shard whose outbound table holds at least half as many entries
 * as its inbound one splits too, whatever the inbound table's size: GCP's blobs (96 k inbound,
 * 72 k outbound entries), where the outbound finalise (~20 ms) is twice the inbound one (~8 ms),
 * so that the engine's thread takes the inbound part while the shard finalises its outbound
 * table (bench/RESULTS.md, session 16 jsoninline). AWS inputs have a fifth as many outbound.
 */
export const TAIL_SPLIT_MIN_OUTBOUND = 32_768;

/**
 * Whether a table of `entries` inbound entries is split, beside an outbound table of
 * `outboundEntries` (TAIL_SPLIT_MIN_ENTRIES, TAIL_SPLIT_MIN_OUTBOUND; any with FLOWSIEVE_TAILSPLIT=always).
 */
export function tailSplitFits(entries: number, outboundEntries = 0): boolean {
  if (entries >= TAIL_SPLIT_MIN_ENTRIES || process.env.FLOWSIEVE_TAILSPLIT === 'always') return true;
  return outboundEntries >= TAIL_SPLIT_MIN_OUTBOUND && 2 * outboundEntries >= entries;
}
