/** Object stores as inputs (S3, Azure Blob Storage, GCS): the one interface each client implements. */

/** One object of a listing. */
export interface ObjectEntry {
  key: string;
  size: number;
  /** Last-modified time, Unix milliseconds (0 when the store gave none). */
  modified: number;
  /** The store's content tag (S3 ETag, Azure ETag, GCS md5Hash/generation), when given. */
  etag?: string;
}

/** One level of a listing by '/': the sub-prefixes ("folders", each ending in '/') and the objects. */
export interface ObjectLevel {
  dirs: string[];
  objects: ObjectEntry[];
}

export type StoreScheme = 's3' | 'az' | 'gs';

/** Where a URL input points: a store, a container (bucket), and a key prefix. */
export interface SourceLocation {
  scheme: StoreScheme;
  /** Azure: the storage account (or the blob endpoint URL's host); '' for S3 and GCS. */
  account: string;
  /** S3/GCS bucket, Azure container. */
  bucket: string;
  /** Key prefix ('' = the whole bucket). */
  prefix: string;
  /** The input as the user wrote it. */
  url: string;
}

export interface ObjectStore {
  readonly location: SourceLocation;
  /** The object's URL, for messages and reports. */
  urlOf(key: string): string;
  /** Every object under a prefix, in key order, with continuation handled. */
  list(prefix: string): AsyncIterable<ObjectEntry>;
  /** One level under a prefix (which ends in '/' or is ''). */
  listLevel(prefix: string): Promise<ObjectLevel>;
  /**
   * One page of objects under a prefix whose keys sort after `startAfter`, and whether more
   * follow. Where a store has it (S3's StartAfter), a date-pruned listing seeks past the
   * folders out of range instead of listing each folder.
   */
  listAfter?(prefix: string, startAfter: string | undefined): Promise<{ objects: ObjectEntry[]; more: boolean }>;
  /** The object's bytes from byte `start` on (a ranged GET). */
  read(key: string, start: number): Promise<AsyncIterable<Uint8Array>>;
}

/** Settings of the object-store clients, from the command line and the environment. */
export interface SourceOptions {
  /** S3-compatible endpoint (MinIO, Ceph, a test server); AWS S3 when absent. */
  s3Endpoint?: string;
  /** GCS JSON API endpoint (a test server); Google's when absent. */
  gcsEndpoint?: string;
  /** Objects fetched ahead of the one being parsed (default 8). */
  readAhead?: number;
  /** Tries per request before the object is reported as unreadable (default 4). */
  attempts?: number;
  /** First retry's wait, doubled each time (default 250 ms). */
  backoffMs?: number;
  /** Called for every GET (tests count them). */
  onGet?: (url: string) => void;
  /** Objects already listed, by URL (serve --source): planned without listing them again. */
  known?: Map<string, ObjectEntry>;
}
