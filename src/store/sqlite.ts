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
