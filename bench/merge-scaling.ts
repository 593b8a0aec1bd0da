/**
 * Scale-out measurements for docs/SCALING.md (issue 8).
 *
 *   node dist/bench/merge-scaling.js [--partitions 64] [--json FILE]
 *
 * Builds synthetic inputs already split by partition (what `convert --partitions P`
 * gives each detect step), runs one detect per partition (one thread each), writes the
 * partials, then times the merge: decoding the partials, merging, writing the outputs.
 * Two series: the same scan keys with more and more records each (merge cost should not
 * move), and more and more scan keys (merge cost should grow with them). Also reports
 * the per-thread detect throughput and the accumulator bytes per entry.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detect, DEFAULT_RUN } from '../src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../src/engine/outbound-table.js';
import { hashAddress, partitionOf } from '../src/engine/hash.js';
import { parseAddress } from '../src/net/address.js';
import { encodePartial, mergePartials, readPartials, toPartial } from '../src/cluster/partial.js';
import { writeResults, runSettings } from '../src/cli/commands/detect.js';

const T0 = 1700006400;
const HDR = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const ENDPOINTS = 10; // per key: every key is a scan (>= min_endpoints, identical probes)
const REPEATS = 5; // merge timings: the fastest of this many

interface Point {
  keys: number;
  repeats: number;
  records: number;
  entries: number;
  scans: number;
  detectCpuSeconds: number;
  detectWallSeconds: number;
  recordsPerCpuSecond: number;
  accumulatorBytesPerEntry: number;
  partialBytes: number;
  decodeSeconds: number;
  mergeSeconds: number;
  writeSeconds: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

/** Per-partition input files: `keys` scan keys (4 ports per source), each probing 10 endpoints `repeats` times. */
function writeInputs(dir: string, keys: number, repeats: number, P: number): string[] {
  const lines: string[][] = Array.from({ length: P }, () => [HDR]);
  const sources = Math.ceil(keys / 4);
  let made = 0;
  for (let s = 0; s < sources && made < keys; s++) {
    const src = `45.${(s >> 16) & 255}.${(s >> 8) & 255}.${s & 255}`;
    const p = partitionOf(hashAddress(parseAddress(src)!, 0), P);
    for (let k = 0; k < 4 && made < keys; k++, made++) {
      const port = [22, 23, 445, 3389][k]!;
      for (let e = 0; e < ENDPOINTS; e++) {
        const ep = (s * 7 + e) % 4096;
        const dst = `10.0.${ep >> 8}.${ep & 255}`;
        for (let r = 0; r < repeats; r++) {
          const t = T0 + ((s + r * 13) % 21000);
          lines[p]!.push(`2 123456789012 eni-1 ${src} ${dst} ${40000 + r} ${port} 6 1 40 ${t} ${t + 1} REJECT OK`);
        }
      }
    }
  }
  return lines.map((l, p) => {
    const f = join(dir, `part-${p}.log`);
    writeFileSync(f, l.join('\n') + '\n');
    return f;
  });
}

async function point(keys: number, repeats: number, P: number): Promise<Point> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-merge-bench-'));
  try {
    const files = writeInputs(dir, keys, repeats, P);
    const partials = join(dir, 'partials');
    mkdirSync(partials);
    let cpu = 0;
    let wall = 0;
    let records = 0;
    let entries = 0;
    let accBytes = 0;
    for (let p = 0; p < P; p++) {
      const opts = {
        inputs: [files[p]!], workers: 1, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false,
        outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN, partition: { index: p, count: P },
      };
      const c0 = process.cpuUsage();
      const r = await detect(opts);
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1e6; // the parse and shard threads are this process's too
      wall += r.wallSeconds;
      records += r.totals.records;
      entries += r.entries;
      accBytes += r.accumulatorBytes;
      writeFileSync(join(partials, `partial-${p}-of-${P}.fsp`), encodePartial(toPartial(r, opts, ['bench'], runSettings(opts, ['bench']))));
    }
    const partialBytes = readdirSync(partials).reduce((s, n) => s + statSync(join(partials, n)).size, 0);
    // the machine is shared: the fastest of several repetitions is the cost of the work itself
    let decode = Infinity;
    let merge = Infinity;
    let write = Infinity;
    let scans = 0;
    for (let rep = 0; rep < REPEATS; rep++) {
      const t0 = performance.now();
      const parts = readPartials([partials]);
      const t1 = performance.now();
      const merged = mergePartials(parts);
      const t2 = performance.now();
      writeResults(join(dir, 'out'), merged.result, merged.windowSeconds, merged.settings, merged.nearMisses);
      const t3 = performance.now();
      decode = Math.min(decode, (t1 - t0) / 1000);
      merge = Math.min(merge, (t2 - t1) / 1000);
      write = Math.min(write, (t3 - t2) / 1000);
      scans = merged.result.scans.length;
    }
    return {
      keys, repeats, records, entries, scans,
      detectCpuSeconds: cpu, detectWallSeconds: wall, recordsPerCpuSecond: Math.round(records / cpu),
      accumulatorBytesPerEntry: Math.round(accBytes / Math.max(1, entries)),
      partialBytes, decodeSeconds: decode, mergeSeconds: merge, writeSeconds: write,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const P = Number(arg('partitions', '64'));
  const series: Array<[string, number, number]> = [
    ['records', 20000, 1], ['records', 20000, 4], ['records', 20000, 16],
    ['keys', 5000, 1], ['keys', 20000, 1], ['keys', 80000, 1], ['keys', 320000, 1],
  ];
  const out: Array<Point & { series: string }> = [];
  for (const [name, keys, repeats] of series) {
    const pt = await point(keys, repeats, P);
    out.push({ series: name, ...pt });
    process.stderr.write(
      `${name.padEnd(8)} keys ${String(pt.keys).padStart(7)} records ${String(pt.records).padStart(9)} scans ${String(pt.scans).padStart(7)} ` +
        `partials ${(pt.partialBytes / 1e6).toFixed(2)} MB  decode ${pt.decodeSeconds.toFixed(3)} s merge ${pt.mergeSeconds.toFixed(3)} s ` +
        `write ${pt.writeSeconds.toFixed(3)} s | detect ${(pt.recordsPerCpuSecond / 1e6).toFixed(2)} M rec/CPU-s, ${pt.accumulatorBytesPerEntry} B/entry\n`,
    );
  }
  const json = arg('json', '');
  if (json) writeFileSync(json, JSON.stringify({ partitions: P, points: out }, null, 2) + '\n');
}

void main();
