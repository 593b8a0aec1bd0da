/**
 * Inputs of every kind planned together: local paths (src/input/plan.ts), '-' (stdin), and
 * object-store URLs (s3://, az://, https://ACCOUNT.blob.core.windows.net/, gs://). A URL
 * becomes one streamed input per object (InputFile.open), sniffed when read like a file
 * (src/input/stream.ts); nothing is written to disk. With --from/--to, folders whose date
 * misses the range are not listed, and their objects never fetched.
 */
import { planInputs, type InputFile, type PlanOptions } from '../input/plan.js';
import { isSourceUrl, parseSourceUrl } from './url.js';
import { mayOverlap, spanOfKey, type TimeRange } from './dates.js';
import { keyInfo } from '../input/key-info.js';
import { errorReason, isPermanent, sleep, withRetry, type RetryPolicy } from './retry.js';
import type { ObjectEntry, ObjectStore, SourceLocation, SourceOptions } from './types.js';

/** The client for a URL's store, loaded only when a URL of its kind is given. */
export async function openObjectStore(location: SourceLocation, opts: SourceOptions): Promise<ObjectStore> {
  if (location.scheme === 's3') return new (await import('./s3.js')).S3Source(location, opts);
  if (location.scheme === 'az') return new (await import('./azure.js')).AzureSource(location, opts);
  return new (await import('./gcs.js')).GcsSource(location, opts);
}

/** One client per store and settings, for the run (serve ingests object by object). */
const stores = new Map<string, Promise<ObjectStore>>();
function storeFor(location: SourceLocation, opts: SourceOptions): Promise<ObjectStore> {
  const id = JSON.stringify([location.scheme, location.account, location.bucket, location.url.includes('?') ? location.url : '', opts.s3Endpoint, opts.gcsEndpoint]);
  let s = stores.get(id);
  if (!s) {
    s = openObjectStore({ ...location, prefix: '' }, opts);
    stores.set(id, s);
    s.catch(() => stores.delete(id));
  }
  return s.then((store) => withPrefix(store, location));
}

/** A store client seen through another URL's prefix. */
function withPrefix(store: ObjectStore, location: SourceLocation): ObjectStore {
  if (store.location.prefix === location.prefix && store.location.url === location.url) return store;
  return Object.assign(Object.create(store) as ObjectStore, { location });
}

export function retryPolicy(opts: SourceOptions): RetryPolicy {
  return { attempts: Math.max(1, opts.attempts ?? 4), backoffMs: opts.backoffMs ?? 250 };
}

