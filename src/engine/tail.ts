/**
 * The serial end of a detect run (issue 19, targets 1 and 2): after the last batch, one shard
 * thread adds its held-back records, finalises the inbound table and the outbound one, while
 * the other core idles; then the engine's thread merges and writes. Two ways to shorten it
 * (bench/RESULTS.md, branch tail2):
 * - `flush`: the held-back records added near the end of the parse (EARLY_FLUSH_AT of the
 *   input's bytes parsed), while the shard waits for the last batches anyway, so that the
 *   finalisation adds only the records of the last files;
 * - `handoff`: the outbound table finalised on the engine's thread beside the shard's inbound
 *   finalisation (outbound-handoff.ts).
 * FLOWSIEVE_TAIL: unset, DEFAULT_TAIL; `serial`: neither, as before; else a comma list of
 * the two (A/B runs, tests). Read at each use: tests switch it.
 */
export type TailStep = 'flush' | 'handoff';

const DEFAULT_TAIL: readonly TailStep[] = ['flush', 'handoff'];

/** Whether the run's tail takes `step` (see the module comment). */
export function tailTakes(step: TailStep): boolean {
  const v = process.env.FLOWSIEVE_TAIL;
  if (v === undefined || v === '') return DEFAULT_TAIL.includes(step);
  return v.split(',').includes(step);
}

/**
 * Share of the input's bytes parsed at which the shards add what they hold: the shard
 * thread idles about half of the parse (it waits for batches), and the rows held since its
 * last flush (up to ~0.4 M on the bucket, ~80 ns each) take about what the last tenth of the
 * parse leaves it.
 */
export const EARLY_FLUSH_AT = 0.9;
