/**
 * A small real HTTP server on loopback speaking the part of the Google Cloud Storage JSON
 * API that @google-cloud/storage uses to list and read objects: objects.list (prefix,
 * delimiter, maxResults, pageToken; items and prefixes) and objects.get with alt=media
 * (whole or from a Range). No emulator of GCS is published on npm or Debian; this exercises
 * the real client library's requests, paging and streaming, not Google's servers.
 * Faults on demand: an object can answer 503 a number of times, or always.
 */
import { createServer, type Server } from 'node:http';

export interface GcsObject {
  data: Buffer;
  updated: string;
}

export class FakeGcs {
  readonly buckets = new Map<string, Map<string, GcsObject>>();
  /** alt=media requests, by object name */
  readonly gets: string[] = [];
  /** failures left per object name (Infinity: always) */
  readonly failures = new Map<string, number>();
  /** objects.list answers at most this many entries a page (as GCS may): the client must follow nextPageToken */
  pageSize = 5;
  private server: Server | null = null;
  endpoint = '';

  put(bucket: string, name: string, data: Buffer): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
    this.buckets.get(bucket)!.set(name, { data, updated: '2024-03-04T00:00:00.000Z' });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req.method ?? 'GET', req.url ?? '/', req.headers.range, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(method: string, rawUrl: string, range: string | undefined, res: import('node:http').ServerResponse): void {
    const url = new URL(rawUrl, 'http://x');
    const m = /^(?:\/download)?\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (method !== 'GET' || !m) return json(404, { error: { code: 404, message: `not handled: ${method} ${url.pathname}` } });
    const bucket = this.buckets.get(decodeURIComponent(m[1]!));
    if (!bucket) return json(404, { error: { code: 404, message: 'The specified bucket does not exist.' } });
    if (m[2] === undefined) return json(200, this.list(decodeURIComponent(m[1]!), bucket, url.searchParams));
    const name = decodeURIComponent(m[2]);
    const o = bucket.get(name);
    if (!o) return json(404, { error: { code: 404, message: `No such object: ${name}` } });
    if (url.searchParams.get('alt') !== 'media') return json(200, meta(decodeURIComponent(m[1]!), name, o));
    this.gets.push(name);
    const left = this.failures.get(name) ?? 0;
    if (left > 0) {
      this.failures.set(name, left - 1);
      return json(503, { error: { code: 503, message: 'Service Unavailable (test fault)' } });
    }
    const r = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    const start = r ? Number(r[1]) : 0;
    const end = r && r[2] ? Number(r[2]) + 1 : o.data.length;
    res.writeHead(r ? 206 : 200, { 'content-type': 'application/octet-stream', 'content-length': end - start });
    res.end(o.data.subarray(start, end));
  }

  private list(bucketName: string, bucket: Map<string, GcsObject>, q: URLSearchParams): unknown {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const max = Math.min(Number(q.get('maxResults') ?? 1000), this.pageSize);
    const names = [...bucket.keys()].filter((n) => n.startsWith(prefix)).sort();
    const entries: Array<{ prefix?: string; name?: string }> = [];
    const seen = new Set<string>();
    for (const n of names) {
      const i = delimiter ? n.indexOf(delimiter, prefix.length) : -1;
      if (i >= 0) {
        const p = n.slice(0, i + delimiter.length);
        if (!seen.has(p)) entries.push({ prefix: p });
        seen.add(p);
      } else entries.push({ name: n });
    }
    const from = Number(q.get('pageToken') ?? 0);
    const page = entries.slice(from, from + max);
    return {
      kind: 'storage#objects',
      items: page.filter((e) => e.name).map((e) => meta(bucketName, e.name!, bucket.get(e.name!)!)),
      prefixes: page.filter((e) => e.prefix).map((e) => e.prefix),
      ...(from + max < entries.length ? { nextPageToken: String(from + max) } : {}),
    };
  }
}

function meta(bucket: string, name: string, o: GcsObject): unknown {
  return { kind: 'storage#object', bucket, name, id: `${bucket}/${name}/1`, generation: '1', size: String(o.data.length), updated: o.updated, contentType: 'application/octet-stream' };
}
