import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { generateAws } from '../dist/bench/gen-aws.js';
import { hashAddress, SHARD_BUCKETS } from '../dist/src/flow/hash.js';
import { parseAddress } from '../dist/src/net/address.js';
import { DEFAULT_RUN, Engine } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { readCheckpoint, writeCheckpoint, CHECKPOINT_VERSION } from '../dist/src/serve/checkpoint.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;

function cli(...args: string[]): number {
  const r = spawnSync(process.execPath, [CLI, ...args, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 2) throw new Error(r.stderr);
  return r.status;
}
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean);
const summary = (d: string) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8'));

const dir = tempDir('flowsieve-memory-');
const log = join(dir, 'flows.log');

beforeAll(() => {
  generateAws(log, { records: 40_000, seed: 3 });
  expect(cli('detect', log, '--out', join(dir, 'free'), '--workers', '2', '--near-misses')).toBe(0);
});

describe('--max-memory', () => {
  it('spills partitions to disk and merges them back to the same verdicts', () => {
    const out = join(dir, 'spilled');
    // a spill file left by a process that was killed: removed by the next one to spill there
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, `.flowsieve-spill-${dead}-0-orphan`), 'left behind');
    expect(cli('detect', log, '--out', out, '--workers', '2', '--near-misses', '--max-memory', '512K', '--spill-dir', dir)).toBe(0);
    const m = summary(out).memory;
    expect(m.spills).toBeGreaterThan(2);
    expect(m.peak_table_bytes).toBeLessThanOrEqual(512 * 1024);
    expect(m.dropped).toEqual([]);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'free', 'scans.ndjson')))).toBe(true);
    expect(readFileSync(join(out, 'near_misses.ndjson')).equals(readFileSync(join(dir, 'free', 'near_misses.ndjson')))).toBe(true);
    expect(summary(out).distinct_keys).toBe(summary(join(dir, 'free')).distinct_keys);
    expect(readdirSync(dir).filter((f) => f.startsWith('.flowsieve-spill'))).toEqual([]); // spill files are removed
  });

  it('without --spill-dir spills into flowsieve-spill in the temporary folder, where a run looks for the files of killed runs', () => {
    const tmp = tempDir('flowsieve-tmp-');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(tmp, 'flowsieve-spill'));
    writeFileSync(join(tmp, 'flowsieve-spill', `.flowsieve-spill-${dead}-0-orphan`), 'left behind');
    writeFileSync(join(tmp, `.flowsieve-spill-${dead}-0-elsewhere`), 'not looked at'); // the temporary folder itself is not read
    const out = join(dir, 'default-spill-dir');
    const r = spawnSync(process.execPath, [CLI, 'detect', log, '--out', out, '--workers', '2', '--max-memory', '512K', '--quiet'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    expect(r.status, r.stderr).toBe(0);
    expect(summary(out).memory.spills).toBeGreaterThan(2);
    expect(readdirSync(join(tmp, 'flowsieve-spill'))).toEqual([]); // the orphan and the run's own files removed
    expect(readdirSync(tmp).filter((f) => f.startsWith('.flowsieve-spill'))).toEqual([`.flowsieve-spill-${dead}-0-elsewhere`]);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'free', 'scans.ndjson')))).toBe(true);
  });

  it('without spilling, drops whole source partitions and says exactly which', () => {
    const out = join(dir, 'dropped');
    expect(cli('detect', log, '--out', out, '--workers', '2', '--max-memory', '512K', '--no-spill')).toBe(2);
    const s = summary(out);
    const m = s.memory;
    expect(m.dropped.length).toBeGreaterThan(0);
    expect(m.dropped_records).toBeGreaterThan(0);
    expect(m.peak_table_bytes).toBeLessThanOrEqual(512 * 1024);
    const dropped = new Set(m.dropped.map((d: { shard: number; partition: number }) => `${d.shard}/${d.partition}`));
    const shards = s.performance.workers; // a small input runs in one shard whatever --workers says (engine/run.ts)
    const droppedSource = (src: string) => {
      const h = hashAddress(parseAddress(src)!, 0);
      return dropped.has(`${(h & (SHARD_BUCKETS - 1)) % shards}/${(h >>> 12) & 255}`);
    };
    const full = lines(join(dir, 'free', 'scans.ndjson'));
    const kept = new Set(lines(join(out, 'scans.ndjson')));
    // every scan of a source outside the dropped partitions is there, unchanged; none of the others
    const expected = full.filter((l) => !droppedSource(JSON.parse(l).src));
    expect(expected.length).toBeLessThan(full.length);
    expect([...kept].sort()).toEqual(expected.sort());
    expect(s.partial).toBe(true);
  });

  it('holds a flood of spoofed random sources within the limit and still finds the scanners', () => {
    const flood = join(dir, 'flood.log');
    copyFileSync(log, flood);
    // 50,000 one-record sources (random public addresses) hitting random endpoints
    let x = 12345;
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const src = `${20 + (x % 60)}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${(x >>> 24) & 255}`;
      lines.push(`2 111122223300 eni-flood ${src} 10.0.${i & 7}.${(i >> 3) & 63} ${1024 + (x % 60000)} ${x % 65536} 6 1 40 1717200000 1717200001 REJECT OK`);
    }
    appendFileSync(flood, lines.join('\n') + '\n');
    const free = join(dir, 'flood-free');
    const bounded = join(dir, 'flood-bounded');
    expect(cli('detect', flood, '--out', free, '--workers', '2')).toBe(0);
    expect(cli('detect', flood, '--out', bounded, '--workers', '2', '--max-memory', '1M', '--spill-dir', dir)).toBe(0);
    const m = summary(bounded).memory;
    expect(m.spills).toBeGreaterThan(0);
    expect(m.peak_table_bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(summary(bounded).distinct_key_endpoint_entries).toBe(summary(free).distinct_key_endpoint_entries);
    expect(readFileSync(join(bounded, 'scans.ndjson')).equals(readFileSync(join(free, 'scans.ndjson')))).toBe(true);
    expect(readFileSync(join(free, 'scans.ndjson'), 'utf8')).toEqual(readFileSync(join(dir, 'free', 'scans.ndjson'), 'utf8'));
  });
});

