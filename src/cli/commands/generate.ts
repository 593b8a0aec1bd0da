/** flowsieve generate: synthetic flow logs with planted scanners and their ground truth (see src/generate/). */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { progressInterval } from '../progress.js';
import { checkWindow, parseDuration } from '../../detect/rules.js';
import { ALL_CLOUDS, type CloudName } from '../../generate/plan.js';
import { parseDay, isoSeconds } from '../../generate/clock.js';
import { DEFAULT_START, generate, holdsGenerated, metaDirFor, type GenerateProgress } from '../../generate/index.js';

export const spec: CommandSpec = {
  name: 'generate',
  summary: 'write synthetic flow logs with planted scanners and a ground truth',
  usage: 'flowsieve generate --out DIR [--seed N] [--scale S] [--days D] [--clouds aws,azure,gcp]',
  options: [
    { name: 'out', type: 'string', help: 'logs folder (aws/, azure/, gcp/): give it to detect as it is', value: 'DIR' },
    { name: 'meta', type: 'string', help: 'folder for ground-truth.json, region-map.json and allow.txt (default: <out>-meta, beside the logs)', value: 'DIR' },
    { name: 'seed', type: 'number', help: 'PRNG seed: the same seed and options give byte-identical files', default: 1 },
    { name: 'scale', type: 'number', help: 'benign volume; 1 = about 66,700 records a day (200,000 over 3 days)', default: 1, value: 'S' },
    { name: 'days', type: 'number', help: 'UTC days of data', default: 3, value: 'D' },
    { name: 'start', type: 'string', help: 'first UTC day', default: isoSeconds(DEFAULT_START).slice(0, 10), value: 'YYYY-MM-DD' },
    { name: 'clouds', type: 'list', help: 'clouds to write: aws, azure, gcp (comma separated; default aws)', value: 'LIST' },
    { name: 'window', type: 'string', help: 'detection window the ground truth is computed for; must divide 24h', default: '6h', value: 'DURATION' },
    { name: 'gzip-level', type: 'number', help: 'gzip level of the AWS files (1 fastest .. 9 smallest)', default: 6 },
    { name: 'zeek', type: 'boolean', help: 'also write each AWS flow log as a Zeek sensor\'s conn.log (zeek/<account>/<region>/)' },
    { name: 'quiet', type: 'boolean', help: 'no progress or summary on stderr' },
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}' (generate takes options only)`);
  if (!v.out) throw new UsageError('generate needs --out DIR');
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError('--seed must be an integer between 0 and 4294967295');
  const scale = Number(v.scale);
  if (!(scale > 0 && scale <= 2000)) throw new UsageError('--scale must be > 0 and at most 2000');
  const days = Number(v.days);
  if (!(Number.isInteger(days) && days >= 1 && days <= 366)) throw new UsageError('--days must be a whole number from 1 to 366');
  const clouds = (v.clouds as string[] | undefined)?.map((c) => c.trim().toLowerCase()).filter(Boolean) ?? ['aws'];
  for (const c of clouds) if (!ALL_CLOUDS.includes(c as CloudName)) throw new UsageError(`unknown cloud '${c}' (expected aws, azure or gcp)`);
  const gzipLevel = Number(v['gzip-level']);
  if (!(Number.isInteger(gzipLevel) && gzipLevel >= 1 && gzipLevel <= 9)) throw new UsageError('--gzip-level must be 1..9');
  let start: number;
  let windowSeconds: number;
  try {
    start = parseDay(String(v.start));
    windowSeconds = parseDuration(String(v.window));
    checkWindow(windowSeconds);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = String(v.out);
  const meta = v.meta === undefined ? metaDirFor(out) : String(v.meta);
  const taken = holdsGenerated(out, meta);
  if (taken) throw new UsageError(`${taken} already holds generated files (remove them, or pick another --out or --meta)`);
  const quiet = Boolean(v.quiet);
  const report = await generate({
    out,
    meta,
    seed,
    scale,
    days,
    start,
    clouds: ALL_CLOUDS.filter((c) => clouds.includes(c)),
    windowSeconds,
    gzipLevel,
    zeek: Boolean(v.zeek),
    onProgress: quiet ? undefined : process.stderr.isTTY ? progressLine : everyFewSeconds(),
  });
  if (!quiet) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const rate = Math.round(report.totalRecords / Math.max(report.seconds, 1e-9));
    process.stderr.write(
      `flowsieve generate: ${report.totalRecords.toLocaleString('en-US')} records ` +
        `(${Object.entries(report.records).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${n.toLocaleString('en-US')}`).join(', ')}; ` +
        `${report.plantedRecords.toLocaleString('en-US')} planted) in ${report.files} files, ` +
        `${(report.bytes / 1e6).toFixed(1)} MB before compression, ${report.seconds.toFixed(2)} s (${rate.toLocaleString('en-US')} records/s)\n` +
        `  ${report.entities} planted sources; scan keys: ${Object.entries(report.scanKeys).map(([p, n]) => `${n} (${p})`).join(', ')}; ` +
        `outbound alerts: ${report.outboundAlerts} (with --allow ${meta}/allow.txt)\n` +
        `  ground truth: ${report.groundTruth}\n`,
    );
  }
  return 0;
}

function progressLine(p: GenerateProgress): void {
  process.stderr.write(`\r\x1b[K hour ${p.hoursDone}/${p.hoursTotal}, ${(p.records / 1e6).toFixed(2)} M records, ${p.elapsed.toFixed(1)} s`);
}

/** Off a terminal: a whole line every FLOWSIEVE_PROGRESS_SECONDS (10 by default; 0 for none). */
function everyFewSeconds(): ((p: GenerateProgress) => void) | undefined {
  const every = progressInterval() * 1000;
  if (every === 0) return undefined;
  let next = performance.now() + every;
  return (p) => {
    if (performance.now() < next) return;
    next = performance.now() + every;
    process.stderr.write(`flowsieve generate: progress: hour ${p.hoursDone}/${p.hoursTotal}, ${(p.records / 1e6).toFixed(2)} M records, ${p.elapsed.toFixed(1)} s\n`);
  };
}
