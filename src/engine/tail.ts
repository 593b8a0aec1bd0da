/**
 * The serial end of a detect run (issue 19, targets 1 and 2). After the last batch one shard
 * thread adds the records it still holds back (scan-table.ts addBatch), finalises the inbound
 * table and the outbound one, while the other core idles; then the engine's thread merges
 * and writes. Here the held-back records are added near the end of the parse instead, while
 * the shard thread waits for the last batches anyway (it idles about half of the parse), so
 * that the finalisation adds only those of the last files (bench/RESULTS.md, branch tail2).
 * The result is the same: every reader of the table adds the held records first.
 *
 * FLOWSIEVE_TAIL=serial adds them all at the finalisation, as before (A/B runs, tests).
 * Read at each ingest: tests switch it.
 */
export const earlyFlush = (): boolean => process.env.FLOWSIEVE_TAIL !== 'serial';

/**
 * Shares of the input's bytes parsed at which the shards add what they hold. At 90 % the
 * rows held since a shard's last flush (up to ~0.4 M on the bucket, ~80 ns each) take about
 * what the last tenth of the parse leaves the shard thread; at 97 % again, for those of that
 * tenth.
 */
export const EARLY_FLUSHES: readonly number[] = [0.9, 0.97];

/** How many of EARLY_FLUSHES `parsed` of `total` bytes has passed. */
export function flushesDue(parsed: number, total: number): number {
  let k = 0;
  while (k < EARLY_FLUSHES.length && parsed >= EARLY_FLUSHES[k]! * total) k++;
  return k;
}
