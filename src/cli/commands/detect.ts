/** flowsieve detect: find the scanners in flow logs (detection.md §3) and write the verdicts (detection.md §7). */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { DETECTION_OPTIONS, S3_ENDPOINT_OPTION, detectOptionsFrom } from '../../app/settings.js';
import { listInputs } from '../../source/list.js';
import { closeAllEngines, detectThenClose, removeAllSpills } from '../../engine/run.js';
import { endEarlyStart, startEarlyParsePool } from '../../engine/early-pool.js';
import type { DetectResult } from '../../engine/types.js';
import { progressReporter } from '../progress.js';
import { humanSummary } from '../../output/summary.js';
import { writeFileAtomic } from '../../output/files.js';
import { ANALYSIS_OPTIONS, analysisNow, analysisPlan, humanAnalysis, prepareAnalysis, runAnalysis } from '../../app/analysis.js';
import type { Analysis } from '../../stats/index.js';
import { discardStaged, historyOptions, openHistory, recordHistory, runSettings, stageInboundOutputs, stageIngestOutputs, writeResults, type StagedIngestOutputs } from '../../app/results.js';
import { OutputDirError, prepareOutputDir } from '../../output/writable.js';
import type { DetectOptions, Pipeline } from '../../engine/types.js';
import { findingFormats } from '../../app/finding-formats.js';
import type { FindingFormat } from '../../output/findings.js';

export const spec: CommandSpec = {
  name: 'detect',
  summary: 'find internet scanners in flow-log files',
  usage: 'flowsieve detect <file|dir|-|s3://…|az://…|gs://…>... --out DIR [options]',
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
    { name: 'findings', type: 'list', help: "also write the scans and alerts as findings: 'ocsf' (OCSF Detection Finding), 'ecs' (Elastic ECS)", value: 'FORMAT' },
    { name: 'state', type: 'string', help: 'history folder: add this run\'s scanner days to its database (same input never counts twice)', value: 'DIR' },
    { name: 'list', type: 'boolean', help: 'dry run: print the input files or objects, their bytes and the days they cover, read nothing' },
    {
      name: 'pipeline',
      type: 'string',
      help: "'fused': each worker parses and accumulates (local files), 'sharded': parse threads feed shard threads, 'auto': fused for a small input",
      default: 'auto',
      value: 'NAME',
    },
    ...DETECTION_OPTIONS,
    S3_ENDPOINT_OPTION,
    ...ANALYSIS_OPTIONS,
  ],
};

export async function run(args: Parsed): Promise<number> {
  try {
    return await detectCommand(args);
  } finally {
    endEarlyStart(); // a pool no run took (a command that failed first): no thread left, none keeps the process up
  }
}

