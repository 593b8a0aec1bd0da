/**
 * Azure Blob Storage as input: `az://ACCOUNT/CONTAINER/prefix` or
 * `https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix[?SAS]`. Credentials, first found:
 * a SAS in the URL's query string or AZURE_STORAGE_SAS_TOKEN; AZURE_STORAGE_CONNECTION_STRING
 * (also how Azurite and other emulators are reached); AZURE_STORAGE_KEY (shared key);
 * else DefaultAzureCredential (environment, workload or managed identity, Azure CLI).
 * NSG flow logs sit in the container insights-logs-networksecuritygroupflowevent, VNet
 * flow logs in insights-logs-flowlogflowevent.
 */
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { DefaultAzureCredential } from '@azure/identity';
import type { ObjectEntry, ObjectLevel, ObjectStore, SourceLocation, SourceOptions } from './types.js';

export class AzureSource implements ObjectStore {
  private readonly container: ContainerClient;
  private readonly base: string;

  constructor(readonly location: SourceLocation, _opts: SourceOptions) {
    const service = serviceClient(location);
    this.container = service.getContainerClient(location.bucket);
    this.base = location.url.startsWith('az:') || location.url.startsWith('AZ:') ? `az://${location.account}/${location.bucket}` : `https://${location.account}.blob.core.windows.net/${location.bucket}`;
  }

  urlOf(key: string): string {
    return `${this.base}/${key}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectEntry> {
    for await (const b of this.container.listBlobsFlat({ prefix: prefix || undefined })) {
      if (!b.name.endsWith('/')) yield entry(b);
    }
  }

  async listLevel(prefix: string): Promise<ObjectLevel> {
    const level: ObjectLevel = { dirs: [], objects: [] };
    for await (const item of this.container.listBlobsByHierarchy('/', { prefix: prefix || undefined })) {
      if (item.kind === 'prefix') level.dirs.push(item.name);
      else if (!item.name.endsWith('/')) level.objects.push(entry(item));
    }
    return level;
  }

  async read(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    const r = await this.container.getBlobClient(key).download(start, undefined, { maxRetryRequests: 0 });
    if (!r.readableStreamBody) throw new Error('no body in the download response');
    return r.readableStreamBody as unknown as AsyncIterable<Uint8Array>;
  }
}

function entry(b: { name: string; properties: { contentLength?: number; lastModified?: Date; etag?: string } }): ObjectEntry {
  return { key: b.name, size: b.properties.contentLength ?? 0, modified: b.properties.lastModified?.getTime() ?? 0, ...(b.properties.etag ? { etag: b.properties.etag } : {}) };
}

function serviceClient(location: SourceLocation): BlobServiceClient {
  const endpoint = `https://${location.account}.blob.core.windows.net`;
  const query = location.url.includes('?') ? location.url.slice(location.url.indexOf('?') + 1) : '';
  const sas = query || process.env.AZURE_STORAGE_SAS_TOKEN?.replace(/^\?/, '');
  if (sas) return new BlobServiceClient(`${endpoint}?${sas}`);
  const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (conn) return BlobServiceClient.fromConnectionString(conn);
  const key = process.env.AZURE_STORAGE_KEY;
  if (key) return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(location.account, key));
  return new BlobServiceClient(endpoint, new DefaultAzureCredential());
}

