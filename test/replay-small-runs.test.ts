/**
 * Small keys of a twin holding its whole bucket (src/engine/scan-ingest.ts keysOfLongRuns):
 * in a block sorted by source, protocol and port, a run of fewer rows than min_endpoints is
 * counted from the block's columns; other blocks (unsorted, a string twice in the table) go
 * through the block-local hash. Both must count the keys and entries a plain grouping counts,
 * and leave the same entries in the table. End to end (verdicts): test/replay.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import type { ScanTable as Table } from '../dist/src/engine/scan-table.js';
import type { BlockRows } from '../dist/src/replay/row-codec.js';

const DAY = 1_717_200_000 - (1_717_200_000 % 86400);

interface Row {
  inbound: boolean;
  cloud: number;
  src: number[]; // four words
  dst: number[];
  port: number;
  start: number;
  account: number;
  region: number;
}

/** A small seeded generator (tests do not depend on Math.random). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const v4 = (a: number) => [0, 0, 0xffff, a >>> 0];
const isV4 = (w: number[]) => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;

/** Rows of sources with runs of 1 to 40 rows a (source, port), IPv6 sources and destinations among them, outbound rows between. */
function makeRows(seed: number): Row[] {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const dsts = Array.from({ length: 24 }, (_, k) => (k % 5 === 4 ? [0x20010db8, 0, k, 1] : v4(0x0a000000 + k)));
  const rows: Row[] = [];
  for (let s = 0; s < 120; s++) {
    const src = s % 9 === 8 ? [0x20010db8, 1, s, 7] : v4(0xc6336400 + s);
    for (let p = 1 + pick(3); p > 0; p--) {
      const port = [22, 23, 80, 443, 3389][pick(5)]!;
      const run = [1, 1, 1, 2, 3, 4, 4, 9, 10, 17, 40][pick(11)]!;
      for (let k = 0; k < run; k++) {
        rows.push({ inbound: true, cloud: pick(2), src, dst: dsts[pick(run < 5 ? 3 : 24)]!, port, start: DAY + pick(2 * 86400), account: pick(3), region: pick(3) });
      }
    }
    if (s % 7 === 0) rows.push({ inbound: false, cloud: 0, src: [0x20010db8, 9, s, 9], dst: v4(0x08080808), port: 53, start: DAY, account: 0, region: 0 });
  }
  return rows;
}

/** Sorted as the conversion sorts a block (rows.ts entryOrder: source from its last word, protocol, port, destination, start). */
function sortRows(rows: Row[]): Row[] {
  const cmpWords = (a: number[], b: number[]) => a[3]! - b[3]! || a[2]! - b[2]! || a[1]! - b[1]! || a[0]! - b[0]!;
  return [...rows].sort((a, b) => cmpWords(a.src, b.src) || a.port - b.port || cmpWords(a.dst, b.dst) || a.start - b.start);
}

