/**
 * A run's shared last steps, for every command that detects (detect, merge, the cluster's
 * merge step): its settings block, the result files (detection.md §7) and the history (--state).
 */
import { mkdirSync } from 'node:fs';
import { UsageError } from './args.js';
import { enrichmentColumns } from './analysis.js';
import type { DetectOptions, DetectResult } from '../engine/types.js';
import { writeAlerts, writeVerdicts } from '../output/verdicts.js';
import { buildSummary, fileLines, FILES_NAME } from '../output/summary.js';
import { NOW, putInPlaceMeanwhile, StagedFile, StagedOutputs, writeFileAtomic, type OutputFiles } from '../output/files.js';
import { HistoryStore } from '../store/history.js';
// store/record.ts (with the file fingerprints' node:crypto) is loaded by recordHistory: only --state runs need it
import type { recordDetectRun } from '../store/record.js';
import { writeStats, type Analysis } from '../stats/index.js';

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

// --- history (--state DIR): see src/store/ -------------------------------------------
export function openHistory(state: unknown): HistoryStore | null {
  if (state === undefined) return null;
  try {
    return HistoryStore.open(String(state), { create: true });
  } catch (err) {
    throw new UsageError(`--state ${String(state)}: ${(err as Error).message}`);
  }
}

export async function recordHistory(store: HistoryStore, result: DetectResult, o: Parameters<typeof recordDetectRun>[2], quiet: boolean): Promise<boolean> {
  const dir = store.dir;
  try {
    const { describeOutcome, recordDetectRun } = await import('../store/record.js');
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

/** rejects.ndjson and files.ndjson, written before the rest of the results (stageIngestOutputs). */
export interface StagedIngestOutputs {
  rejects: StagedFile;
  files: StagedFile;
  /** the outputs of the inbound verdicts, where they were staged too (stageInboundOutputs) */
  inbound?: StagedInboundOutputs;
}

/** The outputs of a run's inbound verdicts alone (scans, near misses, statistics), staged, and the summary's `stats` section. */
export interface StagedInboundOutputs {
  files: StagedOutputs;
  stats: Record<string, unknown> | undefined;
}

/**
 * scans.*, near_misses.* and stats/ from the inbound verdicts and their analysis, written under
 * temporary names while the shards finalise their outbound tables (detect); writeResults puts
 * them in place. discardStaged if the run fails.
 */
export function stageInboundOutputs(out: string, inbound: InboundResult, windowSeconds: number, nearMisses: boolean, analysis: Analysis): StagedInboundOutputs {
  const files = new StagedOutputs();
  try {
    return { files, stats: writeInbound(out, inbound, windowSeconds, nearMisses, analysis, files) };
  } catch (err) {
    files.discard();
    throw err;
  }
}

/** What the outputs of the inbound verdicts read of a result. */
type InboundResult = Pick<DetectResult, 'scans' | 'nearMisses'>;

/** scans.*, near_misses.* (or none: stale ones removed) and stats/ into `files`; the summary's `stats` section. */
function writeInbound(out: string, inbound: InboundResult, windowSeconds: number, nearMisses: boolean, analysis: Analysis | undefined, files: OutputFiles): Record<string, unknown> | undefined {
  const extra = analysis && enrichmentColumns(analysis);
  writeVerdicts(out, 'scans', inbound.scans, windowSeconds, false, extra, files);
  if (nearMisses) writeVerdicts(out, 'near_misses', inbound.nearMisses, windowSeconds, true, extra, files);
  else for (const ext of ['ndjson', 'csv']) files.remove(`${out}/near_misses.${ext}`); // not stale ones from an earlier run
  // statistics and enrichment (detection.md §5): <out>/stats/ and the summary's `stats` section
  return analysis ? writeStats(out, analysis, files) : undefined;
}

/**
 * rejects.ndjson and files.ndjson from the ingest alone, written under temporary names while
 * the shards finalise (detect); writeResults puts them in place. discardStaged if the run fails.
 */
export function stageIngestOutputs(out: string, ingest: Pick<DetectResult, 'files' | 'rejects'>): StagedIngestOutputs {
  const rejects = new StagedFile(`${out}/rejects.ndjson`, rejectLines(ingest.rejects));
  try {
    return { rejects, files: new StagedFile(`${out}/${FILES_NAME}`, fileLines(ingest)) };
  } catch (err) {
    rejects.discard();
    throw err;
  }
}

export function discardStaged(staged: StagedIngestOutputs | undefined): void {
  staged?.rejects.discard();
  staged?.files.discard();
  staged?.inbound?.files.discard();
}

function rejectLines(rejects: DetectResult['rejects']): string {
  return rejects.map((r) => JSON.stringify(r)).join('\n') + (rejects.length ? '\n' : '');
}

/**
 * `staged`: rejects.ndjson and files.ndjson of this result, already written (stageIngestOutputs),
 * and its inbound outputs where staged (stageInboundOutputs).
 * Every file is put in place while the next is written (output/files.ts putInPlaceMeanwhile);
 * summary.json last, once the others are there.
 */
export async function writeResults(
  out: string,
  result: DetectResult,
  windowSeconds: number,
  settings: Record<string, unknown>,
  nearMisses: boolean,
  analysis?: Analysis,
  staged?: StagedIngestOutputs,
): Promise<void> {
  mkdirSync(out, { recursive: true });
  let summary: Record<string, unknown> = {};
  await putInPlaceMeanwhile(() => {
    const inbound = staged?.inbound;
    inbound?.files.commit();
    const stats = inbound ? inbound.stats : writeInbound(out, result, windowSeconds, nearMisses, analysis, NOW);
    writeAlerts(out, result.alerts, windowSeconds);
    if (staged) staged.rejects.commit();
    else writeFileAtomic(`${out}/rejects.ndjson`, rejectLines(result.rejects));
    summary = buildSummary(result, settings);
    if (stats) summary.stats = stats;
    if (staged) staged.files.commit();
    else writeFileAtomic(`${out}/${FILES_NAME}`, fileLines(result));
  });
  writeFileAtomic(`${out}/summary.json`, JSON.stringify(summary, null, 2) + '\n');
}
