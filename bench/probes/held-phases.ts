/**
 * The inbound table's held path split into phases (issue 19's "accumulate" stage), one
 * thread, CPU of the process by phase (user and system apart: first-touched pages are
 * system time) and the minor page faults of each:
 *   - hold: addBatch less the flushes inside it (keys built, rows written into the held buffer);
 *   - sort: HeldSorter.sort, a part's rows by bucket (assembly/scan-held.ts sortPart);
 *   - copy: the sorted part into the table's scratch (the flush less sort and add);
 *   - add: ScanCore.addHeldRows (hash, probe, insert, accumulate in the module), resizes included;
 *   - grow: ScanCore.grow (the table's resizes) alone.
 * Each round fills a fresh table, as a shard does once a run. The input is the real bucket,
 * (or one text file: `--bucket FILE`), parsed in this thread into one shard's batches as a
 * parse thread would (FlowSink), with
 * the table sized as workers/shard.ts sizes it for `--hint` (detect's capacity hint: 1.5 M on
 * the bucket), or the synthetic real shape of bench/finalise.ts (`--rows`). Also counts the
 * flushes, the rows each held, the table's entries after each, and its far probes (past a
 * bucket's region of the index: ScanCore.findFar). `--held N`: a held buffer of
 * N rows instead of workers/shard.ts's.
 *
 *   node dist/bench/probes/held-phases.js --bucket /work/main/bench/data/bucket-2000000-10-6 [--hint 1499819] [--held N] [--rounds 5]
 *   node dist/bench/probes/held-phases.js [--rows 3000000] [--rounds 5]
 *
 * `--ring`: the held buffer in a batch ring's shared memory each round, as a shard thread places
 * it (scan-wasm.ts useRingMemory), so that the table is laid out in that memory too where the
 * build does so (session 23 heldone: no copy phase then); without it the held buffer has a plain
 * memory of its own past the thread's shared budget, and the part is copied into the table's.
 *
 * `--outbound`: the outbound table's adds of the same batches too (workers/shard.ts sizes it at
 * an eighth of the hint), a fresh table a round, each batch added to an inbound table first (as
 * the shard does: its columns are then in cache): CPU, user, sys, faults, ns an outbound record.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ScanTable } from '../../src/engine/scan-table.js';
import { ScanCore } from '../../src/engine/scan-core.js';
import { HeldSorter, useRingMemory } from '../../src/engine/scan-wasm.js';
import { createBatchRing } from '../../src/flow/batch-ring.js';
import { FlowSink } from '../../src/flow/sink.js';
import type { FlowBatchData } from '../../src/flow/batch.js';
import { readerFor } from '../../src/formats/registry.js';
import { readLineBytes, gunzipWhole } from '../../src/input/read.js';
import { awsPathInfo } from '../../src/formats/aws.js';
import { OutboundTable } from '../../src/engine/outbound-table.js';
import { Feed } from '../../src/flow/types.js';
import { makeRealBatches, W } from '../records.js';
import { arg, numArg } from '../args.js';

const PHASES = ['hold', 'sort', 'copy', 'add', 'grow'] as const;
type Phase = (typeof PHASES)[number];

interface Tally {
  user: number;
  sys: number;
  faults: number;
}

const zero = (): Tally => ({ user: 0, sys: 0, faults: 0 });
function now(): Tally {
  const r = process.resourceUsage();
  return { user: r.userCPUTime / 1000, sys: r.systemCPUTime / 1000, faults: r.minorPageFault };
}
function addInto(t: Tally, from: Tally, to: Tally, sign = 1): void {
  t.user += sign * (to.user - from.user);
  t.sys += sign * (to.sys - from.sys);
  t.faults += sign * (to.faults - from.faults);
}

function files(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
}

/** The records of a bucket's gzip objects (a folder) or of one text file as one shard's batches, as a parse thread routes them. */
function bucketBatches(dir: string): FlowBatchData[] {
  const out: FlowBatchData[] = [];
  const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 0 }, (_s, b) => out.push(b));
  const reader = readerFor('aws-text')!;
  if (reader.kind !== 'lines') throw new Error('aws-text reads lines');
  if (!statSync(dir).isDirectory()) {
    readLineBytes(readFileSync(dir), reader.open({ sink, file: dir, account: '', region: '' }), 1 << 20, 0);
    sink.flushAll();
    return out;
  }
  for (const p of files(dir)) {
    const where = awsPathInfo(p);
    readLineBytes(gunzipWhole(readFileSync(p), 256 << 20), reader.open({ sink, file: p, account: where.account ?? '', region: where.region ?? '' }), 1 << 20, 0);
  }
  sink.flushAll();
  return out;
}

