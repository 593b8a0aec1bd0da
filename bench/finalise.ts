/**
 * Accumulate and finalise on the shape of real logs (issue 19): keys with hundreds of
 * endpoints beside many one-endpoint keys (bench/records.ts makeRealBatches). CPU time of
 * the process, one thread, least of --rounds:
 *   - accumulate, held back and added in bucket order (what detect does on text);
 *   - accumulate, one replay block per bucket read in its own columns (detect on replay), into
 *     JavaScript arrays, then into a table in its arena (WebAssembly memory, as a replay run's shard has);
 *   - finalise (verdicts and endpoint-days) of the filled replay table (JavaScript arrays), then of
 *     the held one (in WebAssembly memory unless FLOWSIEVE_ACCUMULATE=js: finalised in place),
 *     then of the replay table in its arena (after the others: the module's code is warm).
 * Prints tuples per key beside every figure, the table's bytes per tuple, and a digest of
 * the finalised result, so that two builds can be compared on the same records:
 *   node dist/bench/finalise.js [--rows 3000000] [--rounds 5] [--multi 0.25] [--held-first 1] [--near-misses 0]
 * (--near-misses 0: scans only, as detect without --near-misses finalises)
 * (to compare builds: copy dist/bench/{finalise,records,args}.js into the other build's dist/bench/).
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ScanTable } from '../src/engine/scan-table.js';
import { DEFAULT_THRESHOLDS } from '../src/detect/rules.js';
import { blockForms, makeRealBatches, replayBlocks, W } from './records.js';
import { numArg as arg } from './args.js';

/** A digest of a finalised result in a fixed order (the merger sorts verdicts; tables differ in entry order). */
function digestOf(r: ReturnType<ScanTable['finalize']>): string {
  const lines = [...r.verdicts.map((v) => JSON.stringify(v)), ...r.endpointDays.map((d) => JSON.stringify(d))].sort();
  return createHash('sha256').update(`${r.keys} ${r.entries}\n${lines.join('\n')}`).digest('hex').slice(0, 16);
}

/** CPU time of the process (user + system), ms: steadier than wall time on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The least of the rounds: on a busy machine the other rounds measure the neighbours. */
const best = (xs: number[]): number => Math.min(...xs);

function main(): void {
  const rows = arg('rows', 3_000_000);
  const rounds = arg('rounds', 5);
  const heldFirst = arg('held-first', 0) === 1;
  const { batches, shape } = makeRealBatches(rows, 11, arg('multi', 0.25));
  const forms = blockForms(replayBlocks(batches)); // the records as replay blocks: one per bucket, rows sorted by entry, in the file's column form
  const opts = { thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: arg('near-misses', 1) === 1 };
  const capacity = Math.ceil(rows / 2);
  const acc: number[] = [];
  const rep: number[] = [];
  const repArena: number[] = [];
  const fin: number[] = [];
  const finArena: number[] = [];
  const finHeld: number[] = [];
  let digest = '';
  let bytesPerTuple = 0;
  let scans = 0;
  for (let round = 0; round < rounds; round++) {
    let t0 = cpuMs();
    const held = new ScanTable(W, capacity, 1, 1 << 20);
    for (const b of batches) held.addBatch(b);
    const entries = held.n; // adds the held records
    acc.push(cpuMs() - t0);
    if (entries !== shape.tuples) throw new Error(`${entries} entries for ${shape.tuples} tuples`);

    t0 = cpuMs();
    const replay = new ScanTable(W, capacity, 1, 0, null); // JavaScript arrays (FLOWSIEVE_ACCUMULATE=js)
    for (const f of forms) replay.addRows(f.rows, f.bucket);
    const n = replay.n;
    rep.push(cpuMs() - t0);
    if (n !== shape.tuples) throw new Error(`replay: ${n} entries for ${shape.tuples} tuples`);

    t0 = cpuMs();
    const inArena = new ScanTable(W, capacity, 1, 1 << 20); // its arena, as a replay run's shard has (workers/shard.ts)
    for (const f of forms) inArena.addRows(f.rows, f.bucket);
    if (inArena.n !== shape.tuples) throw new Error(`replay in its arena: ${inArena.n} entries for ${shape.tuples} tuples`);
    repArena.push(cpuMs() - t0);
    bytesPerTuple = (inArena.heldBytes - (inArena.v6 as { bytes: number }).bytes) / n;

    // --held-first 1: the held table's finalisation first, cold (as a text run's shard finalises once)
    const timed = (table: ScanTable, into: number[]): ReturnType<ScanTable['finalize']> => {
      const t1 = cpuMs();
      const out = table.finalize(opts);
      into.push(cpuMs() - t1);
      return out;
    };
    const r2 = heldFirst ? timed(held, finHeld) : null;
    const r = timed(replay, fin);
    scans = r.verdicts.filter((v) => v.failed.length === 0).length;
    const d = digestOf(r);
    const d2 = digestOf(r2 ?? timed(held, finHeld));
    if (d !== d2) throw new Error('held and replay tables finalise differently');
    if (digestOf(timed(inArena, finArena)) !== d) throw new Error('replay tables in JavaScript arrays and in an arena finalise differently');
    digest = d;
  }
  const perKey = (shape.tuples / shape.keys).toFixed(2);
  console.log(`${rows.toLocaleString('en-US')} records, ${shape.tuples.toLocaleString('en-US')} tuples over ${shape.keys.toLocaleString('en-US')} keys (${perKey} tuples a key; ${((100 * shape.multiTuples) / shape.tuples).toFixed(0)} % of tuples in multi-endpoint keys; ${shape.scannerKeys} scanner keys of 100-1,000 endpoints, ${scans} scans found), one thread, CPU time, least of ${rounds} rounds; Node ${process.version}`);
  console.log(`| stage | ms | ns/record | ns/tuple |`);
  console.log(`|---|---:|---:|---:|`);
  for (const [name, xs] of [['accumulate, held back (text)', acc], ['accumulate, replay blocks (addRows)', rep], ['accumulate, replay blocks into an arena', repArena], ['finalise', fin], ['finalise, held table (its arena)', finHeld], ['finalise, replay table in an arena', finArena]] as const) {
    const ms = best(xs);
    console.log(`| ${name} | ${ms.toFixed(0)} | ${((ms * 1e6) / rows).toFixed(1)} | ${((ms * 1e6) / shape.tuples).toFixed(1)} |`);
  }
  console.log(`table bytes per tuple (entries + index, replay table in its arena at its final size): ${bytesPerTuple.toFixed(1)}`);
  console.log(`result digest: ${digest}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
