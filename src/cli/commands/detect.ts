/** flowsieve detect: find the scanners in flow logs (SPEC §3) and write the verdicts (SPEC §7). */
import { mkdirSync, rmSync } from 'node:fs';
import type { CommandSpec, Parsed } from '../args.js';
import { UsageError } from '../args.js';
import { DETECTION_OPTIONS, detectOptionsFrom } from '../common.js';
import { detect, type DetectResult, type Progress } from '../../engine/run.js';
import { writeAlerts, writeVerdicts } from '../../output/verdicts.js';
import { buildSummary, humanSummary } from '../../output/summary.js';
import { writeFileAtomic } from '../../output/files.js';
import { HistoryStore } from '../../store/history.js';
import { describeOutcome, recordDetectRun } from '../../store/record.js';
import { ANALYSIS_OPTIONS, analysisPlan, enrichmentColumns, humanAnalysis, runAnalysis } from '../analysis.js';
import { writeStats, type Analysis } from '../../stats/index.js';

export const spec: CommandSpec = {
  name: 'detect',
  summary: 'find internet scanners in flow-log files',
  usage: 'flowsieve detect <file|dir|->... --out DIR [options]',
  options: [
    { name: 'out', type: 'string', help: 'output folder', value: 'DIR' },
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
  if (!v.out) throw new UsageError('detect needs --out DIR');
  const out = String(v.out);
  const opts = detectOptionsFrom(v, args.positionals);
  const quiet = Boolean(v.quiet);
  const plan = analysisPlan(v); // opens the IP databases now: a bad path fails before detection
  const history = openHistory(v.state); // before detection: a bad --state fails fast
  if (!quiet && process.stderr.isTTY) opts.onProgress = progressLine;
  const result = await detect(opts);
  if (!quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const analysis = await runAnalysis(result, opts.windowSeconds, plan);
  writeResults(out, result, opts.windowSeconds, {
    window_seconds: opts.windowSeconds,
    thresholds: opts.thresholds,
    workers: opts.workers,
    partition: opts.partition ?? null,
    inputs: args.positionals,
    analysis: plan.settings,
  }, opts.nearMisses, analysis);
  if (!quiet) process.stderr.write(humanSummary(result, out) + '\n');
  if (!quiet) process.stderr.write(humanAnalysis(analysis) + '\n');
  if (history && !recordHistory(history, result, { windowSeconds: opts.windowSeconds, inputs: args.positionals, settings: { window_seconds: opts.windowSeconds, thresholds: opts.thresholds }, outDir: out }, quiet)) return 3;
  return result.partial ? 2 : 0;
}

// --- history (--state DIR): see src/store/ -------------------------------------------
function openHistory(state: unknown): HistoryStore | null {
  if (state === undefined) return null;
  try {
    return HistoryStore.open(String(state), { create: true });
  } catch (err) {
    throw new UsageError(`--state ${String(state)}: ${(err as Error).message}`);
  }
}

function recordHistory(store: HistoryStore, result: DetectResult, o: Parameters<typeof recordDetectRun>[2], quiet: boolean): boolean {
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
  writeFileAtomic(`${out}/summary.json`, JSON.stringify(summary, null, 2) + '\n');
}

function progressLine(p: Progress): void {
  const rate = p.records / Math.max(p.elapsed, 1e-3);
  const mbs = p.bytesDone / 1e6 / Math.max(p.elapsed, 1e-3);
  const eta = p.bytesTotal > 0 && p.bytesDone > 0 ? ((p.bytesTotal - p.bytesDone) / p.bytesDone) * p.elapsed : NaN;
  const pct = p.bytesTotal > 0 ? ` ${((100 * p.bytesDone) / p.bytesTotal).toFixed(0)}%` : '';
  process.stderr.write(
    `\r\x1b[K${pct} ${(p.records / 1e6).toFixed(1)} M records, ${(rate / 1e6).toFixed(2)} M rec/s, ${mbs.toFixed(0)} MB/s` +
      (Number.isFinite(eta) ? `, ETA ${eta.toFixed(0)} s` : ''),
  );
}
