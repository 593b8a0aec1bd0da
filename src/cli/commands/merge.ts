/** flowsieve merge: combine the partitions' partial results into the outputs a single detect writes. */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { OutputDirError, prepareOutputDir } from '../../output/writable.js';
import { mergePartials, PartialError, readPartials } from '../../app/partial.js';
import { humanSummary } from '../../output/summary.js';
import { historyOptions, openHistory, recordHistory, writeResults } from '../../app/results.js';
import { ANALYSIS_OPTIONS, analysisPlan, humanAnalysis, runAnalysis } from '../../app/analysis.js';

export const spec: CommandSpec = {
  name: 'merge',
  summary: "combine partitions' partial results (detect --partition p/P --partials DIR) into one run's outputs",
  usage: 'flowsieve merge <partial file|dir>... --out DIR',
  options: [
    { name: 'out', type: 'string', help: 'output folder (the same files detect writes)', value: 'DIR' },
    { name: 'quiet', type: 'boolean', help: 'no summary on stderr' },
    { name: 'state', type: 'string', help: "history folder: add the merged run's scanner days to its database (as detect --state)", value: 'DIR' },
    ...ANALYSIS_OPTIONS,
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('merge needs the partial results (files, or folders holding them)');
  if (!v.out) throw new UsageError('merge needs --out DIR');
  const out = String(v.out);
  try {
    prepareOutputDir(out, '--out'); // before the partials are read
  } catch (err) {
    if (err instanceof OutputDirError) throw new UsageError(err.message);
    throw err;
  }
  const plan = analysisPlan(v); // statistics and enrichment are of the whole run: made here, not in the partitions
  const history = openHistory(v.state);
  let merged;
  try {
    merged = mergePartials(readPartials(args.positionals));
  } catch (err) {
    if (err instanceof PartialError) throw new UsageError(err.message);
    throw err;
  }
  const analysis = await runAnalysis(merged.result, merged.windowSeconds, plan);
  await writeResults(out, merged.result, merged.windowSeconds, { ...merged.settings, analysis: plan.settings }, merged.nearMisses, analysis);
  const quiet = Boolean(v.quiet);
  if (!quiet) {
    process.stderr.write(`${humanSummary(merged.result, out, merged.partitions)}\n${humanAnalysis(analysis)}\n`);
  }
  const s = merged.settings;
  if (history && !(await recordHistory(history, merged.result, historyOptions(merged.windowSeconds, s.thresholds, s.inputs as string[], out), quiet))) return 3;
  return merged.result.partial ? 2 : 0;
}
