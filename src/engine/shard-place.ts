/**
 * Where a lone shard runs in the sharded pipeline: in a thread of its own, or in the engine's
 * thread (inline-shard.ts), chosen once the first ingest is planned. On Azure's JSON blobs
 * the one parse thread is the run and the shard's adds are light (~a sixth of its time): the
 * engine's thread, which relays every batch anyway, adds them for less CPU than a second
 * worker isolate that boots, loads the shard's code and compiles it again (bench/RESULTS.md,
 * session 16 jsoninline); where parse-here.ts applies, that shard parses the blobs too, with
 * no parse thread at all (Engine.shardHereParses: bench/RESULTS.md, session 18 jsonhere).
 * Elsewhere the shard keeps its thread: GCP's shard thread parses
 * too (Engine.parsesInShard), AWS text and gzip give the shard half the run's work.
 */
import type { InputFile } from '../input/plan.js';
import type { ShardPool } from './inline-shard.js';

/** The formats whose whole runs at one worker add in the engine's thread (a run of them alone). */
const SHARD_HERE_FORMATS: ReadonlySet<string> = new Set(['azure-nsg', 'azure-vnet']);

/**
 * Whether a lone shard is placed in the engine's thread for these planned files: a whole
 * run (detect's; never the sidecar's ingests, whose thread serves meanwhile) of named files
 * of SHARD_HERE_FORMATS alone (files in error aside).
 */
export function shardHereFits(files: readonly InputFile[], wholeRun: boolean): boolean {
  if (!wholeRun) return false;
  let any = false;
  for (const f of files) {
    if (f.error) continue;
    if (f.open || !f.format || !SHARD_HERE_FORMATS.has(f.format)) return false;
    any = true;
  }
  return any;
}

interface Waiting {
  task: unknown;
  options?: { transferList?: readonly unknown[] };
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * A lone shard not placed yet: its tasks wait, in order, for place(), or for the first task
 * given after placeOnNextTask(), which places the shard where that says first.
 */
export class ShardToPlace implements ShardPool {
  private pool: ShardPool | null = null;
  private next: (() => ShardPool) | null = null;
  private readonly waiting: Waiting[] = [];

  get placed(): boolean {
    return this.pool !== null;
  }

  /** The next task places the shard in `make()`'s pool (the tasks given so far wait until then). */
  placeOnNextTask(make: () => ShardPool): void {
    this.next = make;
  }

  /** Run the shard in `pool`, the waiting tasks first, in the order given. Once. */
  place(pool: ShardPool): void {
    if (this.pool) throw new Error('the shard is placed already');
    this.pool = pool;
    for (const w of this.waiting.splice(0)) pool.run(w.task, w.options).then(w.resolve, w.reject);
  }

  run(task: unknown, options?: { transferList?: readonly unknown[] }): Promise<unknown> {
    if (!this.pool && this.next) this.place(this.next());
    if (this.pool) return this.pool.run(task, options);
    return new Promise((resolve, reject) => this.waiting.push({ task, options, resolve, reject }));
  }

  /** A task that waits for the shard's place with the others, without placing it (run would, after placeOnNextTask). */
  runWhenPlaced(task: unknown): Promise<unknown> {
    if (this.pool) return this.pool.run(task);
    return new Promise((resolve, reject) => this.waiting.push({ task, resolve, reject }));
  }

  async destroy(): Promise<void> {
    if (this.pool) return this.pool.destroy();
    for (const w of this.waiting.splice(0)) w.reject(new Error('the engine closed before its shard was placed'));
  }
}
