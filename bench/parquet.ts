/**
 * Parquet input against DuckDB's read_parquet, on one AWS v2 data set (bench/gen-aws.ts)
 * written once as text and once as AWS Parquet (DuckDB COPY, gzip pages, the AWS Parquet
 * column names):
 *
 *   1. DuckDB read_parquet: every column read (count, sum of bytes, distinct sources);
 *   2. hyparquet alone: the file decoded into row objects, as formats/parquet.ts reads it;
 *   3. flowsieve detect on the Parquet file and on the same records as text (1 worker).
 *
 * Records/s over the data set's records, each engine's own timer (process start-up left
 * out). Prints a table; --results appends it to bench/HISTORY.md (to commit on purpose).
 *
 *   node dist/bench/parquet.js [--records 1000000] [--results]
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { opt } from './args.js';
import { generateAws } from './gen-aws.js';
import { detect } from '../src/engine/run.js';
import { DEFAULT_RUN } from '../src/engine/types.js';
import { DEFAULT_THRESHOLDS } from '../src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../src/engine/outbound-table.js';

async function flowsieve(file: string): Promise<{ seconds: number; records: number; scans: number }> {
  const r = await detect({
    inputs: [file], workers: 1, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false,
    outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN,
  });
  return { seconds: r.wallSeconds, records: r.totals.records, scans: r.scans.length };
}

async function main(): Promise<void> {
  const records = Number(opt('records', '1000000'));
  const dir = mkdtempSync(join(tmpdir(), 'flowsieve-bench-parquet-'));
  try {
    const text = join(dir, 'flows.log');
    const parquet = join(dir, 'flows.parquet');
    generateAws(text, { records });
    const db = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
    const cols = (await (await db.run(`DESCRIBE SELECT * FROM read_csv('${text}', delim=' ', header=true, all_varchar=true)`)).getRowObjects()).map((r) => String(r.column_name));
    const select = cols.map((c) => `"${c}" AS ${c.replace(/-/g, '_')}`).join(', ');
    await db.run(`COPY (SELECT ${select} FROM read_csv('${text}', delim=' ', header=true, nullstr='-')) TO '${parquet}' (FORMAT parquet, COMPRESSION gzip)`);

    let t = performance.now();
    const duck = (await (await db.run(`SELECT count(*) AS n, sum(bytes) AS b, count(DISTINCT srcaddr) AS s FROM read_parquet('${parquet}')`)).getRowObjects())[0]!;
    const duckSeconds = (performance.now() - t) / 1000;

    const buf = readFileSync(parquet);
    t = performance.now();
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer, compressors });
    const hySeconds = (performance.now() - t) / 1000;

    const onParquet = await flowsieve(parquet);
    const onText = await flowsieve(text);
    if (onParquet.scans !== onText.scans || onParquet.records !== onText.records) {
      throw new Error(`parquet and text disagree: ${JSON.stringify({ onParquet, onText })}`);
    }
    const n = onText.records;
    const rate = (s: number) => Math.round(n / s).toLocaleString('en-US');
    const table = [
      `## Parquet input vs DuckDB read_parquet (${new Date().toISOString().slice(0, 16)}Z)`,
      '',
      `\`node dist/bench/parquet.js --records ${records}\` on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), one thread each;`,
      `${n.toLocaleString('en-US')} records, text ${statSync(text).size.toLocaleString('en-US')} bytes, Parquet (gzip) ${statSync(parquet).size.toLocaleString('en-US')} bytes.`,
      '',
      '| what | seconds | records/s |',
      '|---|---:|---:|',
      `| DuckDB read_parquet: count, sum(bytes), count(DISTINCT srcaddr) (${String(duck.n)} rows) | ${duckSeconds.toFixed(2)} | ${rate(duckSeconds)} |`,
      `| hyparquet: decode to row objects (${rows.length} rows) | ${hySeconds.toFixed(2)} | ${rate(hySeconds)} |`,
      `| flowsieve detect on the Parquet file (${onParquet.scans} scans) | ${onParquet.seconds.toFixed(2)} | ${rate(onParquet.seconds)} |`,
      `| flowsieve detect on the same records as text | ${onText.seconds.toFixed(2)} | ${rate(onText.seconds)} |`,
      '',
    ].join('\n');
    process.stdout.write(table + '\n');
    if (process.argv.includes('--results')) appendFileSync(new URL('../../bench/HISTORY.md', import.meta.url), '\n' + table);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
