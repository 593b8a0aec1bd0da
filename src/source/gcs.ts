/**
 * Google Cloud Storage as input: `gs://BUCKET/prefix`, through @google-cloud/storage with
 * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the
 * metadata server). FLOWSIEVE_GCS_ENDPOINT (or --gcs-endpoint) points the client at another
 * JSON API endpoint; the client then sends no credentials (the library's behaviour for
 * custom endpoints). Objects are read as stored (gzip transcoding off): the sniff decides.
 */
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
      stream.once('response', () => resolve());
      stream.once('error', reject);
      stream.once('readable', () => resolve());
    });
    return stream as unknown as AsyncIterable<Uint8Array>;
  }
}

function entry(f: File): ObjectEntry {
  const m = f.metadata;
  const tag = m.md5Hash ?? m.etag;
  return { key: f.name, size: Number(m.size ?? 0), modified: m.updated ? Date.parse(String(m.updated)) : 0, ...(tag ? { etag: String(tag) } : {}) };
}