async function detectCommand(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('detect needs at least one input path (or - for stdin)');
  if (v.list) return listInputs(args.positionals, detectOptionsFrom(v, args.positionals), process.stdout);
  if (!v.out && !v.partials) throw new UsageError('detect needs --out DIR (or --partials DIR with --partition p/P)');
  const opts = detectOptionsFrom(v, args.positionals);
  opts.pipeline = v.pipeline as Pipeline;
  if (v.partials && !opts.partition) throw new UsageError('--partials needs --partition p/P');
  if (v.partials && v.state) throw new UsageError('--state records whole runs: give it to flowsieve merge, not to one partition');
  // before any input is read: a bad --out must not cost the run
  for (const [option, dir] of [['--out', v.out], ['--partials', v.partials]] as const) {
    if (dir === undefined) continue;
    try {
      prepareOutputDir(String(dir), option);
    } catch (err) {
      if (err instanceof OutputDirError) throw new UsageError(err.message);
      throw err;
    }
  }
  const quiet = Boolean(v.quiet);
  let findings: FindingFormat[];
  try {
    findings = findingFormats(v.findings as string[] | undefined);
  } catch (err) {
    throw new UsageError(`--findings: ${(err as Error).message}`);
  }
  if (findings.length && !v.out) throw new UsageError('--findings needs --out DIR');
  // the parse threads boot while this thread opens the databases, looks at the input and plans
  startEarlyParsePool(opts);
  const plan = analysisPlan(v); // opens the IP databases now: a bad path fails before detection
  const history = openHistory(v.state); // before detection: a bad --state fails fast
  const progress = progressReporter('detect', quiet);
  opts.onProgress = progress?.onProgress;
  // while the shard threads finalise, not after: the enrichment's databases open, the port
  // names' table is read, and rejects.ndjson and files.ndjson (the ingest's alone) are
  // written under temporary names
  let staged: StagedIngestOutputs | undefined;
  // stopped by a signal: no spill files are left behind (a killed run's are removed by the next)
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    // a second signal while the threads stop (Ctrl-C twice, a supervisor's repeat): at once,
    // the files removed all the same (process.exit ends the threads)
    const now = () => {
      removeAllSpills();
      process.exit(code);
    };
    if (signalled) return now();
    signalled = true;
    discardStaged(staged);
    setTimeout(now, 5000).unref(); // threads that do not stop within 5 s (a loaded machine, a long task)
    void closeAllEngines().finally(() => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // the analysis (statistics, enrichment) needs the inbound verdicts alone: begun while the
  // shard threads finalise their outbound tables (~10 ms that this thread waits on a GCP run)
  let analysis: Promise<Analysis> | undefined;
  if (v.out) {
    opts.whileFinalising = (ingest) => {
      plan.enricher?.prepare();
      prepareAnalysis();
      staged = stageIngestOutputs(String(v.out), ingest);
    };
    opts.onInboundVerdicts = (inbound) => {
      const now = analysisNow(inbound, opts.windowSeconds, plan);
      analysis = now ? Promise.resolve(now) : runAnalysis(inbound, opts.windowSeconds, plan);
      analysis.catch(() => {}); // awaited with the outputs; a run that fails first does not
      // and, where it is done (no enrichment to wait for), its outputs: staged, put in place with the others
      if (now && staged) staged.inbound = stageInboundOutputs(String(v.out), inbound, opts.windowSeconds, opts.nearMisses, now);
    };
  }
  let run: Awaited<ReturnType<typeof detectThenClose>>;
  try {
    run = await detectThenClose(opts);
  } catch (err) {
    discardStaged(staged);
    if (signalled) await new Promise(() => {}); // the threads were stopped by the signal: its handler exits
    throw err;
  }
  // a signal that came while the threads stopped may leave a run that ends (as partial, its
  // threads gone): the handler's exit, with the signal's code, is the one to take
  if (signalled) await new Promise(() => {});
  progress?.done();
  await new Promise((resolve) => setImmediate(resolve)); // for close() to reach the threads' stop before the outputs' work
  // the threads stop while the outputs are written; the signal handlers stay until they have
  let code: number;
  try {
    code = await finishDetect(v, args, opts, plan, findings, history, run.result, staged, analysis);
  } catch (err) {
    discardStaged(staged);
    await run.closed.catch(() => {}); // the outputs' error is the one to report
    throw err;
  }
  await run.closed;
  if (signalled) await new Promise(() => {}); // came while the outputs were written: its handler exits
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}

/** A detect run's outputs (--out, --findings, --partials) and its history (--state); the exit code. */
async function finishDetect(
  v: Parsed['values'],
  args: Parsed,
  opts: DetectOptions,
  plan: ReturnType<typeof analysisPlan>,
  findings: FindingFormat[],
  history: ReturnType<typeof openHistory>,
  result: DetectResult,
  staged: StagedIngestOutputs | undefined,
  begun: Promise<Analysis> | undefined,
): Promise<number> {
  const quiet = Boolean(v.quiet);
  const settings = runSettings(opts, args.positionals);
  if (v.out) {
    // statistics and enrichment need the whole run: a partition's come from flowsieve merge
    // (begun on the same verdicts while the shards finalised their outbound tables, where they are threads)
    const analysis = await (begun ?? runAnalysis(result, opts.windowSeconds, plan));
    await writeResults(String(v.out), result, opts.windowSeconds, { ...settings, analysis: plan.settings }, opts.nearMisses, analysis, staged);
    // loaded only when asked for, as the partial's encoder below: a plain run never needs them
    if (findings.length) (await import('../../app/write-findings.js')).writeFindings(String(v.out), findings, result, opts.windowSeconds, analysis.enrichment?.facts);
    if (!quiet) process.stderr.write(humanSummary(result, String(v.out)) + '\n' + humanAnalysis(analysis) + '\n');
  }
  if (v.partials) {
    const path = await writePartial(String(v.partials), result, opts, args.positionals, settings);
    if (!quiet && !v.out) process.stderr.write(humanSummary(result, path) + '\n');
  }
  if (history && !(await recordHistory(history, result, historyOptions(opts.windowSeconds, opts.thresholds, args.positionals, v.out), quiet))) return 3;
  return result.partial ? 2 : 0;
}

/** A partition's partial result, atomically, under its deterministic name; returns the path. */
export async function writePartial(dir: string, result: DetectResult, opts: DetectOptions, inputs: string[], settings: Record<string, unknown>): Promise<string> {
  const { encodePartial, partialName, toPartial } = await import('../../app/partial.js');
  const path = `${dir}/${partialName(opts.partition!)}`;
  writeFileAtomic(path, encodePartial(toPartial(result, opts, inputs, settings)));
  return path;
}
