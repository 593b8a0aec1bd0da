/** flowsieve merge: combine the partitions' partial results into the outputs a single detect writes. */
import type { CommandSpec, Parsed } from '../args.js';
import { UsageError } from '../args.js';
import { mergePartials, PartialError, readPartials } from '../../cluster/partial.js';
import { humanSummary } from '../../output/summary.js';
import { writeResults } from './detect.js';

export const spec: CommandSpec = {
  name: 'merge',
  summary: "combine partitions' partial results (detect --partition p/P --partials DIR) into one run's outputs",
  usage: 'flowsieve merge <partial file|dir>... --out DIR',
  options: [
    { name: 'out', type: 'string', help: 'output folder (the same files detect writes)', value: 'DIR' },
    { name: 'quiet', type: 'boolean', help: 'no summary on stderr' },
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('merge needs the partial results (files, or folders holding them)');
  if (!v.out) throw new UsageError('merge needs --out DIR');
  const out = String(v.out);
  let merged;
  try {
    merged = mergePartials(readPartials(args.positionals));
  } catch (err) {
    if (err instanceof PartialError) throw new UsageError(err.message);
    throw err;
  }
  writeResults(out, merged.result, merged.windowSeconds, merged.settings, merged.nearMisses);
  if (!v.quiet) process.stderr.write(`flowsieve merge: ${merged.partitions} partitions\n${humanSummary(merged.result, out)}\n`);
  return merged.result.partial ? 2 : 0;
}
