/**
 * `serve --source s3://…` (and az://, gs://): a bucket prefix as the sidecar's spool. Each
 * poll lists the prefix (pruned by --from/--to) and offers the objects not in the ledger,
 * oldest flow time first: the time in an AWS object's name, else its date folders, else
 * its last-modified time. So a backlog is read in time order, and the watermark advances
 * as the logs do instead of jumping to the newest day. What was read is remembered in the
 * checkpoint's ledger (by URL, size and last-modified time), written with the batch's
 * verdicts: after a crash the objects of an uncommitted batch are offered again, those of
 * a committed one never. Objects are not moved or deleted; the bucket's lifecycle rules
 * own them.
 */
import { createHash } from 'node:crypto';
import type { LedgerEntry } from './checkpoint.js';
import type { SpoolFile, SpoolScan } from './spool.js';
import { listObjects, openObjectStore, retryPolicy } from '../source/plan.js';
import { parseSourceUrl } from '../source/url.js';
import { spanOfKey, type TimeRange } from '../source/dates.js';
import type { ObjectEntry, ObjectStore, SourceOptions } from '../source/types.js';

export interface ObjectSpoolFile extends SpoolFile {
  /** Unix seconds of the earliest flows the object holds, as its name or folders tell (sort key). */
  flowTime: number;
}

export class ObjectSpool {
  readonly dir: string;
  private store: ObjectStore | null = null;
  private listed: ObjectSpoolFile[] = [];

  constructor(
    private readonly url: string,
    private readonly opts: { source: SourceOptions; range?: TimeRange; log: (line: string) => void },
  ) {
    this.dir = url;
    parseSourceUrl(url); // a malformed URL fails at start
  }

  /** List the prefix again (the sidecar calls this before each scan); a failed listing keeps the last one and says so. */
  async refresh(): Promise<void> {
    try {
      this.store ??= await openObjectStore(parseSourceUrl(this.url), this.opts.source);
      const objects = await listObjects(this.store, this.opts.range, retryPolicy(this.opts.source));
      this.listed = [];
      for (const o of objects) {
        const f = this.fileOf(o);
        this.listed.push(f);
        this.opts.source.known?.set(f.path, o);
      }
    } catch (err) {
      this.opts.log(`cannot list ${this.url}: ${(err as Error).message} (will retry)`);
    }
  }

  private fileOf(o: ObjectEntry): ObjectSpoolFile {
    const url = this.store!.urlOf(o.key);
    return { name: url, path: url, size: o.size, mtimeMs: o.modified, flowTime: flowTimeOf(o), fingerprint: objectFingerprint(url, o) };
  }

  /** Objects not read yet, oldest flows first; objects in a bucket are complete once listed (no settling). */
  scan(ledger: ReadonlyMap<string, LedgerEntry>, _nowMs: number): SpoolScan {
    const ready = this.listed.filter((f) => {
      const seen = ledger.get(f.name);
      return !(seen && seen.size === f.size && seen.mtimeMs === f.mtimeMs);
    });
    ready.sort((a, b) => a.flowTime - b.flowTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ready, settling: 0, pendingBytes: ready.reduce((s, f) => s + f.size, 0), done: [] };
  }

  plannedDonePath(name: string): string {
    return name;
  }

  moveDone(): void {
    // objects stay in the bucket
  }

  syncMoves(): void {}
}

/** The flow time an object's key names: AWS's `_YYYYMMDDTHHMMZ_` file time, else its date folders, else its last-modified time. */
export function flowTimeOf(o: ObjectEntry): number {
  const aws = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z[_.]/.exec(o.key);
  if (aws) return Date.UTC(+aws[1]!, +aws[2]! - 1, +aws[3]!, +aws[4]!, +aws[5]!) / 1000;
  const span = spanOfKey(o.key);
  if (span) return span.from;
  return Math.floor(o.modified / 1000);
}

/**
 * An object's content identity for the ledger's duplicate check: its ETag (the MD5 of the
 * content for S3 single-part uploads, a content version elsewhere) and size, else its URL,
 * size and last-modified time.
 */
function objectFingerprint(url: string, o: ObjectEntry): string {
  const id = o.etag ? `etag\0${o.etag}\0${o.size}` : `object\0${url}\0${o.size}\0${o.modified}`;
  return createHash('sha256').update(`flowsieve-object-v1\0${id}`).digest('hex');
}
