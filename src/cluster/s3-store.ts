/**
 * The cluster store on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...):
 * `--store s3://bucket/prefix`, with `--s3-endpoint URL` (or FLOWSIEVE_S3_ENDPOINT) for
 * stores other than AWS. Credentials and region come from the AWS SDK's usual chain
 * (environment, profile, instance or pod role). One PUT is atomic: a reader sees the
 * old object or the new one, never part of one, so retried steps stay harmless.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import {
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Store } from './store.js';

export interface S3StoreOptions {
  endpoint?: string;
  region?: string;
  /** Path-style addressing (http://host/bucket/key): what MinIO and most S3-compatible stores want. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class S3Store implements Store {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string; // '' or 'a/b/'

  constructor(url: string, opts: S3StoreOptions = {}) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
    if (!m) throw new Error(`--store ${url}: expected s3://bucket[/prefix]`);
    this.bucket = m[1]!;
    this.prefix = m[2] ? `${m[2].replace(/\/+$/, '')}/` : '';
    const config: S3ClientConfig = {
      region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      // S3-compatible stores often do not decode the SDK's default aws-chunked streaming
      // checksums (the object would keep the chunk framing): send checksums only where required
      ...(opts.endpoint
        ? { endpoint: opts.endpoint, forcePathStyle: opts.forcePathStyle ?? true, requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
        : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    };
    this.client = new S3Client(config);
  }

  get where(): string {
    return `s3://${this.bucket}/${this.prefix.replace(/\/$/, '')}`.replace(/\/$/, '');
  }

  private key(k: string): string {
    if (k.split('/').some((part) => part === '..' || part === '')) throw new Error(`bad store key '${k}'`);
    return this.prefix + k;
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: typeof data === 'string' ? Buffer.from(data) : data }));
  }

  async putFile(key: string, localPath: string): Promise<number> {
    const size = (await stat(localPath)).size;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: createReadStream(localPath), ContentLength: size }),
    );
    return size;
  }

  async putWith(key: string, write: (localPath: string) => Promise<void>): Promise<number> {
    const dir = await mkdtemp(join(tmpdir(), 'flowsieve-s3-'));
    try {
      const path = join(dir, key.split('/').pop()!);
      await write(path);
      return await this.putFile(key, path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string): Promise<Buffer> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return r.ContentLength ?? 0;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const sub = prefix.replace(/\/+$/, '');
    const p = sub ? `${this.prefix}${sub}/` : this.prefix;
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: p, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  /** Downloads the objects to a temporary folder for `use`, then removes it. */
  async withLocalFiles<T>(keys: string[], use: (paths: string[]) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'flowsieve-s3-'));
    try {
      const paths: string[] = [];
      for (const k of keys) {
        const path = join(dir, k);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, await this.get(k));
        paths.push(path);
      }
      return await use(paths);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `write` fills a temporary folder; each of its files becomes an object under `prefix`. */
  async writeFolder(prefix: string, write: (dir: string) => Promise<void> | void): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'flowsieve-s3-'));
    try {
      await write(dir);
      for (const file of await walk(dir)) {
        await this.putFile(`${prefix.replace(/\/+$/, '')}/${relative(dir, file).split('\\').join('/')}`, file);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && !e.name.startsWith('.')) out.push(p);
  }
  return out.sort();
}
