import { describe, expect, it, beforeAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import { tempDir } from './helpers/tmp.js';
import { generateAws } from '../dist/bench/gen-aws.js';
import { readReplayHeader, type ReplayHeader } from '../dist/src/replay/file.js';
import { encodeBlock, decodeBlock } from '../dist/src/replay/block.js';
import { convert } from '../dist/src/replay/convert.js';
import { replayInputs } from '../dist/src/replay/input.js';
import { replayShardOp, type ReplayBlocksTask } from '../dist/src/replay/shard-ops.js';
import type { InputFile } from '../dist/src/input/plan.js';
import { DEFAULT_RUN, Engine, detect } from '../dist/src/engine/run.js';
import { DAY0 } from '../dist/bench/gen-aws.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { ScanArena } from '../dist/src/engine/scan-wasm.js';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { blockForms, makeRealBatches, replayBlocks, W } from '../dist/bench/records.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;

function cli(...args: string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}

/** summary.json with its per-file detail (files.ndjson) read back in as `files`. */
function summary(dir: string): Record<string, any> {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const lines = readFileSync(join(dir, s.files), 'utf8').split('\n').filter(Boolean);
  return { ...s, files: lines.map((l) => JSON.parse(l)) };
}

const dir = tempDir('flowsieve-replay-');
const logs = join(dir, 'logs');
const a = join(logs, 'a.log');
const b = join(logs, 'sub', 'b.log');

beforeAll(() => {
  mkdirSync(join(logs, 'sub'), { recursive: true });
  generateAws(a, { records: 25_000, seed: 7 });
  generateAws(b, { records: 10_000, seed: 8 });
  // lines the reader rejects and no-data lines must be accounted for after a replay too
  appendFileSync(a, '2 123456789012 eni-1 1.2.3.4 10.0.0.1 x 80 6 1 40 1717200000 1717200001 ACCEPT OK\nnot a flow log line\n');
  const text = cli('detect', logs, '--out', join(dir, 'text'), '--workers', '2', '--near-misses', '--quiet');
  expect(text.code).toBe(0);
  expect(cli('convert', logs, '--out', join(dir, 'all.fsr'), '--workers', '2', '--quiet').code).toBe(0);
});

/** The tasks replayInputs sends the shards for these files (answered with empty replies, nothing read). */
async function dispatched(files: InputFile[], shards: number): Promise<ReplayBlocksTask[]> {
  const tasks: ReplayBlocksTask[] = [];
  const reply = { rows: 0, blocks: 0, bytes: 0, rawBytes: 0, outsidePartition: 0, outsideInbound: 0, outsideOutbound: 0, late: [], lateInbound: 0, lateOutbound: 0, corrupt: [] };
  const pool = { run: async (t: ReplayBlocksTask) => (tasks.push(t), reply) };
  await replayInputs(files, new Array(shards).fill(pool), { shards, windowSeconds: 21600, into: 'table' });
  return tasks;
}


/** A copy of a replay file whose header's block index lacks the per-block inbound/outbound counts (as files written before them). */
function withoutFeedCounts(from: string, to: string): void {
  const f = readFileSync(from);
  const hlen = f.readUInt32LE(12);
  const header = unpack(f.subarray(20, 20 + hlen));
  delete header.blocks.inbound;
  delete header.blocks.outbound;
  const h = pack(header);
  const prefix = Buffer.from(f.subarray(0, 20));
  prefix.writeUInt32LE(h.length, 12);
  prefix.writeUInt32LE(crc32(h), 16);
  writeFileSync(to, Buffer.concat([prefix, h, f.subarray(20 + hlen)]));
}
/** Flip a byte inside the compressed payload of block k's entry-row twin. */
function damageTwin(bytes: Buffer, dataStart: number, header: ReplayHeader, k: number): void {
  const b = header.blocks;
  bytes[dataStart + b.entryOffset![k]! + b.entryLength![k]! - 5]! ^= 0xff;
}

describe('replay files', () => {
  it('give byte-identical verdicts to the logs they came from, at any worker count', () => {
    const fsr = join(dir, 'all.fsr');
    const want = readFileSync(join(dir, 'text', 'scans.ndjson'));
    expect(want.length).toBeGreaterThan(500); // the data has scanners
    for (const w of ['1', '2', '3']) {
      const out = join(dir, `replay-${w}`);
      const r = cli('detect', fsr, '--out', out, '--workers', w, '--near-misses', '--quiet');
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(out, 'scans.ndjson')).equals(want), `workers ${w}`).toBe(true);
      expect(readFileSync(join(out, 'near_misses.ndjson')).equals(readFileSync(join(dir, 'text', 'near_misses.ndjson')))).toBe(true);
      expect(readFileSync(join(out, 'outbound.ndjson')).equals(readFileSync(join(dir, 'text', 'outbound.ndjson')))).toBe(true);
    }
    // the replay run accounts for every record exactly as the run on the logs did
    const t = summary(join(dir, 'text'));
    const s = summary(join(dir, 'replay-2'));
    expect(s.totals.records).toBe(t.totals.records);
    expect(s.totals.lines).toBe(t.totals.lines);
    expect(s.totals.rejected).toBe(2);
    expect(s.totals.nodata).toBe(t.totals.nodata);
    expect(s.totals.inbound).toBe(t.totals.inbound);
    expect(s.distinct_keys).toBe(t.distinct_keys);
    const rep = s.files[0].replay;
    expect(rep.sources).toHaveLength(2);
    expect(rep.rows_read).toBe(rep.rows);
    expect(rep.corrupt_blocks).toBe(0);
    const rejects = readFileSync(join(dir, 'replay-2', 'rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.file, r.line])).toEqual([[a, 25_002], [a, 25_003]]);
  });

  it("tables in its WebAssembly arena, as a replay run's shard builds them, finalise in the module to JavaScript's verdicts", () => {
    const { batches, shape } = makeRealBatches(200_000, 5);
    const forms = blockForms(replayBlocks(batches));
    const opts = { thresholds: DEFAULT_THRESHOLDS, windowSeconds: W, nearMisses: true };
    let scans = 0;
    const finalised = (t: ScanTable): string => {
      for (const f of forms) t.addRows(f.rows, f.bucket);
      expect(t.n).toBe(shape.tuples);
      const r = t.finalize(opts);
      scans = r.verdicts.filter((v) => v.failed.length === 0).length;
      return JSON.stringify([r.keys, r.entries, ...[...r.verdicts, ...r.endpointDays].map((x) => JSON.stringify(x)).sort()]);
    };
    const finalise = vi.spyOn(ScanArena.prototype, 'finalise');
    try {
      // as workers/shard.ts builds a replay run's inbound table: records may be held back, so it has an arena
      const inArena = new ScanTable(W, 1 << 14, 1, 1 << 12);
      expect(inArena.arena).not.toBeNull();
      const got = finalised(inArena);
      expect(finalise).toHaveBeenCalledTimes(1);
      expect(finalise.mock.results[0]!.value).not.toBeNull(); // in the module, not in JavaScript
      expect(scans).toBeGreaterThan(0); // the data has scanners
      expect(got).toBe(finalised(new ScanTable(W, 1 << 14, 1, 0, null))); // JavaScript arrays, finalised in JavaScript
    } finally {
      finalise.mockRestore();
    }
    // and a replay run whose tables stay in JavaScript arrays (FLOWSIEVE_ACCUMULATE=js) writes the text run's verdicts
    const fsr = join(dir, 'all.fsr');
    const out = join(dir, 'replay-js');
    const r = spawnSync(process.execPath, [CLI, 'detect', fsr, '--out', out, '--workers', '2', '--near-misses', '--quiet'], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_ACCUMULATE: 'js' } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
    expect(readFileSync(join(out, 'outbound.ndjson')).equals(readFileSync(join(dir, 'text', 'outbound.ndjson')))).toBe(true);
  });

  it('are the same whatever the conversion spilled, its block size, or its worker count', () => {
    const fsr = join(dir, 'small-blocks.fsr');
    expect(cli('convert', logs, '--out', fsr, '--workers', '3', '--run-rows', '1024', '--block-rows', '50', '--quiet').code).toBe(0);
    const h = readReplayHeader(fsr).header;
    expect(h.blocks.offset.length).toBeGreaterThan(1000);
    expect(Math.max(...h.blocks.rows)).toBeLessThanOrEqual(50);
    const out = join(dir, 'replay-small');
    expect(cli('detect', fsr, '--out', out, '--workers', '2', '--quiet').code).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
  });

  it('mix with text inputs, and a folder output holds one replay file per input', () => {
    const per = join(dir, 'per-file') + '/';
    expect(cli('convert', logs, '--out', per, '--quiet').code).toBe(0);
    expect(existsSync(join(per, 'a.log.fsr'))).toBe(true);
    expect(existsSync(join(per, 'sub', 'b.log.fsr'))).toBe(true);
    const out = join(dir, 'mixed');
    expect(cli('detect', join(per, 'a.log.fsr'), b, '--out', out, '--workers', '2', '--quiet').code).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
  });

  it('split by --partition exactly as the logs do', () => {
    for (const part of ['0/2', '1/2']) {
      const t = join(dir, `text-part-${part[0]}`);
      const r = join(dir, `replay-part-${part[0]}`);
      expect(cli('detect', logs, '--out', t, '--partition', part, '--quiet').code).toBe(0);
      expect(cli('detect', join(dir, 'all.fsr'), '--out', r, '--partition', part, '--workers', '3', '--quiet').code).toBe(0);
      expect(readFileSync(join(r, 'scans.ndjson')).equals(readFileSync(join(t, 'scans.ndjson'))), part).toBe(true);
      expect(summary(r).files[0].replay.outside_partition).toBeGreaterThan(0);
      // counted as the run on the logs counts them
      expect(summary(r).totals).toEqual({ ...summary(t).totals, files: 1, bytes_read: summary(r).totals.bytes_read });
      // a partition is a range of source buckets: the other partition's blocks are skipped by the index, not read
      const rep = summary(r).files[0].replay;
      expect(rep.blocks_read).toBeGreaterThan(0);
      expect(rep.blocks_read).toBeLessThan(rep.blocks);
      expect(rep.rows_read + rep.outside_partition).toBe(rep.rows);
    }
  });

  it('files without per-block feed counts (written before them) are split by --partition all the same', () => {
    const older = join(dir, 'older.fsr');
    withoutFeedCounts(join(dir, 'all.fsr'), older);
    for (const part of ['0/2', '1/2']) {
      const t = join(dir, `text-part-${part[0]}`); // written by the test above
      const r = join(dir, `older-part-${part[0]}`);
      expect(cli('detect', older, '--out', r, '--partition', part, '--workers', '2', '--quiet').code).toBe(0);
      expect(readFileSync(join(r, 'scans.ndjson')).equals(readFileSync(join(t, 'scans.ndjson'))), part).toBe(true);
      expect(summary(r).totals).toEqual({ ...summary(t).totals, files: 1, bytes_read: summary(r).totals.bytes_read });
      expect(summary(r).files[0].replay.blocks_read).toBe(summary(r).files[0].replay.blocks); // read, then filtered
    }
  });

  it("tell each shard the outbound rows of all its blocks, so its outbound table is sized once (none for files that do not count them)", async () => {
    const fsr = join(dir, 'all.fsr');
    const { header } = readReplayHeader(fsr);
    const b = header.blocks;
    const input = { path: fsr, display: fsr, size: statSync(fsr).size, gzip: false, format: 'replay' as const, account: '', region: '' };
    for (const shards of [1, 2, 3]) {
      const want = new Array<number>(shards).fill(0);
      b.bucket.forEach((bucket, k) => (want[bucket % shards]! += b.outbound![k]!));
      expect(want.reduce((x, y) => x + y, 0)).toBeGreaterThan(0); // the data has outbound rows
      // two files: every task of a shard carries the shard's total over both
      const tasks = await dispatched([input, { ...input }], shards);
      expect(tasks.length).toBeGreaterThanOrEqual(2 * shards);
      for (const t of tasks) expect(t.outboundRows, `shard ${t.shard} of ${shards}`).toBe(2 * want[t.shard]!);
    }
    // an index without per-block feed counts: nothing to size by
    const olderPath = join(dir, 'older-uncounted.fsr');
    withoutFeedCounts(fsr, olderPath);
    const mixed = await dispatched([input, { ...input, path: olderPath, display: olderPath, size: statSync(olderPath).size }], 2);
    for (const t of mixed) expect(t.outboundRows).toBeUndefined();
  });

  it("send each shard the file's dictionary with its first task of the file only, and the shard reads records with the dictionary it is sent", async () => {
    const fsr = join(dir, 'all.fsr');
    const { header } = readReplayHeader(fsr);
    const input = { path: fsr, display: fsr, size: statSync(fsr).size, gzip: false, format: 'replay' as const, account: '', region: '' };
    for (const shards of [1, 2, 3]) {
      const tasks = await dispatched([input, { ...input }], shards);
      // tasks of one file come before the next file's (replayInputs plans file by file)
      const perFile = tasks.length / 2;
      tasks.forEach((t, i) => {
        const first = tasks.findIndex((u, j) => u.shard === t.shard && Math.floor(j / perFile) === Math.floor(i / perFile)) === i;
        if (first) expect(t.dict, `shard ${t.shard} of ${shards}`).toEqual(header.dict);
        else expect(t.dict).toBeUndefined();
      });
    }
    // the shard keeps what it is sent (a copy under another path: nothing cached for it yet)
    const copy = join(dir, 'dict-sent.fsr');
    copyFileSync(fsr, copy);
    const strings = (task: ReplayBlocksTask): string[] => {
      const seen: string[][] = [];
      replayShardOp(task, { batch: (bt) => void seen.push(bt.strings), block: (_r, _b, expand) => void seen.push(expand().strings) });
      expect(seen.length).toBeGreaterThan(0);
      return seen[0]!;
    };
    const [task] = await dispatched([{ ...input, path: copy, display: copy }], 1);
    const sent = header.dict.map((s) => `sent:${s}`);
    expect(strings({ ...task!, dict: sent })).toEqual(sent);
    expect(strings({ ...task!, dict: undefined })).toEqual(sent); // kept by path and header checksum
    // without a dictionary sent, the shard reads the file's
    const other = join(dir, 'dict-read.fsr');
    copyFileSync(fsr, other);
    const [own] = await dispatched([{ ...input, path: other, display: other }], 1);
    expect(strings({ ...own!, dict: undefined })).toEqual(header.dict);
  });

  it('count the records of finalised windows as late, as the logs do (serve)', async () => {
    const opts = {
      inputs: [], workers: 2, windowSeconds: 21600, thresholds: DEFAULT_THRESHOLDS, nearMisses: false, outbound: DEFAULT_OUTBOUND, ...DEFAULT_RUN,
    };
    const ingest = async (input: string) => {
      const engine = new Engine(opts);
      try {
        const ing = await engine.ingest([input], undefined, { lateBefore: DAY0 + 2 * 21600 });
        return { ing, scans: JSON.stringify((await engine.finalize()).scans) };
      } finally {
        await engine.close();
      }
    };
    const t = await ingest(logs);
    const r = await ingest(join(dir, 'all.fsr'));
    expect(t.ing.totals.late).toBeGreaterThan(0);
    expect(r.ing.totals).toEqual(t.ing.totals);
    const lateOf = (files: Array<{ lateByWindow: Array<[number, number]> }>) => {
      const m = new Map<number, number>();
      for (const f of files) for (const [w, n] of f.lateByWindow) m.set(w, (m.get(w) ?? 0) + n);
      return [...m].sort((x, y) => x[0] - y[0]);
    };
    expect(lateOf(r.ing.files)).toEqual(lateOf(t.ing.files));
    expect(r.ing.minStart).toBe(t.ing.minStart);
    expect(r.ing.maxEnd).toBe(t.ing.maxEnd);
    expect(r.scans).toBe(t.scans);
  });

  it('report a corrupt block with its offset, skip it and read the rest', () => {
    const good = join(dir, 'all.fsr');
    const bad = join(dir, 'corrupt.fsr');
    copyFileSync(good, bad);
    const { header, dataStart } = readReplayHeader(bad);
    const k = header.blocks.rows.indexOf(Math.max(...header.blocks.rows));
    const at = dataStart + header.blocks.offset[k]!;
    const bytes = readFileSync(bad);
    bytes[at + header.blocks.length[k]! - 5]! ^= 0xff; // inside the compressed payload
    damageTwin(bytes, dataStart, header, k); // and its entry-row twin, which a 6-h run reads in its place
    writeFileSync(bad, bytes);
    const out = join(dir, 'replay-corrupt');
    const r = cli('detect', bad, '--out', out, '--workers', '2', '--quiet');
    expect(r.code).toBe(2);
    const f = summary(out).files[0];
    expect(f.error).toContain(`at byte ${at}`);
    expect(f.error).toContain('checksum');
    expect(f.replay.corrupt_blocks).toBe(1);
    expect(f.replay.corrupt[0].offset).toBe(at);
    expect(f.replay.corrupt_rows).toBe(header.blocks.rows[k]);
    expect(f.replay.rows_read).toBe(header.rows - header.blocks.rows[k]!);
    expect(summary(out).partial).toBe(true);
  });

  it('partitions of a damaged replay file each report their own blocks; merged, they report what one run does', () => {
    const bad = join(dir, 'corrupt2.fsr');
    copyFileSync(join(dir, 'all.fsr'), bad);
    const { header, dataStart } = readReplayHeader(bad);
    // damage one block in each half of the buckets (partitions 0 and 1 of 2)
    const bytes = readFileSync(bad);
    const damaged: number[] = [];
    for (const half of [0, 1]) {
      const k = header.blocks.bucket.findIndex((b: number) => Math.floor((b * 2) / 4096) === half);
      damaged.push(dataStart + header.blocks.offset[k]!);
      bytes[dataStart + header.blocks.offset[k]! + header.blocks.length[k]! - 3]! ^= 0xff;
      damageTwin(bytes, dataStart, header, k);
    }
    writeFileSync(bad, bytes);
    const one = join(dir, 'corrupt2-one');
    expect(cli('detect', bad, '--out', one, '--workers', '2', '--quiet').code).toBe(2);
    const parts = join(dir, 'corrupt2-parts');
    for (const p of ['0/2', '1/2']) expect(cli('detect', bad, '--partition', p, '--partials', parts, '--workers', '2', '--quiet').code).toBe(2);
    const merged = join(dir, 'corrupt2-merged');
    expect(cli('merge', parts, '--out', merged, '--quiet').code).toBe(2);
    const f1 = summary(one).files[0];
    const fm = summary(merged).files[0];
    expect(f1.replay.corrupt.map((c: { offset: number }) => c.offset)).toEqual(damaged.sort((x, y) => x - y));
    expect(fm).toEqual(f1);
    expect(readFileSync(join(merged, 'scans.ndjson')).equals(readFileSync(join(one, 'scans.ndjson')))).toBe(true);
  });

  it('read what a truncated file still holds and name the missing blocks', () => {
    const cut = join(dir, 'truncated.fsr');
    copyFileSync(join(dir, 'all.fsr'), cut);
    const { header, dataStart, fileSize } = readReplayHeader(cut);
    const keep = Math.floor((fileSize + dataStart) / 2);
    truncateSync(cut, keep);
    const out = join(dir, 'replay-truncated');
    expect(cli('detect', cut, '--out', out, '--quiet').code).toBe(2);
    const f = summary(out).files[0];
    const lost = header.blocks.offset.map((o, k) => [dataStart + o, header.blocks.length[k]!, header.blocks.rows[k]!]).filter(([o, l]) => o + l > keep);
    expect(f.replay.corrupt_blocks).toBe(lost.length);
    expect(f.replay.corrupt[0].offset).toBe(Math.min(...lost.map(([o]) => o)));
    expect(f.replay.rows_read).toBe(header.rows - lost.reduce((s, [, , rows]) => s + rows, 0));
    expect(f.error).toContain('truncated');
  });

  it('check the header and the format version', () => {
    const v3 = join(dir, 'v3.fsr');
    const bytes = readFileSync(join(dir, 'all.fsr'));
    bytes.writeUInt32LE(3, 8);
    writeFileSync(v3, bytes);
    const out = join(dir, 'replay-v3');
    expect(cli('detect', v3, '--out', out, '--quiet').code).toBe(2);
    expect(summary(out).files[0].error).toMatch(/version 3 is not supported/);

    const hdr = join(dir, 'bad-header.fsr');
    const b2 = readFileSync(join(dir, 'all.fsr'));
    b2[30]! ^= 0x55;
    writeFileSync(hdr, b2);
    const out2 = join(dir, 'replay-bad-header');
    expect(cli('detect', hdr, '--out', out2, '--quiet').code).toBe(2);
    expect(summary(out2).files[0].error).toMatch(/header checksum/);
  });

  it('are written atomically: a failed conversion leaves no file behind', async () => {
    const target = join(dir, 'atomic');
    mkdirSync(join(target, 'occupied'), { recursive: true });
    writeFileSync(join(target, 'occupied', 'x'), 'x');
    // the rename onto a non-empty folder fails after all the work is done
    await expect(
      convert({
        inputs: [a], out: join(target, 'occupied'), workers: 2, windowSeconds: 21600, thresholds: DEFAULT_THRESHOLDS,
        nearMisses: false, outbound: DEFAULT_OUTBOUND, ...DEFAULT_RUN,
      }),
    ).rejects.toThrow();
    expect(readdirSync(target)).toEqual(['occupied']);
    expect(readdirSync(join(target, 'occupied'))).toEqual(['x']);
    // and a good one leaves only the file
    const ok = await convert({
      inputs: [a], out: join(target, 'a.fsr'), workers: 2, windowSeconds: 21600, thresholds: DEFAULT_THRESHOLDS, nearMisses: false,
      outbound: DEFAULT_OUTBOUND, ...DEFAULT_RUN,
    });
    expect(ok.rows).toBeGreaterThan(0);
    expect(readdirSync(target).sort()).toEqual(['a.fsr', 'occupied']);
    expect(statSync(join(target, 'a.fsr')).size).toBe(ok.bytesOut);
  });
});

/** The bytes of a replay file's rows blocks (what a run reads when it reads no twin). */
function rowsBytes(h: ReplayHeader): number {
  return h.blocks.length.reduce((x, y) => x + y, 0);
}

describe('entry rows (format version 2)', () => {
  it('stand for every record in fewer rows; runs at a multiple of 6 h read them, other windows the rows blocks, with the logs\' verdicts', () => {
    const fsr = join(dir, 'all.fsr');
    const { header, dataStart } = readReplayHeader(fsr);
    const b = header.blocks;
    expect(header.version).toBe(2);
    expect(header.entryWindow).toBe(21600);
    const entryRows = b.entryRows!.reduce((x, y) => x + y, 0);
    expect(entryRows).toBeGreaterThan(0);
    expect(entryRows).toBeLessThan(header.rows); // records of one entry and window merged
    for (const [window, twins] of [['12h', true], ['1h', false], ['4h', false]] as const) {
      const t = join(dir, `text-w${window}`);
      const r = join(dir, `replay-w${window}`);
      expect(cli('detect', logs, '--out', t, '--window', window, '--workers', '2', '--near-misses', '--quiet').code).toBe(0);
      expect(cli('detect', fsr, '--out', r, '--window', window, '--workers', '2', '--near-misses', '--quiet').code).toBe(0);
      for (const f of ['scans.ndjson', 'near_misses.ndjson', 'outbound.ndjson']) {
        expect(readFileSync(join(r, f)).equals(readFileSync(join(t, f))), `${window} ${f}`).toBe(true);
      }
      const rep = summary(r).files[0];
      expect(rep.replay.rows_read).toBe(header.rows);
      // a run that reads the twins reads none of the rows blocks
      if (twins) expect(rep.bytes).toBeLessThan(dataStart + rowsBytes(header));
      else expect(rep.bytes).toBe(dataStart + rowsBytes(header));
    }
    // FLOWSIEVE_REPLAY=rows: the rows blocks at 6 h too, the same verdicts
    const out = join(dir, 'replay-rows-only');
    const r = spawnSync(process.execPath, [CLI, 'detect', fsr, '--out', out, '--workers', '3', '--quiet'], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_REPLAY: 'rows' } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
    expect(summary(out).files[0].bytes).toBe(dataStart + rowsBytes(header));
  });

  it('--from/--to apply at detect: rows outside are counted as outside_range, with the logs\' verdicts', () => {
    const hour = (t: number) => new Date(t * 1000).toISOString().slice(0, 13);
    const range = ['--from', hour(DAY0 + 2 * 3600), '--to', hour(DAY0 + 9 * 3600)];
    for (const window of ['6h', '1h']) {
      const t = join(dir, `text-range-${window}`);
      const r = join(dir, `replay-range-${window}`);
      expect(cli('detect', logs, '--out', t, ...range, '--window', window, '--workers', '2', '--quiet').code).toBe(0);
      expect(cli('detect', join(dir, 'all.fsr'), '--out', r, ...range, '--window', window, '--workers', '2', '--quiet').code).toBe(0);
      for (const f of ['scans.ndjson', 'outbound.ndjson']) expect(readFileSync(join(r, f)).equals(readFileSync(join(t, f))), `${window} ${f}`).toBe(true);
      const [tt, rt] = [summary(t).totals, summary(r).totals];
      expect(rt.outside_range).toBeGreaterThan(0);
      // the records the file holds are counted as the logs' run counts them (records it does not hold,
      // such as responses, were counted at conversion, before the range)
      expect([rt.inbound, rt.outbound]).toEqual([tt.inbound, tt.outbound]);
    }
  });

  it('a damaged twin is read as its rows block; a damaged rows block is not needed at 6 h and is reported at 1 h', () => {
    const good = join(dir, 'all.fsr');
    const { header, dataStart } = readReplayHeader(good);
    const k = header.blocks.rows.indexOf(Math.max(...header.blocks.rows));
    const twinBad = join(dir, 'twin-damaged.fsr');
    const bytes = readFileSync(good);
    damageTwin(bytes, dataStart, header, k);
    writeFileSync(twinBad, bytes);
    const o1 = join(dir, 'replay-twin-damaged');
    expect(cli('detect', twinBad, '--out', o1, '--workers', '2', '--quiet').code).toBe(0);
    expect(readFileSync(join(o1, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
    expect(summary(o1).files[0].replay.corrupt_blocks).toBe(0);

    const rowsBad = join(dir, 'rows-damaged.fsr');
    const at = dataStart + header.blocks.offset[k]!;
    const bytes2 = readFileSync(good);
    bytes2[at + header.blocks.length[k]! - 5]! ^= 0xff;
    writeFileSync(rowsBad, bytes2);
    const o2 = join(dir, 'replay-rows-damaged');
    expect(cli('detect', rowsBad, '--out', o2, '--workers', '2', '--quiet').code).toBe(0);
    expect(readFileSync(join(o2, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
    const o3 = join(dir, 'replay-rows-damaged-1h');
    expect(cli('detect', rowsBad, '--out', o3, '--window', '1h', '--workers', '2', '--quiet').code).toBe(2);
    const f = summary(o3).files[0];
    expect(f.replay.corrupt.map((c: { offset: number }) => c.offset)).toEqual([at]);
    expect(f.replay.rows_read).toBe(header.rows - header.blocks.rows[k]!);
  });

  it('version-1 files (rows blocks only) are read as before', () => {
    const v1 = join(dir, 'v1.fsr');
    const f = readFileSync(join(dir, 'all.fsr'));
    const hlen = f.readUInt32LE(12);
    const header = unpack(f.subarray(20, 20 + hlen));
    const rows = rowsBytes(header);
    for (const key of ['entryOffset', 'entryLength', 'entryRows']) delete header.blocks[key];
    delete header.entryWindow;
    header.version = 1;
    const h = pack(header);
    const prefix = Buffer.from(f.subarray(0, 20));
    prefix.writeUInt32LE(1, 8);
    prefix.writeUInt32LE(h.length, 12);
    prefix.writeUInt32LE(crc32(h), 16);
    writeFileSync(v1, Buffer.concat([prefix, h, f.subarray(20 + hlen, 20 + hlen + rows)]));
    const out = join(dir, 'replay-v1');
    expect(cli('detect', v1, '--out', out, '--workers', '2', '--near-misses', '--quiet').code).toBe(0);
    for (const name of ['scans.ndjson', 'near_misses.ndjson', 'outbound.ndjson']) {
      expect(readFileSync(join(out, name)).equals(readFileSync(join(dir, 'text', name))), name).toBe(true);
    }
    expect(summary(out).files[0].replay.corrupt_blocks).toBe(0);
    expect(summary(out).totals).toEqual({ ...summary(join(dir, 'replay-2')).totals, bytes_read: summary(out).totals.bytes_read });
  });

  it('a detect run on the file alone counts, in a twin holding its whole bucket, the keys of fewer rows than min_endpoints: same verdicts, keys and entries', async () => {
    const fsr = join(dir, 'all.fsr');
    const { header, dataStart } = readReplayHeader(fsr);
    const damaged = join(dir, 'small-keys-damaged.fsr');
    const bytes = readFileSync(fsr);
    damageTwin(bytes, dataStart, header, header.blocks.rows.indexOf(Math.max(...header.blocks.rows)));
    writeFileSync(damaged, bytes);
    const run = async (inputs: string[], windowSeconds: number, minEndpoints: number, small: boolean) => {
      process.env.FLOWSIEVE_SMALL_KEYS = small ? 'on' : 'off';
      try {
        return await detect({
          inputs, workers: 2, windowSeconds, thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints }, nearMisses: true, outbound: DEFAULT_OUTBOUND, ...DEFAULT_RUN,
        });
      } finally {
        delete process.env.FLOWSIEVE_SMALL_KEYS;
      }
    };
    // [inputs, window, min_endpoints, whether keys are counted]: not at 1 h (rows blocks), nor with another input
    // blocks of at most 64 rows: most buckets in several blocks, whose rows are all added
    const split = join(dir, 'small-keys-split.fsr');
    expect(cli('convert', logs, '--out', split, '--block-rows', '64', '--workers', '2', '--quiet').code).toBe(0);
    const cases: Array<[string[], number, number, boolean | null]> = [
      [[fsr], 21600, 10, true], [[fsr], 43200, 3, true], [[fsr], 86400, 20, true], [[damaged], 21600, 5, true], [[split], 21600, 3, null],
      [[fsr], 3600, 10, false], [[fsr, a], 21600, 10, false],
    ];
    for (const [inputs, w, min, counted] of cases) {
      const on = await run(inputs, w, min, true);
      const off = await run(inputs, w, min, false);
      const what = `${inputs.length} inputs, ${w} s, min ${min}`;
      expect(on.scans.length + on.nearMisses.length, what).toBeGreaterThan(0);
      for (const k of ['scans', 'nearMisses', 'findings', 'endpointDays', 'keys', 'entries'] as const) expect(on[k], `${what}: ${k}`).toEqual(off[k]);
      if (counted) expect(on.accumulatorEntries, what).toBeLessThan(off.accumulatorEntries);
      else if (counted === false) expect(on.accumulatorEntries, what).toBe(off.accumulatorEntries);
    }
    // the shards are told which twins hold their whole bucket: those of buckets of one block, of a file read alone
    const input = { path: split, display: split, size: statSync(split).size, gzip: false, format: 'replay' as const, account: '', region: '' };
    const b = readReplayHeader(split).header.blocks;
    const blocksOf = new Map<number, number>();
    for (const x of b.bucket) blocksOf.set(x, (blocksOf.get(x) ?? 0) + 1);
    const sent = async (files: InputFile[]) => {
      const tasks: ReplayBlocksTask[] = [];
      const pool = { run: async (t: ReplayBlocksTask) => (tasks.push(t), { rows: 0, blocks: 0, bytes: 0, rawBytes: 0, outsidePartition: 0, outsideInbound: 0, outsideOutbound: 0, late: [], lateInbound: 0, lateOutbound: 0, corrupt: [] }) };
      await replayInputs(files, [pool, pool], { shards: 2, windowSeconds: 21600, into: 'table', smallKeysBelow: 10 });
      return tasks;
    };
    const whole = (await sent([input])).flatMap((t) => (expect(t.smallBelow).toBe(10), t.bucket.map((x, k) => [t.twins!.whole![k], blocksOf.get(x) === 1])));
    expect(whole.some(([, one]) => one) && whole.some(([, one]) => !one)).toBe(true);
    for (const [told, one] of whole) expect(told).toBe(one);
    for (const t of await sent([input, { ...input }])) expect(t.twins!.whole).toBeUndefined();
  });

  it('under --max-memory, blocks whose records must be added one by one are read from their rows blocks: verdicts exact', () => {
    const out = join(dir, 'replay-spill');
    mkdirSync(join(dir, 'spill'), { recursive: true });
    // small keys added, not counted (FLOWSIEVE_SMALL_KEYS=off): without them the table fits
    const spillArgs = ['detect', join(dir, 'all.fsr'), '--out', out, '--workers', '2', '--max-memory', '200000', '--spill-dir', join(dir, 'spill'), '--quiet'];
    const r = spawnSync(process.execPath, [CLI, ...spillArgs], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_SMALL_KEYS: 'off' } });
    expect(r.status, r.stderr).toBe(0);
    expect(summary(out).memory.spills).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'scans.ndjson')).equals(readFileSync(join(dir, 'text', 'scans.ndjson')))).toBe(true);
    // --no-spill: once partitions are dropped every block is added record by record (from its rows
    // block), so their later records are counted; the verdicts are those of a run on the rows blocks
    const args = ['detect', join(dir, 'all.fsr'), '--workers', '2', '--max-memory', '100000', '--no-spill', '--quiet'];
    const twins = join(dir, 'replay-drop');
    expect(cli(...args, '--out', twins).code).toBe(2);
    expect(summary(twins).memory.dropped_records).toBeGreaterThan(0);
    const rows = join(dir, 'replay-drop-rows');
    const r2 = spawnSync(process.execPath, [CLI, ...args, '--out', rows], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_REPLAY: 'rows' } });
    expect(r2.status).toBe(2);
    expect(readFileSync(join(twins, 'scans.ndjson')).equals(readFileSync(join(rows, 'scans.ndjson')))).toBe(true);
  });
});

