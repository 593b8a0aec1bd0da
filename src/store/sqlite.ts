/**
 * better-sqlite3, loaded through createRequire with the small part of its API the store
 * uses, typed here (the package ships no types and @types/better-sqlite3 is not installed).
 */
import { createRequire } from 'node:module';

export interface Statement<Row = unknown> {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
  iterate(...params: unknown[]): IterableIterator<Row>;
  pluck(on?: boolean): Statement<Row>;
}

export interface Transaction<A extends unknown[], R> {
  (...args: A): R;
  immediate(...args: A): R;
}

export interface Database {
  prepare<Row = unknown>(sql: string): Statement<Row>;
  exec(sql: string): Database;
  pragma(sql: string, opts?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R>;
  close(): void;
  readonly open: boolean;
  readonly name: string;
}

type Ctor = new (path: string, opts?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number }) => Database;

const require = createRequire(import.meta.url);
let ctor: Ctor | null = null;

export function openDatabase(path: string, opts: { readonly?: boolean; fileMustExist?: boolean; timeout?: number } = {}): Database {
  ctor ??= require('better-sqlite3') as Ctor;
  return new ctor(path, opts);
}

/**
 * A database schema and the steps that build it: migrations[i] takes a database from
 * version i to i + 1 (the version is SQLite's `user_version`). Every SQLite database of
 * flowsieve (the history, the sidecar's state) is brought up to date by `migrate`.
 */
export interface Schema {
  /** what the database is, for messages ("history database") */
  what: string;
  migrations: ReadonlyArray<(db: Database) => void>;
  /** run in the migrating transaction, after the migrations, with the new version */
  stamp?: (db: Database, version: number) => void;
}

/** The version a schema's migrations lead to. */
export const schemaVersion = (s: Schema): number => s.migrations.length;

/**
 * Bring the database to the schema's version in one immediate transaction; returns the
 * version found. A database from a newer flowsieve (a higher version) is refused rather
 * than misread.
 */
export function migrate(db: Database, schema: Schema): number {
  const target = schemaVersion(schema);
  const found = Number(db.pragma('user_version', { simple: true }));
  if (found > target) {
    throw new Error(`${schema.what} ${db.name} has schema version ${found}; this flowsieve knows up to ${target} (upgrade flowsieve)`);
  }
  if (found === target) return found;
  db.transaction(() => {
    for (let v = found; v < target; v++) schema.migrations[v]!(db);
    schema.stamp?.(db, target);
    db.pragma(`user_version = ${target}`);
  }).immediate();
  return found;
}
