/**
 * Where a cluster run keeps what its steps hand to each other: the run plan, the staged
 * input groups, the partitions' partial results and the merged outputs. In tests it is a
 * shared folder (a network file system), or an S3-compatible bucket (s3-store.ts).
 *
 * Every write is atomic (a temporary name, then a rename, or one PUT) and lands under a
 * deterministic key, so a step that is retried or runs twice leaves the same objects.
 */
import { mkdir, readFile, readdir, rename, rm, stat, copyFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

export interface Store {
  /** Human description (for messages). */
  readonly where: string;
  put(key: string, data: string | Uint8Array): Promise<void>;
  /** Upload a local file (streamed, not read into memory). Returns its size. */
  putFile(key: string, localPath: string): Promise<number>;
  /** Have `write` make the object as a local file (a writer that wants a path); returns its size. */
  putWith(key: string, write: (localPath: string) => Promise<void>): Promise<number>;
  get(key: string): Promise<Buffer>;
  /** undefined when the object does not exist. */
  size(key: string): Promise<number | undefined>;
  /** Keys under a prefix (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Local paths to read the objects from while `use` runs: the files themselves on a
   * shared folder, downloaded copies for an object store.
   */
  withLocalFiles<T>(keys: string[], use: (paths: string[]) => Promise<T>): Promise<T>;
  /** A local folder that `write` fills; its files become the objects under `prefix`. */
  writeFolder(prefix: string, write: (dir: string) => Promise<void> | void): Promise<void>;
}

/** A store on a (shared) file system: keys are paths under the root. */
export class FolderStore implements Store {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  get where(): string {
    return this.root;
  }

  path(key: string): string {
    if (key.split('/').some((part) => part === '..' || part === '')) throw new Error(`bad store key '${key}'`);
    return join(this.root, key);
  }

  /** A temporary name beside the target, unique across machines sharing the folder. */
  private tmpFor(path: string): string {
    return join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpFor(path);
    try {
      await writeFile(tmp, data, { flush: true });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async putFile(key: string, localPath: string): Promise<number> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpFor(path);
    try {
      await copyFile(localPath, tmp);
      const size = (await stat(tmp)).size;
      await rename(tmp, path);
      return size;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async putWith(key: string, write: (localPath: string) => Promise<void>): Promise<number> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = this.tmpFor(path);
    try {
      await write(tmp);
      const size = (await stat(tmp)).size;
      await rename(tmp, path);
      return size;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  get(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temporary files of writes in progress
        const k = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(k);
        else out.push(k);
      }
    };
    await walk(prefix.replace(/\/+$/, ''));
    return out.sort();
  }

  withLocalFiles<T>(keys: string[], use: (paths: string[]) => Promise<T>): Promise<T> {
    return use(keys.map((k) => this.path(k)));
  }

  async writeFolder(prefix: string, write: (dir: string) => Promise<void> | void): Promise<void> {
    const dir = this.path(prefix);
    await mkdir(dir, { recursive: true });
    await write(dir); // the writers used here (output/files.ts) rename each file into place
  }
}
