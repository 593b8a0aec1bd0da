/**
 * A checkpoint of an engine that spilled past --max-memory: the process's RSS while the
 * accumulators are written out piece by piece (Engine.exportPieces, as `serve` does:
 * 'pieces') or after all pieces are collected (Engine.exportState: 'whole'). Until commit
 * bc7bfc5 'whole' ran the shards' whole-state export (spilled entries read back all at once),
 * since removed; build that commit to measure it again.
 *
 *   node dist/bench/probes/checkpoint-memory.js whole|pieces FILE.log [--max-memory-mb 32]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, DEFAULT_RUN } from '../../src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../../src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../../src/engine/outbound-table.js';
import { writeCheckpoint, CHECKPOINT_VERSION } from '../../src/serve/checkpoint.js';

const [mode, input] = process.argv.slice(2);
if ((mode !== 'whole' && mode !== 'pieces') || !input) throw new Error('usage: checkpoint-memory.js whole|pieces FILE.log [--max-memory-mb 32]');
const i = process.argv.indexOf('--max-memory-mb');
const maxMemory = (i > 0 ? Number(process.argv[i + 1]) : 32) * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'flowsieve-ckpt-bench-'));
const engine = new Engine({
  inputs: [], workers: 2, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND },
  ...DEFAULT_RUN, maxMemory, spillDir: dir,
});
try {
  await engine.ingest([input]);
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const meta = { version: CHECKPOINT_VERSION, seq: 1, createdAt: 0, windowSeconds: 21600, maxEnd: 0, finalizedUpTo: -1, ledger: [], outbox: null };
  let pieces = 0;
  let largest = 0;
  const count = (p: Uint8Array) => {
    pieces++;
    largest = Math.max(largest, p.length);
  };
  const t0 = performance.now();
  const bytes =
    mode === 'whole'
      ? await writeCheckpoint(dir, meta, (await engine.exportState()).map((p) => (count(p), p)))
      : await writeCheckpoint(dir, meta, (async function* () {
          for await (const p of engine.exportPieces()) {
            count(p);
            yield p;
          }
        })());
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(
    `${mode}: checkpoint ${(bytes / 1e6).toFixed(1)} MB in ${pieces} piece(s), largest ${(largest / 1e6).toFixed(1)} MB; ` +
      `RSS ${mib(before)} MiB before, ${mib(peak)} MiB at peak (+${mib(peak - before)}); ${(performance.now() - t0).toFixed(0)} ms`,
  );
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
