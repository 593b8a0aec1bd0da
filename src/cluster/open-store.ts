/**
 * Opening the store a command line names. Its own file so that store.ts (the Store
 * interface and the folder store) and s3-store.ts (which implements Store) do not import
 * each other.
 */
import { FolderStore, type Store } from './store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';

/**
 * The store named on the command line: a folder, or s3://bucket/prefix (with
 * --s3-endpoint for MinIO, Ceph and other S3-compatible stores).
 */
export function openStore(spec: string, s3: S3StoreOptions = {}): Store {
  if (/^s3:\/\//i.test(spec)) {
    const endpoint = s3.endpoint ?? process.env.FLOWSIEVE_S3_ENDPOINT;
    return new S3Store(spec, { ...s3, ...(endpoint ? { endpoint } : {}) });
  }
  return new FolderStore(spec);
}
