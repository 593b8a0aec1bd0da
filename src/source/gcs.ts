/**
 * Google Cloud Storage as input: `gs://BUCKET/prefix`, through @google-cloud/storage with
 * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the
 * metadata server). FLOWSIEVE_GCS_ENDPOINT (or --gcs-endpoint) points the client at another
 * JSON API endpoint; the client then sends no credentials (the library's behaviour for
 * custom endpoints). Objects are read as stored (gzip transcoding off): the sniff decides.
 */
import { EventEmitter } from 'node:events';
import { Storage, type Bucket, type File } from '@google-cloud/storage';
import type { ObjectEntry, ObjectLevel, ObjectStore, SourceLocation, SourceOptions } from './types.js';

export class GcsSource implements ObjectStore {
  private readonly bucket: Bucket;

  constructor(readonly location: SourceLocation, opts: SourceOptions) {
    const apiEndpoint = opts.gcsEndpoint ?? process.env.FLOWSIEVE_GCS_ENDPOINT;
    const storage = new Storage({ ...(apiEndpoint ? { apiEndpoint } : {}), retryOptions: { autoRetry: false } });
    this.bucket = storage.bucket(location.bucket);
  }

  urlOf(key: string): string {
    return `gs://${this.location.bucket}/${key}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectEntry> {
    let query: Record<string, unknown> | null = { prefix, autoPaginate: false, maxResults: 1000 };
    while (query) {
      const [files, next]: [File[], unknown, ...unknown[]] = await this.bucket.getFiles(query);
      for (const f of files) if (!f.name.endsWith('/')) yield entry(f);
      query = (next as Record<string, unknown> | null) ?? null;
    }
  }

  async listLevel(prefix: string): Promise<ObjectLevel> {
    const level: ObjectLevel = { dirs: [], objects: [] };
    let query: Record<string, unknown> | null = { prefix, delimiter: '/', autoPaginate: false, maxResults: 1000 };
    while (query) {
      const [files, next, response]: [File[], unknown, unknown] = (await this.bucket.getFiles(query)) as never;
      for (const f of files) if (!f.name.endsWith('/')) level.objects.push(entry(f));
      for (const p of ((response as { prefixes?: string[] } | undefined)?.prefixes ?? [])) level.dirs.push(p);
      query = (next as Record<string, unknown> | null) ?? null;
    }
    return level;
  }

  async read(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    // ranged reads cannot be checked against the whole object's hash: validation off
    const stream = this.bucket.file(key).createReadStream({ decompress: false, validation: false, ...(start > 0 ? { start } : {}) });
    // surface a failed request (missing object, no access) here, where it is retried, not mid-iteration
    await new Promise<void>((resolve, reject) => {
      stream.once('response', (res: unknown) => {
        allowBodyListeners(res);
        resolve();
      });
      stream.once('error', reject);
      stream.once('readable', () => resolve());
    });
    return stream as unknown as AsyncIterable<Uint8Array>;
  }
}

/**
 * The listeners one object read puts on its response body, all from the client libraries
 * (@google-cloud/storage 8.4, teeny-request 11, node-fetch 3; counted with stack traces), each
 * added once for the body's one request: 'error' 11 = node-fetch's pipeline from the socket (3)
 * and its Body (1), teeny-request's error forwarding (1) and its pipeline into its own request
 * stream, which storage resumes and drops (3), and storage's pipeline into the stream we read
 * (3); 'close' 11 likewise (5 + 3 + 3). Node's default limit of 10 made every read print two
 * MaxListenersExceededWarnings ("Possible EventEmitter memory leak ... [PassThrough]") on
 * stderr. Not a leak: the count does not grow with reads or retries (each read, each retry
 * is a new request and a new body, dropped with its listeners when read), so the limit is
 * raised on that body only, to the count with room for a few more from a library update;
 * a shared emitter would still warn. Upstream: googleapis/google-cloud-node#9185 (open; the
 * proposed fix, #9254, lifts the limit on the body inside teeny-request: this is then a no-op).
 */
const BODY_LISTENERS = 16;

/**
 * Storage emits 'response' with teeny-request's response, which is the body stream itself,
 * before its pipeline and teeny-request's are wired (5 of the 11 listeners on it by then).
 * A limit of 0 (none) or above ours is left as it is.
 */
function allowBodyListeners(res: unknown): void {
  if (!(res instanceof EventEmitter)) return;
  const limit = res.getMaxListeners();
  if (limit !== 0 && limit < BODY_LISTENERS) res.setMaxListeners(BODY_LISTENERS);
}

function entry(f: File): ObjectEntry {
  const m = f.metadata;
  const tag = m.md5Hash ?? m.etag;
  return { key: f.name, size: Number(m.size ?? 0), modified: m.updated ? Date.parse(String(m.updated)) : 0, ...(tag ? { etag: String(tag) } : {}) };
}