/** Every object under a URL (pruned by the range's date folders), in key order. */
export async function listObjects(store: ObjectStore, range: TimeRange | undefined, policy: RetryPolicy): Promise<ObjectEntry[]> {
  const prefix = store.location.prefix;
  const where = `cannot list ${store.location.url}`;
  if (!range) {
    return withRetry(where, policy, async () => {
      const out: ObjectEntry[] = [];
      for await (const o of store.list(prefix)) out.push(o);
      return out;
    });
  }
  if (store.listAfter) return seekListing(store, prefix, range, (what, fn) => withRetry(`${where} (${what})`, policy, fn));
  const out: ObjectEntry[] = [];
  // one level at a time, so that a date folder outside the range is never listed inside
  const walk = async (at: string): Promise<void> => {
    const level = await withRetry(`${where} (at ${at || '/'})`, policy, () => store.listLevel(at));
    for (const o of level.objects) if (mayOverlap(o.key, range)) out.push(o);
    for (const d of level.dirs.sort()) if (mayOverlap(d, range)) await walk(d);
  };
  await walk(prefix);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * A flat listing that seeks: at the first key of a date folder outside the range, the next
 * page starts after that folder (before the range), or after its parent (past the range:
 * later siblings sort later, the layouts' date folders being zero-padded).
 */
async function seekListing(
  store: ObjectStore,
  prefix: string,
  range: TimeRange,
  retry: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
): Promise<ObjectEntry[]> {
  const out: ObjectEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await retry(`after ${after ?? 'the start'}`, () => store.listAfter!(prefix, after));
    let next: string | undefined;
    for (const o of page.objects) {
      if (mayOverlap(o.key, range)) {
        out.push(o);
        continue;
      }
      next = skipPast(o.key, prefix, range);
      if (next !== undefined) break;
    }
    if (next !== undefined) after = next;
    else if (page.more && page.objects.length) after = page.objects.at(-1)!.key;
    else return out;
  }
}

/**
 * Where to resume listing after a key outside the range: past the shallowest folder of the
 * key (below the listing prefix) whose span misses the range; undefined when only the key
 * itself (no folder) misses it.
 */
function skipPast(key: string, prefix: string, range: TimeRange): string | undefined {
  for (let slash = key.indexOf('/', prefix.length); slash >= 0; slash = key.indexOf('/', slash + 1)) {
    const folder = key.slice(0, slash + 1);
    if (mayOverlap(folder, range)) continue;
    const span = spanOfKey(folder)!;
    // '0' sorts right after '/': every key inside `dir/` sorts before `dir0`
    const end = (dir: string) => `${dir.slice(0, -1)}0`;
    if (span.to <= range.from) return end(folder);
    const parentEnd = folder.lastIndexOf('/', folder.length - 2);
    return parentEnd >= prefix.length ? end(folder.slice(0, parentEnd + 1)) : end(folder);
  }
  return undefined;
}

export interface SourcePlanOptions extends PlanOptions {
  range?: TimeRange;
  source?: SourceOptions;
}

/** Local paths, '-' and URLs, in the order given; a URL that cannot be listed is one input with the reason. */
export async function planAll(inputs: string[], opts: SourcePlanOptions): Promise<InputFile[]> {
  const files: InputFile[] = [];
  const source = opts.source ?? {};
  for (const p of inputs) {
    if (!isSourceUrl(p)) {
      const local = planInputs([p], opts);
      files.push(...(opts.range ? local.filter((f) => f.error || f.open || mayOverlap(f.path, opts.range!)) : local));
      continue;
    }
    files.push(...(await planUrl(p, opts, source)));
  }
  return files;
}

async function planUrl(url: string, opts: SourcePlanOptions, source: SourceOptions): Promise<InputFile[]> {
  const broken = (error: string): InputFile[] => [{ path: url, display: url, size: 0, gzip: false, format: null, account: '', region: '', error }];
  let store: ObjectStore;
  let objects: ObjectEntry[];
  try {
    store = await storeFor(parseSourceUrl(url), source);
    const known = source.known?.get(url);
    objects = known ? [known] : await listObjects(store, opts.range, retryPolicy(source));
  } catch (err) {
    return broken((err as Error).message);
  }
  if (objects.length === 0 && !opts.range) return broken(`no objects under ${url}`);
  // a URL naming one object reads that object, not also the keys that merely start with its name
  const exact = objects.find((o) => o.key === store.location.prefix);
  if (exact) objects = [exact];
  const reader = new ReadAhead(store, objects, source);
  return objects.map((o, i) => {
    const fromKey = keyInfo(o.key);
    return {
      path: store.urlOf(o.key),
      display: store.urlOf(o.key),
      size: o.size,
      gzip: false,
      format: opts.format ?? null,
      account: fromKey.account ?? opts.account ?? '',
      region: fromKey.region ?? opts.region ?? '',
      awsFields: opts.awsFields,
      modified: o.modified,
      open: () => reader.open(i),
    };
  });
}

/** Objects this small are fetched whole, ahead of their turn; larger ones are streamed when reached. */
const AHEAD_MAX_BYTES = 8 << 20;

/**
 * Reads a listing's objects for the parse threads, which take them in order: while one is
 * parsed, the next few small ones are already being fetched (GET latency overlaps; memory
 * stays within readAhead x 8 MiB). Every read retries with backoff and, after a broken
 * connection, resumes at the byte it had reached; the final error names the object.
 */
export class ReadAhead {
  private readonly fetched = new Map<number, Promise<Uint8Array | Error>>();
  private readonly policy: RetryPolicy;
  private readonly ahead: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly objects: ObjectEntry[],
    private readonly opts: SourceOptions,
  ) {
    this.policy = retryPolicy(opts);
    this.ahead = Math.max(0, opts.readAhead ?? 8);
  }

  async open(i: number): Promise<AsyncIterable<Uint8Array>> {
    for (let j = i + 1; j <= i + this.ahead && j < this.objects.length; j++) {
      if (!this.fetched.has(j) && this.objects[j]!.size <= AHEAD_MAX_BYTES) this.fetched.set(j, this.whole(j));
    }
    const early = this.fetched.get(i);
    this.fetched.delete(i);
    if (!early) return this.stream(i);
    return (async function* () {
      const got = await early;
      if (got instanceof Error) throw got;
      yield got;
    })();
  }

  private async whole(i: number): Promise<Uint8Array | Error> {
    try {
      const chunks: Uint8Array[] = [];
      for await (const c of this.stream(i)) chunks.push(c);
      return Buffer.concat(chunks);
    } catch (err) {
      return err as Error;
    }
  }

  /** The object's bytes; a failed or broken GET is retried from the byte reached. */
  private async *stream(i: number): AsyncGenerator<Uint8Array> {
    const o = this.objects[i]!;
    const url = this.store.urlOf(o.key);
    let got = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        this.opts.onGet?.(url);
        const body = await this.store.read(o.key, got);
        for await (const c of body) {
          got += c.length;
          yield c;
        }
        if (got < o.size) throw new Error(`the connection closed after ${got} of ${o.size} bytes`);
        return;
      } catch (err) {
        if (isPermanent(err) || attempt >= this.policy.attempts) {
          throw new Error(`cannot read ${url}: ${errorReason(err)}${attempt > 1 ? ` (after ${attempt} tries)` : ''}`);
        }
        await sleep(this.policy.backoffMs * 2 ** (attempt - 1));
      }
    }
  }
}
