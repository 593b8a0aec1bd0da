/**
 * A shard "pool" in the calling thread: the shard worker's module (workers/shard.ts, loaded
 * by path as piscina loads it, never imported) called directly. For one small input read
 * fused (engine/run.ts detect): no worker thread to start and no second copy of the parse
 * code to load, for a few milliseconds of work. One engine at a time may use it: the
 * module's state is the process's one shard.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

/** The part of a piscina pool the engine uses. */
export interface ShardPool {
  run(task: unknown, options?: { transferList?: readonly unknown[] }): Promise<unknown>;
  destroy(): Promise<void>;
}

let inUse = false;

/** An inline shard, or null while another engine holds the one there is. */
export function inlineShard(): ShardPool | null {
  if (inUse) return null;
  inUse = true;
  return new InlineShard(fileURLToPath(new URL('../../workers/shard.js', import.meta.url)));
}

class InlineShard implements ShardPool {
  /** The shard's module, loaded by the first task (engine/shard-place.ts gives an inline shard its first task when the first batch comes). */
  private handler: Promise<(task: unknown) => unknown> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** One task at a time, in order, as a one-thread pool runs them. */
  run(task: unknown): Promise<unknown> {
    const p = this.queue.then(async () => (codeCacheTask(task) ? writeCodeCaches() : (await (this.handler ??= this.load()))(task)));
    this.queue = p.catch(() => {});
    return p;
  }

  private load(): Promise<(task: unknown) => unknown> {
    return workerModule<{ default: (task: unknown) => unknown }>(this.file).then((m) => m.default);
  }

  /** Forget the shard's state (the next engine starts afresh), then free the slot. */
  async destroy(): Promise<void> {
    try {
      await this.run({ op: 'reset' });
    } finally {
      inUse = false;
    }
  }
}

/**
 * A worker's module (workers/<name>.js) in this thread: the bundle the build's stub stands
 * for, through the loader with V8's code cache (in the command line's CommonJS bundle an
 * import() would be a require of the ES stub); tsc's module where the build bundled nothing.
 */
export function workerModule<T>(file: string): Promise<T> {
  const bundled = codeCacheLoader()?.requireStub(file) as T | null | undefined;
  return bundled ? Promise.resolve(bundled) : (import(new URL(`file://${file}`).href) as Promise<T>);
}

/** The engine's request, as a worker's entry takes it (scripts/worker-shims.mjs), that the thread write its code caches. */
function codeCacheTask(task: unknown): boolean {
  return typeof task === 'object' && task !== null && (task as { writeCodeCache?: unknown }).writeCodeCache === true;
}

/** The build's loader of bundles with V8's code cache (scripts/code-cache.cjs); null where tsc alone built dist/. */
function codeCacheLoader(): { requireStub(file: string): unknown; writeCodeCaches(): number } | null {
  try {
    return createRequire(import.meta.url)(fileURLToPath(new URL('../../workers/code-cache.cjs', import.meta.url))) as ReturnType<typeof codeCacheLoader>;
  } catch {
    return null;
  }
}

/** The code caches of the bundles this thread loaded without one (the command line's, the shard's and the parse code's). */
function writeCodeCaches(): number {
  return codeCacheLoader()?.writeCodeCaches() ?? 0;
}
