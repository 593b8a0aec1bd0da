import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';

/**
 * Past --max-memory the outbound table leaves entries out. Which ones must depend on the
 * input and the options only, never on the order records reach the shard (file order,
 * batch size, pipeline, which read finished first): the table once kept the entries that
 * came first, and the GCP blobs at 40MB gave other drops and alerts from run to run.
 */
const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const dir = tempDir('flowsieve-outdrops-');

const HOSTS = 3;
const TARGETS = 3000;

/** Host h's records: it probes TARGETS public addresses on telnet, one record each, times and sizes varying. */
function hostLines(h: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < TARGETS; i++) {
    const t = 1717200000 + i;
    rows.push(`2 11112222330${h} eni-h${h} 10.9.0.${5 + h} ${45 + h}.${i >> 8}.${i & 255}.7 ${40000 + i} 23 6 1 ${60 + (i % 7)} ${t} ${t + 1} ACCEPT OK`);
  }
  return rows;
}

/** The same records in two folders of two files: in order, and each host's lines reversed and the hosts in the other files. */
function write(): { inOrder: string; reversed: string } {
  const hosts = Array.from({ length: HOSTS }, (_, h) => hostLines(h));
  const inOrder = join(dir, 'in-order');
  const reversed = join(dir, 'reversed');
  mkdirSync(inOrder);
  mkdirSync(reversed);
  writeFileSync(join(inOrder, 'a.log'), [...hosts[0]!, ...hosts[1]!].join('\n') + '\n');
  writeFileSync(join(inOrder, 'b.log'), hosts[2]!.join('\n') + '\n');
  writeFileSync(join(reversed, 'a.log'), [...hosts[2]!].reverse().join('\n') + '\n');
  writeFileSync(join(reversed, 'b.log'), [...hosts[1]!, ...hosts[0]!].reverse().join('\n') + '\n');
  return { inOrder, reversed };
}

interface Run {
  outbound: string;
  memory: Record<string, unknown>;
}

let runs = 0;
function detect(input: string, ...args: string[]): Run {
  const out = join(dir, `out-${runs++}`);
  // 1M: a shard's outbound table holds its minimum, 4,096 entries, of the 9,000
  const r = spawnSync(process.execPath, [CLI, 'detect', input, '--out', out, '--quiet', '--no-enrich', '--max-memory', '1M', ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(2); // partial: records were dropped
  // the outbound table's part (the inbound table's limit and peak depend on the pipeline)
  const { outbound_limit_entries_per_shard, outbound_dropped_records, outbound_dropped, dropped_records } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).memory;
  return { outbound: readFileSync(join(out, 'outbound.ndjson'), 'utf8'), memory: { outbound_limit_entries_per_shard, outbound_dropped_records, outbound_dropped, dropped_records } };
}

let input: { inOrder: string; reversed: string };
beforeAll(() => {
  input = write();
});

describe('outbound drops past --max-memory', () => {
  it('are the same in any record order, batch size and pipeline, and count every record left out', () => {
    const one = detect(input.inOrder, '--workers', '1');
    expect(one.memory.outbound_limit_entries_per_shard).toBe(4096);
    // one record an entry: exactly the records of the entries that do not fit are dropped
    expect(one.memory.outbound_dropped_records).toBe(HOSTS * TARGETS - 4096);
    const alerts = one.outbound.trim().split('\n').map((l) => JSON.parse(l));
    // each host keeps a sample of its targets (not the first host all, the last none), and alerts
    expect(alerts.map((a) => a.src).sort()).toEqual(['10.9.0.5', '10.9.0.6', '10.9.0.7']);
    expect(alerts.reduce((s, a) => s + a.targets, 0)).toBe(4096);
    expect(Math.min(...alerts.map((a) => a.targets))).toBeGreaterThan(1000);
    for (const other of [
      detect(input.reversed, '--workers', '1'),
      detect(input.reversed, '--workers', '1', '--pipeline', 'sharded', '--batch-size', '512'),
      detect(input.inOrder, '--workers', '1', '--pipeline', 'fused', '--batch-size', '700'),
    ]) {
      expect(other.memory).toEqual(one.memory);
      expect(other.outbound).toBe(one.outbound);
    }
    // two shards: each its own limit, so other drops than one shard's, but the same in every order and pipeline
    const two = detect(input.inOrder, '--workers', '2', '--pipeline', 'fused');
    for (const other of [detect(input.reversed, '--workers', '2', '--pipeline', 'fused'), detect(input.reversed, '--workers', '2', '--pipeline', 'sharded', '--batch-size', '512')]) {
      expect(other.memory).toEqual(two.memory);
      expect(other.outbound).toBe(two.outbound);
    }
  }, 30_000);
});
