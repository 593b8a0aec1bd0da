/** flowsieve detect: find the scanners in flow logs (SPEC §3) and write the verdicts (SPEC §7). */
import { mkdirSync, rmSync } from 'node:fs';
import type { CommandSpec, Parsed } from '../args.js';
import { UsageError } from '../args.js';
import { DETECTION_OPTIONS, detectOptionsFrom } from '../common.js';
import { detect, type DetectResult } from '../../engine/run.js';
import { progressReporter } from '../progress.js';
import { writeAlerts, writeVerdicts } from '../../output/verdicts.js';
import { buildSummary, fileLines, FILES_NAME, humanSummary } from '../../output/summary.js';
import { writeFileAtomic } from '../../output/files.js';
import { HistoryStore } from '../../store/history.js';
import { describeOutcome, recordDetectRun } from '../../store/record.js';
import { ANALYSIS_OPTIONS, analysisPlan, enrichmentColumns, humanAnalysis, runAnalysis } from '../analysis.js';
import { writeStats, type Analysis } from '../../stats/index.js';
import { encodePartial, partialName, toPartial } from '../../cluster/partial.js';
import type { DetectOptions } from '../../engine/run.js';

export const spec: CommandSpec = {
  name: 'detect',
  summary: 'find internet scanners in flow-log files',
  usage: 'flowsieve detect <file|dir|->... --out DIR [options]',
  options: [
    { name: 'out', type: 'string', help: 'output folder', value: 'DIR' },
    {
      name: 'partials',
      type: 'string',
      help: 'with --partition p/P: write this partition\'s result as DIR/partial-<p>-of-<P>.fsp for flowsieve merge',
      value: 'DIR',
    },
    { name: 'near-misses', type: 'boolean', help: 'also write keys with enough endpoints that failed a condition' },
    { name: 'quiet', type: 'boolean', help: 'no summary or progress on stderr' },
    { name: 'state', type: 'string', help: 'history folder: add this run\'s scanner days to its database (same input never counts twice)', value: 'DIR' },
    ...DETECTION_OPTIONS,
    ...ANALYSIS_OPTIONS,
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('detect needs at least one input path (or - for stdin)');
  if (!v.out && !v.partials) throw new UsageError('detect needs --out DIR (or --partials DIR with --partition p/P)');
  const opts = detectOptionsFrom(v, args.positionals);
  if (v.partials && !opts.partition) throw new UsageError('--partials needs --partition p/P');
  if (v.partials && v.state) throw new UsageError('--state records whole runs: give it to flowsieve merge, not to one partition');
  const quiet = Boolean(v.quiet);
  const plan = analysisPlan(v); // opens the IP databases now: a bad path fails before detection
  const history = openHistory(v.state); // before detection: a bad --state fails fast
  const progress = progressReporter('detect', quiet);
  opts.onProgress = progress?.onProgress;
  const result = await detect(opts);
  progress?.done();
  const settings = runSettings(opts, args.positionals);
  if (v.out) {
    // statistics and enrichment need the whole run: a partition's come from flowsieve merge
    const analysis = await runAnalysis(result, opts.windowSeconds, plan);
    writeResults(String(v.out), result, opts.windowSeconds, { ...settings, analysis: plan.settings }, opts.nearMisses, analysis);
    if (!quiet) process.stderr.write(humanSummary(result, String(v.out)) + '\n' + humanAnalysis(analysis) + '\n');
  }
  if (v.partials) {
    const path = writePartial(String(v.partials), result, opts, args.positionals, settings);
    if (!quiet && !v.out) process.stderr.write(humanSummary(result, path) + '\n');
  }
  if (history && !recordHistory(history, result, historyOptions(opts.windowSeconds, opts.thresholds, args.positionals, v.out), quiet)) return 3;
  return result.partial ? 2 : 0;
}

/** What the history records of a run (detect, or the merge of a partitioned one). */
export function historyOptions(windowSeconds: number, thresholds: unknown, inputs: string[], out: unknown): Parameters<typeof recordDetectRun>[2] {
  return { windowSeconds, inputs, settings: { window_seconds: windowSeconds, thresholds }, outDir: out === undefined ? undefined : String(out) };
}

/** The `settings` block of summary.json, before the analysis settings. */
export function runSettings(opts: DetectOptions, inputs: string[]): Record<string, unknown> {
  return {
    window_seconds: opts.windowSeconds,
    thresholds: opts.thresholds,
    workers: opts.workers,
    partition: opts.partition ?? null,
    inputs,
  };
}

/** A partition's partial result, atomically, under its deterministic name; returns the path. */
export function writePartial(dir: string, result: DetectResult, opts: DetectOptions, inputs: string[], settings: Record<string, unknown>): string {
  const path = `${dir}/${partialName(opts.partition!)}`;
  writeFileAtomic(path, encodePartial(toPartial(result, opts, inputs, settings)));
  return path;
}

// --- history (--state DIR): see src/store/ -------------------------------------------
export function openHistory(state: unknown): HistoryStore | null {
  if (state === undefined) return null;
  try {
    return HistoryStore.open(String(state), { create: true });
  } catch (err) {
    throw new UsageError(`--state ${String(state)}: ${(err as Error).message}`);
  }
}

export function recordHistory(store: HistoryStore, result: DetectResult, o: Parameters<typeof recordDetectRun>[2], quiet: boolean): boolean {
  const dir = store.dir;
  try {
    const outcome = recordDetectRun(store, result, o);
    if (!quiet || outcome.overlaps.length) process.stderr.write(describeOutcome(outcome, dir) + '\n');
    return true;
  } catch (err) {
    process.stderr.write(`flowsieve detect: the results are written but the history in ${dir} was not updated: ${(err as Error).message}\n`);
    return false;
  } finally {
    store.close();
  }
}
// --- end history ------------------------------------------------------------------------

export function writeResults(
  out: string,
  result: DetectResult,
  windowSeconds: number,
  settings: Record<string, unknown>,
  nearMisses: boolean,
  analysis?: Analysis,
): void {
  mkdirSync(out, { recursive: true });
  const extra = analysis && enrichmentColumns(analysis);
  writeVerdicts(out, 'scans', result.scans, windowSeconds, false, extra);
  writeAlerts(out, result.alerts, windowSeconds);
  if (nearMisses) writeVerdicts(out, 'near_misses', result.nearMisses, windowSeconds, true, extra);
  else for (const ext of ['ndjson', 'csv']) rmSync(`${out}/near_misses.${ext}`, { force: true }); // not stale ones from an earlier run
  writeFileAtomic(`${out}/rejects.ndjson`, result.rejects.map((r) => JSON.stringify(r)).join('\n') + (result.rejects.length ? '\n' : ''));
  const summary = buildSummary(result, settings);
  // statistics and enrichment (SPEC §5): <out>/stats/ and the summary's `stats` section
  if (analysis) summary.stats = writeStats(out, analysis);
  writeFileAtomic(`${out}/${FILES_NAME}`, fileLines(result));
  writeFileAtomic(`${out}/summary.json`, JSON.stringify(summary, null, 2) + '\n');
}