describe('--max-memory and the outbound table', () => {
  it('bounds the entries of a host scanning many targets, counts what it leaves out, and still raises the alert', () => {
    // one of our own hosts probes 10,000 public targets on telnet: 10,000 outbound entries in one shard
    const worm = join(dir, 'worm.log');
    const rows: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      rows.push(`2 111122223300 eni-worm 10.9.0.5 ${45 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.7 ${40000 + (i % 20000)} 23 6 1 60 1717200000 1717200001 ACCEPT OK`);
    }
    writeFileSync(worm, rows.join('\n') + '\n');
    const free = join(dir, 'worm-free');
    const bounded = join(dir, 'worm-bounded');
    expect(cli('detect', worm, '--out', free, '--workers', '2')).toBe(0);
    expect(cli('detect', worm, '--out', bounded, '--workers', '2', '--max-memory', '1M')).toBe(2);
    const m = summary(bounded).memory;
    expect(summary(free).memory.outbound_dropped_records).toBe(0);
    // a 512 KB shard gives the outbound table its minimum, 4,096 entries: the rest are counted, by host
    expect(m.outbound_limit_entries_per_shard).toBe(4096);
    expect(m.outbound_dropped_records).toBe(10_000 - 4096);
    expect(m.outbound_dropped).toEqual([expect.objectContaining({ src: '10.9.0.5', account: '111122223300', records: 10_000 - 4096 })]);
    expect(summary(bounded).partial).toBe(true);
    const alertOf = (d: string) => lines(join(d, 'outbound.ndjson')).map((l) => JSON.parse(l)).find((a) => a.src === '10.9.0.5');
    expect(alertOf(free)).toMatchObject({ kind: 'horizontal', dst_port: 23, targets: 10_000 });
    expect(alertOf(bounded)).toMatchObject({ kind: 'horizontal', dst_port: 23, targets: 4096 });
  });
});

