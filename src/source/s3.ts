/**
 * S3 buckets as inputs: `s3://bucket/prefix`. Credentials come from the AWS SDK's usual
 * chain (environment, profile, SSO, instance or pod role); the bucket's region is found by
 * following S3's redirect, so no --region is needed. `--s3-endpoint` (or
 * FLOWSIEVE_S3_ENDPOINT) points at an S3-compatible store with path-style addressing.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { ObjectEntry, ObjectLevel, ObjectStore, SourceLocation, SourceOptions } from './types.js';

export class S3Source implements ObjectStore {
  private readonly client: S3Client;

  constructor(readonly location: SourceLocation, opts: SourceOptions) {
    const endpoint = opts.s3Endpoint ?? process.env.FLOWSIEVE_S3_ENDPOINT;
    const config: S3ClientConfig = {
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      followRegionRedirects: true,
      maxAttempts: 1, // retries are ours (retry.ts), with the object named in the final error
      ...(endpoint
        ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
        : {}),
    };
    this.client = new S3Client(config);
  }

  urlOf(key: string): string {
    return `s3://${this.location.bucket}/${key}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectEntry> {
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) yield entry(o);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async listLevel(prefix: string): Promise<ObjectLevel> {
    const level: ObjectLevel = { dirs: [], objects: [] };
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) level.dirs.push(p.Prefix);
      for (const o of r.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) level.objects.push(entry(o));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return level;
  }

  async listAfter(prefix: string, startAfter: string | undefined): Promise<{ objects: ObjectEntry[]; more: boolean }> {
    const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, StartAfter: startAfter }));
    return { objects: (r.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith('/')).map(entry), more: Boolean(r.IsTruncated) };
  }

  async read(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    const r = await this.client.send(
      new GetObjectCommand({ Bucket: this.location.bucket, Key: key, ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }),
    );
    return r.Body as unknown as AsyncIterable<Uint8Array>;
  }
}

function entry(o: { Key?: string; Size?: number; LastModified?: Date; ETag?: string }): ObjectEntry {
  return { key: o.Key!, size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0, ...(o.ETag ? { etag: o.ETag } : {}) };
}