function shuffle(rows: Row[], r: () => number): Row[] {
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function blockOf(rows: Row[], strings: string[], smallBelow: number): BlockRows {
  const n = rows.length;
  const b: BlockRows = {
    n, flags: new Uint8Array(n), af: new Uint8Array(n), src: new Uint32Array(n), dst: new Uint32Array(n),
    src6: new Uint32Array(4 * n), dst6: new Uint32Array(4 * n), proto: new Uint8Array(n), dport: new Uint16Array(n),
    start: new Uint32Array(n), dur: new Uint32Array(n), packets: new Uint32Array(n), bytes: new Uint32Array(n),
    account: new Uint16Array(n), region: new Uint16Array(n), strings, flows: new Uint32Array(n).fill(1),
    smallBelow, smallKeys: 0, smallEntries: 0,
  };
  let ks = 0;
  let kd = 0;
  rows.forEach((x, i) => {
    b.flags[i] = (x.inbound ? 1 : 2) | (x.cloud << 2);
    if (isV4(x.src)) b.src[i] = x.src[3]!;
    else {
      b.af[i]! |= 1;
      b.src6.set(x.src, 4 * ks++);
    }
    if (isV4(x.dst)) b.dst[i] = x.dst[3]!;
    else {
      b.af[i]! |= 2;
      b.dst6.set(x.dst, 4 * kd++);
    }
    b.proto[i] = 6;
    b.dport[i] = x.port;
    b.start[i] = x.start;
    b.packets[i] = 1;
    b.bytes[i] = 40;
    b.account[i] = 1 + x.account;
    b.region[i] = 4 + x.region;
  });
  return b;
}

/** What a plain grouping counts: small keys, their distinct entries, and the other keys' distinct entries. */
function expected(rows: Row[], strings: string[], window: number, below: number): { keys: number; entries: number; added: number } {
  const byKey = new Map<string, Set<string>>();
  const rowsOf = new Map<string, number>();
  for (const x of rows) {
    if (!x.inbound) continue;
    const key = `${x.src.join('.')}|${x.port}|${Math.floor(x.start / window)}`;
    const entry = `${x.cloud}|${strings[1 + x.account]}|${x.dst.join('.')}|${strings[4 + x.region]}`;
    if (!byKey.has(key)) byKey.set(key, new Set());
    byKey.get(key)!.add(entry);
    rowsOf.set(key, (rowsOf.get(key) ?? 0) + 1);
  }
  let keys = 0;
  let entries = 0;
  let added = 0;
  for (const [k, e] of byKey) {
    if (rowsOf.get(k)! < below) {
      keys++;
      entries += e.size;
    } else added += e.size;
  }
  return { keys, entries, added };
}

let ScanTable: typeof Table;

function counted(rows: Row[], strings: string[], window: number, below: number): { keys: number; entries: number; added: number } {
  const t = new ScanTable(window, 1 << 10);
  const b = blockOf(rows, strings, below);
  t.addRows(b, 0);
  return { keys: b.smallKeys, entries: b.smallEntries, added: t.n };
}

const built = existsSync(new URL('../dist/wasm/lz4-block.wasm', import.meta.url));
const saved = process.env.FLOWSIEVE_LZ4;

// the runs are found by the replay module (assembly/lz4-block.ts smallRuns, the block's columns
// copied into its memory here) where it is built, and by longRunsInJs where it is not (FLOWSIEVE_LZ4=napi)
describe.each([
  ...(built ? [['in WebAssembly', undefined]] : []),
  ['in JavaScript', 'napi'],
] as Array<[string, string | undefined]>)('small keys of a whole-bucket twin, %s', (_, lz4) => {
  beforeAll(async () => {
    vi.resetModules(); // lz4Wasm() loads its module once a module graph
    if (lz4 === undefined) delete process.env.FLOWSIEVE_LZ4;
    else process.env.FLOWSIEVE_LZ4 = lz4;
    ({ ScanTable } = await import('../dist/src/engine/scan-table.js'));
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.FLOWSIEVE_LZ4;
    else process.env.FLOWSIEVE_LZ4 = saved;
  });

  const strings = ['', 'acct-a', 'acct-b', 'acct-c', 'us-east-1', 'eu-west-1', 'ap-south-1'];
  // the same strings with an account twice: ids 1 and 3 are one account
  const twice = ['', 'acct-a', 'acct-b', 'acct-a', 'us-east-1', 'eu-west-1', 'us-east-1'];

  it('are counted as a plain grouping counts them, run by run in a sorted block and by the hash otherwise', () => {
    for (const seed of [1, 2, 3]) {
      const rows = makeRows(seed);
      const sorted = sortRows(rows);
      const shuffled = shuffle(sorted, rng(seed)); // runs split: the hash path
      for (const window of [21600, 86400]) {
        for (const below of [2, 5, 10, 30]) {
          for (const table of [strings, twice]) {
            const want = expected(rows, table, window, below);
            const what = `seed ${seed}, ${window} s, below ${below}, ${table === twice ? 'a string twice' : 'distinct strings'}`;
            expect(want.keys, what).toBeGreaterThan(0);
            expect(counted(sorted, table, window, below), `${what}, sorted`).toEqual(want);
            expect(counted(shuffled, table, window, below), `${what}, shuffled`).toEqual(want);
          }
        }
      }
    }
  });

  it('short runs with one entry in several rows, and one source in both families, are counted exactly', () => {
    const a = v4(0x01020304);
    const mapped = [0, 0, 0xffff, 0x01020304]; // an IPv4 source given as IPv6 (af bit 0): another key
    const row = (src: number[], dst: number, start: number, account = 0): Row => ({ inbound: true, cloud: 0, src, dst: v4(dst), port: 22, start, account, region: 0 });
    const rows = sortRows([
      row(a, 1, DAY), row(a, 1, DAY + 30000), row(a, 1, DAY + 60000), row(a, 2, DAY), // at 24 h: one key, two entries
      row(a, 3, DAY + 86400, 1), row(a, 3, DAY + 86400, 2), // another window: one key, two accounts
    ]);
    expect(counted(rows, strings, 86400, 10)).toEqual({ keys: 2, entries: 4, added: 0 });
    expect(counted(rows, strings, 21600, 10)).toEqual({ keys: 4, entries: 6, added: 0 });
    expect(counted(rows, strings, 86400, 3)).toEqual({ keys: 1, entries: 2, added: 2 });
    const both = blockOf([row(a, 1, DAY), { ...row(a, 1, DAY), src: mapped }], strings, 10);
    both.af[1] = 1;
    both.src6.set(mapped, 0);
    const t = new ScanTable(86400, 1 << 10);
    t.addRows(both, 0);
    expect([both.smallKeys, both.smallEntries]).toEqual([2, 2]);
  });
});