describe('--max-memory with incremental windows and checkpoints (the sidecar)', () => {
  const W = 21600;
  const opts = (over: Record<string, unknown> = {}) => ({
    inputs: [], workers: 2, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND },
    ...DEFAULT_RUN, spillDir: dir, ...over,
  }) as any;
  const canon = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
  /** The verdicts of an engine without a memory limit, to compare with. */
  const unbounded = async () => {
    const free = new Engine(opts());
    try {
      await free.ingest([log]);
      return await free.finalize();
    } finally {
      await free.close();
    }
  };

  it('finalises window by window after spilling, as an unbounded engine does, and leaves no spill file', async () => {
    const whole = await unbounded();

    const e = new Engine(opts({ maxMemory: 1 << 19 }));
    await e.ingest([log]);
    const windows = (await e.stats()).windows;
    expect(windows.length).toBeGreaterThan(2);
    const parts = [];
    for (const w of windows) {
      parts.push(await e.finalize({ uptoWindow: w, drop: true }));
      expect((await e.stats()).windows).toEqual(windows.filter((x: number) => x > w)); // spilled windows are listed too
    }
    const rest = await e.finalize();
    await e.close();
    expect(parts.some((p) => p.memory.spills > 0)).toBe(true);
    expect(rest.scans).toHaveLength(0);
    expect(canon(parts.flatMap((p) => p.scans))).toEqual(canon(whole.scans));
    expect(canon(parts.flatMap((p) => p.nearMisses))).toEqual(canon(whole.nearMisses));
    expect(readdirSync(dir).filter((f) => f.startsWith('.flowsieve-spill'))).toEqual([]);
  }, 60_000);

  it('a checkpoint taken after spilling holds the spilled entries too, and restores into another worker count', async () => {
    const whole = await unbounded();

    const a = new Engine(opts({ maxMemory: 1 << 19 }));
    await a.ingest([log]);
    const states = await a.exportState();
    await a.close();
    const b = new Engine(opts({ workers: 3, maxMemory: 1 << 19 }));
    await b.importState(states);
    const fin = await b.finalize();
    await b.close();
    expect(fin.memory.spills).toBeGreaterThan(0); // the restored state did not fit either: it spilled again
    expect(canon(fin.scans)).toEqual(canon(whole.scans));
    expect(canon(fin.nearMisses)).toEqual(canon(whole.nearMisses));
    expect(fin.entries).toBe(whole.entries);
  }, 60_000);

  it('a checkpoint file takes the spilled partitions one piece at a time, and restores the same verdicts', async () => {
    const whole = await unbounded();

    const a = new Engine(opts({ maxMemory: 1 << 19 }));
    await a.ingest([log]);
    const wholeState = (await a.exportState()).reduce((n: number, b: Uint8Array) => n + b.length, 0);
    const state = tempDir('flowsieve-ckpt-');
    const sizes: number[] = [];
    const pieces = (async function* () {
      for await (const p of a.exportPieces()) {
        sizes.push(p.length);
        yield p;
      }
    })();
    const meta = { version: CHECKPOINT_VERSION, seq: 7, createdAt: 0, windowSeconds: W, maxEnd: 0, finalizedUpTo: -1, ledger: [], outbox: null };
    await writeCheckpoint(state, meta, pieces);
    await a.close();
    // each shard's tables, then one piece per spilled partition: no piece is the whole state
    expect(sizes.length).toBeGreaterThan(4);
    expect(Math.max(...sizes)).toBeLessThan(wholeState / 2);

    const c = readCheckpoint(state)!;
    expect(c.seq).toBe(7);
    expect(c.pieces).toBe(sizes.length);
    const b = new Engine(opts({ workers: 3, maxMemory: 1 << 19 }));
    await b.importState(c.shards);
    const fin = await b.finalize();
    await b.close();
    expect(canon(fin.scans)).toEqual(canon(whole.scans));
    expect(canon(fin.nearMisses)).toEqual(canon(whole.nearMisses));
    expect(fin.entries).toBe(whole.entries);
  }, 60_000);
});
