/**
 * Issue 16 item 2: every state file kind carries checksums. A single bit flipped anywhere
 * in a checkpoint or a partial result is refused (exit 1, naming the file and the piece),
 * never decoded into different verdicts; replay files were checksummed already (checked
 * here too, at small scale).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { runDetect } from './helpers/run.js';
import { Sidecar } from '../dist/src/serve/sidecar.js';
import { CHECKPOINT_FILE, readCheckpoint } from '../dist/src/serve/checkpoint.js';
import { decodePartial, encodePartial, toPartial, PartialError } from '../dist/src/app/partial.js';
import { DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { encodeState } from '../dist/src/engine/codec.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const SLOW = process.env.FLOWSIEVE_SLOW === '1'; // more flips under test:slow
const T0 = 1700006400;
const W = 3600;
const detectOpts = () =>
  ({ inputs: [], workers: 2, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false, outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN }) as any;

/** Bit positions spread over the whole file, the first and last bytes included. */
function flips(size: number, count: number): number[] {
  const bits = size * 8;
  return Array.from({ length: count }, (_, k) => Math.min(bits - 1, Math.floor((k * bits) / (count - 1))));
}

function flipped(bytes: Buffer, bit: number): Buffer {
  const b = Buffer.from(bytes);
  b[bit >> 3] ^= 1 << (bit & 7);
  return b;
}

describe('bit flips in a checkpoint', () => {
  it('refuse every flipped copy at start, naming the file', async () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    const state = join(dir, 'state');
    mkdirSync(spool);
    writeV2(join(spool, 'a.log'), [...scanner('45.1.1.1', 12, { start: T0 }), ...scanner('45.1.1.2', 12, { start: T0 + 60, dport: 445 })]);
    const make = (stateDir: string) =>
      new Sidecar({
        detect: { ...detectOpts(), workers: 1 }, spoolDir: spool, stateDir, doneDir: null, settleMs: 0, pollMs: 50, latenessSeconds: 1800,
        batchFiles: 10, batchBytes: 1 << 30, reprocess: [], log: () => {},
      });
    const sc = make(state);
    await sc.start();
    await sc.cycle();
    await sc.stop();
    const good = readFileSync(join(state, CHECKPOINT_FILE));
    expect(readCheckpoint(state)!.version).toBe(4);
    const refused: string[] = [];
    for (const bit of flips(good.length, SLOW ? 60 : 12)) {
      const copy = join(dir, `s${bit}`);
      mkdirSync(copy);
      writeFileSync(join(copy, CHECKPOINT_FILE), flipped(good, bit));
      const again = make(copy);
      const err = await again.start().then(() => null, (e: Error) => e);
      await again.stop();
      expect(err, `bit ${bit} of ${good.length * 8} was not noticed`).not.toBeNull();
      expect(err!.constructor.name).toBe('StartError'); // exit 1, a message, no stack trace
      expect(err!.message).toContain(join(copy, CHECKPOINT_FILE));
      refused.push(err!.message);
    }
    expect(refused.some((m) => /piece \d+ .*does not match its checksum/.test(m))).toBe(true);
    expect(refused.some((m) => /the meta .*does not match its checksum/.test(m))).toBe(true);
    // and the CLI exits 1 with the message
    const copy = join(dir, 'cli');
    mkdirSync(copy);
    writeFileSync(join(copy, CHECKPOINT_FILE), flipped(good, 8 * 30 + 3));
    const r = run(['serve', '--spool', spool, '--state', copy, '--listen', '127.0.0.1:0', '--keep', '--window', '1h']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is damaged: .* restore it from a backup, or move it away/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('bit flips in a partial result (.fsp)', () => {
  it('refuse every flipped copy; a version-1 file without a checksum is still read', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.log');
    writeV2(file, [...scanner('45.1.1.1', 12, { start: T0, dport: 445 }), ...scanner('45.1.1.2', 12, { start: T0 })]);
    const opts = { partition: { index: 0, count: 1 } };
    const result = await runDetect([file], opts);
    const partial = toPartial(result as any, { ...detectOpts(), windowSeconds: 21600, ...opts }, [file], {});
    const good = encodePartial(partial);
    expect(decodePartial(good, 'p.fsp').scans.map((v: any) => v.dstPort).sort()).toEqual([23, 445]);
    for (const bit of flips(good.length, SLOW ? 200 : 40)) {
      expect(() => decodePartial(flipped(good, bit), 'p.fsp'), `bit ${bit}`).toThrow(PartialError);
    }
    expect(() => decodePartial(flipped(good, good.length * 8 - 5), 'p.fsp')).toThrow(/p\.fsp: damaged partial result: the body .* does not match its checksum; make it again/);
    // version 1: the bare body
    expect(decodePartial(encodeState({ ...partial, version: 1 }), 'old.fsp').version).toBe(1);
    expect(() => decodePartial(encodeState({ ...partial, version: 2 }), 'odd.fsp')).toThrow(/version 2 without a checksum/);
    // merge exits 1 naming the file
    const parts = join(dir, 'parts');
    mkdirSync(parts);
    writeFileSync(join(parts, 'partial-0-of-1.fsp'), flipped(good, good.length * 8 - 9));
    const r = run(['merge', parts, '--out', join(dir, 'out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/partial-0-of-1\.fsp: damaged partial result/);
  });
});

describe('bit flips in a replay file', () => {
  it('never change the verdicts silently: a damaged block is named and the run says so', () => {
    const dir = tempDir();
    const file = join(dir, 'a.log');
    writeV2(file, [...scanner('45.1.1.1', 12, { start: T0, dport: 445 }), ...scanner('45.1.1.2', 12, { start: T0 })]);
    const fsr = join(dir, 'a.fsr');
    expect(run(['convert', file, '--out', fsr, '--quiet']).status).toBe(0);
    const good = readFileSync(fsr);
    const base = run(['detect', fsr, '--out', join(dir, 'base'), '--quiet']);
    expect(base.status).toBe(0);
    const want = readFileSync(join(dir, 'base', 'scans.ndjson'), 'utf8');
    for (const bit of flips(good.length, SLOW ? 16 : 2)) {
      const copy = join(dir, `f${bit}.fsr`);
      writeFileSync(copy, flipped(good, bit));
      const out = join(dir, `o${bit}`);
      const r = run(['detect', copy, '--out', out, '--quiet']);
      // either refused (exit 2, the file named) or, where the flip is in bytes nothing reads, identical
      if (r.status === 0) expect(readFileSync(join(out, 'scans.ndjson'), 'utf8'), `bit ${bit}`).toBe(want);
      else expect(r.status, r.stderr).toBe(2);
    }
  });
});
