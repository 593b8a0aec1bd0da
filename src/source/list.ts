/**
 * `--list`: a dry run. Prints each input file or object with its bytes and the UTC days
 * its date folders name (what --from/--to prune on), then the totals; no object is
 * fetched and no record read. Exit code 2 when an input cannot be listed or read.
 */
import type { Writable } from 'node:stream';
import { planAll, type SourcePlanOptions } from './plan.js';
import { daysOf, spanOfKey } from './dates.js';

export async function listInputs(inputs: string[], opts: SourcePlanOptions & { timeRange?: SourcePlanOptions['range'] }, out: Writable): Promise<number> {
  const files = await planAll(inputs, {
    format: opts.format, account: opts.account, region: opts.region, awsFields: opts.awsFields, range: opts.range ?? opts.timeRange, source: opts.source,
  });
  const days = new Set<string>();
  let bytes = 0;
  let listed = 0;
  let failed = 0;
  let undated = 0;
  for (const f of files) {
    if (f.error) {
      failed++;
      out.write(`error\t${f.display}\t${f.error}\n`);
      continue;
    }
    const span = spanOfKey(f.path);
    const covered = span ? daysOf(span) : [];
    for (const d of covered) days.add(d);
    if (!span) undated++;
    listed++;
    bytes += Math.max(0, f.size);
    out.write(`${Math.max(0, f.size)}\t${covered.length === 0 ? '-' : covered.length === 1 ? covered[0] : `${covered[0]}..${covered.at(-1)}`}\t${f.display}\n`);
  }
  const sorted = [...days].sort();
  const range = sorted.length ? `${sorted[0]}..${sorted.at(-1)} (${sorted.length} day(s) named by the folders)` : 'no day named by the folders';
  out.write(`total\t${listed} object(s)/file(s), ${bytes} bytes, ${range}${undated ? `; ${undated} without a date in the path` : ''}${failed ? `; ${failed} could not be listed or read` : ''}\n`);
  return failed ? 2 : 0;
}