// the phases' tallies of the current round, filled by the wrapped methods below
let tally: Record<Phase, Tally> = { hold: zero(), sort: zero(), copy: zero(), add: zero(), grow: zero() };
let flushed: Tally = zero();
const flushes: string[] = [];

/** Wrap a prototype method so that its time adds to `into()`. */
function timed(proto: object, name: string, into: () => Tally, after?: (self: unknown) => void): void {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const f = p[name]!;
  p[name] = function (this: unknown, ...a: unknown[]) {
    const t0 = now();
    const r = f.apply(this, a);
    addInto(into(), t0, now());
    after?.(this);
    return r;
  };
}

timed(HeldSorter.prototype, 'sort', () => tally.sort);
timed(ScanCore.prototype, 'addHeldRows', () => tally.add);
timed(ScanCore.prototype, 'grow', () => tally.grow);
// the flush's own rows and entries, before it runs
const flush = ScanTable.prototype.flush;
ScanTable.prototype.flush = function (this: ScanTable) {
  const p = (this as unknown as { pending: { n: number } | null }).pending;
  const rows = p?.n ?? 0;
  const t0 = now();
  flush.call(this);
  addInto(flushed, t0, now());
  if (rows > 0) flushes.push(`${rows} rows -> ${(this as unknown as { count: number }).count} entries`);
};

/** One-off: entries per bucket against the uniform region span. */
function bucketLoads(t: ScanTable): void {
  const per = new Int32Array(4096);
  for (let e = 0; e < t.count; e++) per[t.u[e * 9 + 5]! >>> 20]!++;
  const sorted = [...per].sort((a, b) => b - a);
  const span = Math.floor(Math.ceil(t.count ? (t as unknown as { slots: number }).slots : 0) / 4096);
  console.log(`span ${span}; largest buckets ${sorted.slice(0, 20).join(' ')}; buckets over 0.7 span ${sorted.filter((x) => x > 0.7 * span).length}, entries in them ${sorted.filter((x) => x > 0.7 * span).reduce((a, b) => a + b, 0)}; median ${sorted[2048]}`);
}