describe('blocks', () => {
  it('round-trip columns and refuse damaged frames', () => {
    const cols: Array<[string, any, number]> = [
      ['a', Uint32Array.from([1, 2, 3, 0xffffffff]), 4],
      ['b', Float64Array.from([NaN, 1.5, -2, 1e20]), 4],
      ['c', Uint8Array.from([9, 8, 7]), 3],
      ['d', Int16Array.from([-1, 300]), 2],
    ];
    const frame = encodeBlock({ kind: 'test', rows: 4, bucket: 5, minTime: 10, maxTime: 20, columns: cols });
    const d = decodeBlock(frame, 'test');
    expect(d.header.bucket).toBe(5);
    expect(Array.from(d.columns.get('a')!)).toEqual([1, 2, 3, 0xffffffff]);
    expect(Array.from(d.columns.get('b')!)).toEqual([NaN, 1.5, -2, 1e20]);
    expect(Array.from(d.columns.get('c')!)).toEqual([9, 8, 7]);
    expect(Array.from(d.columns.get('d')!)).toEqual([-1, 300]);
    expect(() => decodeBlock(frame, 'other')).toThrow(/expected 'other'/);
    for (const at of [0, 6, 14, frame.length - 1]) {
      const bad = Buffer.from(frame);
      bad[at]! ^= 1;
      expect(() => decodeBlock(bad, 'test'), `byte ${at}`).toThrow();
    }
    expect(() => decodeBlock(frame.subarray(0, frame.length - 3), 'test')).toThrow(/block is/);
  });
});
