/**
 * flowsieve generate: a synthetic estate's flow logs, written minute by minute in time
 * order, with planted scanners and hard negatives, and the ground truth computed from
 * the records actually written. Same options and seed: byte-identical files.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { writeFileAtomic } from '../output/files.js';
import { buildPlan, type Plan } from './plan.js';
import { buildEntities } from './entities.js';
import { allowListText, buildOutboundHosts, castHosts } from './compromised.js';
import { BenignTraffic, BENIGN_RECORDS_PER_DAY } from './benign.js';
import { TruthTracker, PROFILE_THRESHOLDS } from './truth.js';
import { WriterSet } from './writers/index.js';
import { forgetDirectories } from './writers/output.js';
import { groundTruth } from './ground-truth.js';
import type { GenerateOptions } from './options.js';

export type { GenerateOptions, GenerateProgress } from './options.js';

export interface GenerateReport {
  records: Record<string, number>;
  totalRecords: number;
  plantedRecords: number;
  files: number;
  bytes: number;
  seconds: number;
  scanKeys: Record<string, number>;
  /** Outbound alerts detect must write with --allow DIR/allow.txt. */
  outboundAlerts: number;
  entities: number;
  groundTruth: string;
}

export const DEFAULT_START = Date.UTC(2024, 2, 1) / 1000; // 2024-03-01

/** The folders and files generate writes (logs under --out, the rest under --meta); a run refuses to mix its files with another run's. */
export const OUTPUT_PARTS = ['aws', 'azure', 'gcp', 'ground-truth.json', 'region-map.json', 'allow.txt'];

/** The default metadata folder: a sibling of the logs folder, `<out>-meta`. */
export function metaDirFor(out: string): string {
  return `${out.replace(/\/+$/, '')}-meta`;
}

/** The first of the logs or metadata folders that already holds generated files. */
export function holdsGenerated(...dirs: string[]): string | undefined {
  return dirs.find((d) => existsSync(d) && readdirSync(d).some((n) => OUTPUT_PARTS.includes(n)));
}

export async function generate(o: GenerateOptions): Promise<GenerateReport> {
  const t0 = performance.now();
  const meta = o.meta ?? metaDirFor(o.out);
  const taken = holdsGenerated(o.out, meta);
  if (taken) throw new Error(`${taken} already holds generated files (remove them, or pick another --out)`);
  mkdirSync(o.out, { recursive: true });
  mkdirSync(meta, { recursive: true });
  forgetDirectories();

  const plan = buildPlan(o.seed, o.clouds);
  const timing = { seed: o.seed, start: o.start, days: o.days, windowSeconds: o.windowSeconds };
  const cast = castHosts(plan, o.seed);
  const entities = buildEntities(plan, { ...timing, wormHosts: cast.filter((c) => c.kind === 'worm').map((c) => c.ep) });
  const hosts = buildOutboundHosts(cast, timing, entities.length);
  const planted: Array<{ emit(t0: number, t1: number, out: WriterSet): void }> = [...entities, ...hosts];
  const tracker = new TruthTracker(o.windowSeconds);
  const writers = new WriterSet(plan, o.out, o.seed, o.gzipLevel, tracker, o.zeek === true);
  const benign = new BenignTraffic(o.seed, plan, o.scale);

  const hours = o.days * 24;
  for (let h = 0; h < hours; h++) {
    const hourStart = o.start + h * 3600;
    if (h > 0 && h % 24 === 0) tracker.closeOutbound(hourStart); // a day is written: judge it, keep only the results
    writers.beginHour(hourStart);
    for (let m = 0; m < 60; m++) {
      const minute = hourStart + m * 60;
      benign.emitMinute(minute, writers);
      for (const e of planted) e.emit(minute, minute + 60, writers);
      writers.endMinute(minute);
      if (writers.needsDrain()) await writers.drain();
    }
    await writers.endHour();
    if (o.onProgress) {
      const rec = writers.records();
      o.onProgress({ hoursDone: h + 1, hoursTotal: hours, records: rec.aws! + rec.azure! + rec.gcp!, elapsed: (performance.now() - t0) / 1000 });
    }
  }

  const records = writers.records();
  const totalRecords = records.aws! + records.azure! + records.gcp!;
  const truth = groundTruth(tracker, entities, hosts, plan, o, { records, totalRecords });
  const gtPath = `${meta}/ground-truth.json`;
  writeFileAtomic(`${meta}/region-map.json`, JSON.stringify(plan.regionMap, null, 2) + '\n');
  writeFileAtomic(`${meta}/allow.txt`, allowListText(hosts));
  writeFileAtomic(gtPath, JSON.stringify(truth.document, null, 2) + '\n'); // last: its presence means the sample is complete
  return {
    records,
    totalRecords,
    plantedRecords: tracker.written,
    files: writers.stats.files + 3,
    bytes: writers.stats.bytesOut,
    seconds: (performance.now() - t0) / 1000,
    scanKeys: truth.scanKeys,
    outboundAlerts: truth.outboundAlerts,
    entities: entities.length + hosts.length,
    groundTruth: gtPath,
  };
}

export { PROFILE_THRESHOLDS, BENIGN_RECORDS_PER_DAY };
export type { Plan };