function main(): void {
  const dir = arg('bucket');
  const rounds = numArg('rounds', 5);
  const batches = dir ? bucketBatches(dir) : makeRealBatches(numArg('rows', 3_000_000), 11, numArg('multi', 0.25)).batches;
  const records = batches.reduce((s, b) => s + b.n, 0);
  // workers/shard.ts tableCapacity and pendingRows at one shard
  const hint = numArg('hint', dir ? 1_499_819 : Math.ceil(records / 2));
  const capacity = Math.max(1 << 14, Math.min(hint, 1 << 24));
  const pending = numArg('held', Math.max(1 << 12, Math.min(1 << 21, Math.ceil(hint / 2))));
  const window = numArg('window', dir ? 21600 : W);
  const best: Record<Phase | 'total', Tally> = { hold: zero(), sort: zero(), copy: zero(), add: zero(), grow: zero(), total: zero() };
  const cpu = (t: Tally): number => t.user + t.sys;
  let entries = 0;
  let farProbes = 0;
  for (let round = 0; round < rounds; round++) {
    tally = { hold: zero(), sort: zero(), copy: zero(), add: zero(), grow: zero() };
    flushed = zero();
    flushes.length = 0;
    // --ring: a batch ring's shared memory given to this thread, as the engine gives its shard thread one: the held buffer
    // lies in it and the table joins it (scan-wasm.ts useRingMemory, ScanArena.hostIn); the batches are staged, not read in place
    if (process.argv.includes('--ring')) {
      const ring = createBatchRing(2, 1024);
      if (ring.memory) useRingMemory(ring.memory, ring.id, ring.data.byteLength);
    }
    const t0 = now();
    const t = new ScanTable(window, capacity, 1, pending);
    for (const b of batches) t.addBatch(b);
    entries = t.n;
    farProbes = t.farProbes;
    if (process.env.HELD_PHASES_BUCKETS) bucketLoads(t);
    const total = zero();
    addInto(total, t0, now());
    tally.hold = { ...total };
    addInto(tally.hold, zero(), flushed, -1);
    tally.copy = { ...flushed };
    addInto(tally.copy, zero(), tally.sort, -1);
    addInto(tally.copy, zero(), tally.add, -1);
    const all = { ...tally, total };
    for (const k of [...PHASES, 'total'] as const) if (round === 0 || cpu(all[k]) < cpu(best[k])) best[k] = all[k];
  }
  const ns = (ms: number): string => ((ms * 1e6) / records).toFixed(1);
  console.log(`${records.toLocaleString('en-US')} records (${dir ?? 'synthetic real shape'}), ${entries.toLocaleString('en-US')} entries, ${farProbes.toLocaleString('en-US')} far probes; table capacity ${capacity}, held rows ${pending}; flushes: ${flushes.join(', ')}; least of ${rounds} rounds each phase`);
  console.log('| phase | CPU ms | user ms | sys ms | ns a record | minor faults |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const k of [...PHASES, 'total'] as const) {
    const x = best[k];
    console.log(`| ${k} | ${cpu(x).toFixed(1)} | ${x.user.toFixed(1)} | ${x.sys.toFixed(1)} | ${ns(cpu(x))} | ${x.faults} |`);
  }
  if (process.argv.includes('--outbound')) outboundRounds(batches, hint, window, rounds);
}

/** The outbound table's adds of the batches (a fresh table a round, sized as workers/shard.ts outboundCapacity): the least CPU of `rounds`. */
function outboundRounds(batches: FlowBatchData[], hint: number, window: number, rounds: number): void {
  let outbound = 0;
  for (const b of batches) for (let i = 0; i < b.n; i++) if ((b.feed[i]! & Feed.outbound) !== 0) outbound++;
  let best: Tally | null = null;
  let entries = 0;
  for (let round = 0; round < rounds; round++) {
    const t = new OutboundTable(window, Math.max(1 << 10, Math.min(Math.floor(hint / 8), 1 << 22)));
    // each batch into the inbound table first, as the shard adds it (its columns then in cache), untimed
    const inbound = new ScanTable(window, Math.max(1 << 14, Math.min(hint, 1 << 24)), 1, Math.max(1 << 12, Math.min(1 << 21, Math.ceil(hint / 2))));
    const x = zero();
    for (const b of batches) {
      inbound.addBatch(b);
      const t0 = now();
      t.addBatch(b);
      addInto(x, t0, now());
    }
    entries = t.n;
    if (best === null || x.user + x.sys < best.user + best.sys) best = x;
  }
  const cpu = best!.user + best!.sys;
  console.log(`outbound: ${outbound.toLocaleString('en-US')} records, ${entries.toLocaleString('en-US')} entries; least of ${rounds}: CPU ${cpu.toFixed(1)} ms (user ${best!.user.toFixed(1)}, sys ${best!.sys.toFixed(1)}), ${((cpu * 1e6) / Math.max(1, outbound)).toFixed(1)} ns an outbound record, ${best!.faults} faults`);
}

main();
