/**
 * Run one reader over bytes in this thread (no worker pool) and collect what it emits,
 * for reader tests. The format is sniffed as the engine does unless given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { FlowSink, accountingGap, type Reject, type SinkCounters } from '../../dist/src/flow/sink.js';
import { sniffFormat } from '../../dist/src/formats/sniff.js';
import { readerFor } from '../../dist/src/formats/registry.js';
import { LineFeeder } from '../../dist/src/input/lines.js';
import { readLineRange } from '../../dist/src/input/read.js';
import { formatAddress } from '../../dist/src/net/address.js';
import type { FormatName } from '../../dist/src/formats/types.js';
import { FIXTURES } from './tmp.js';

export interface Flow {
  line: number;
  offset: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  cloud: string;
  action: string;
  direction: string;
  account: string;
  region: string;
  iface: string;
  instance: string;
}

export interface ReadResult {
  format: FormatName | null;
  counters: SinkCounters;
  rejects: Reject[];
  flows: Flow[];
  /** Input units without a fate (0 when every line / object / tuple is accounted for; see sink.ts accountingGap). */
  gap: number;
}

export interface ReadOptions {
  format?: FormatName;
  account?: string;
  region?: string;
  regionMap?: Record<string, string>;
  awsFields?: string[];
  /** Line readers: feed the bytes in pieces of this size (as a worker's blocks). */
  block?: number;
  /** Line readers: read the bytes from this file (which holds them) as a parse thread reads a plain file, in ranges cut at these offsets. */
  file?: { path: string; cuts: number[] };
}

const CLOUDS = ['aws', 'azure', 'gcp', 'other'];
const ACTIONS = ['unknown', 'accept', 'reject'];
const DIRECTIONS = ['unknown', 'ingress', 'egress'];

export function readBytes(buf: Uint8Array, opts: ReadOptions = {}): ReadResult {
  const format = opts.format ?? sniffFormat(buf.subarray(0, 65536), '');
  const sink = new FlowSink({ shards: 1, batchSize: 1024, maxRejectsKept: 1000 }, () => {});
  const flows: Flow[] = [];
  const emit = sink.emit.bind(sink);
  // record what the reader hands over, then let the sink validate it as usual
  sink.emit = (line: number, offset: number): boolean => {
    const r = sink.rec;
    const d = sink.dict.strings;
    const ok = emit(line, offset);
    if (ok) {
      flows.push({
        line, offset, src: formatAddress(r.src), dst: formatAddress(r.dst), sport: r.sport, dport: r.dport, proto: r.proto,
        packets: r.packets, bytes: r.bytes, start: r.start, end: r.end, cloud: CLOUDS[r.cloud]!, action: ACTIONS[r.action]!,
        direction: DIRECTIONS[r.direction]!, account: d[r.account]!, region: d[r.region]!, // LAZY ids (-1) are resolved the way the sink does for outbound records
        iface: d[r.iface === -1 ? sink.lazy!.iface() : r.iface]!, instance: d[r.instance === -1 ? sink.lazy!.instance() : r.instance]!,
      });
    }
    return ok;
  };
  if (format) {
    const reader = readerFor(format);
    if (!reader) throw new Error(`no reader for ${format}`);
    const ctx = { sink, file: 'test', account: opts.account ?? '', region: opts.region ?? '', regionMap: opts.regionMap, awsFields: opts.awsFields };
    if (reader.kind === 'lines' && opts.file) {
      const ends = [...opts.file.cuts, buf.length];
      ends.reduce((start, end) => (readLineRange(opts.file!.path, start, end, reader.open(ctx), 1 << 20), end), 0);
    } else if (reader.kind === 'lines') {
      const feeder = new LineFeeder(reader.open(ctx), 1 << 20, 0);
      const block = opts.block ?? buf.length;
      for (let s = 0; s < buf.length; s += block) feeder.push(buf.subarray(s, Math.min(buf.length, s + block)));
      feeder.end(false);
    } else if (reader.kind === 'document') reader.parseDocument(buf, ctx);
    else throw new Error(`${format} is read by the shard workers, not by a parser`);
  }
  return { format, counters: { ...sink.counters }, rejects: sink.rejects, flows, gap: accountingGap(sink.counters) };
}

export function readPath(path: string, opts: ReadOptions = {}): ReadResult {
  return readBytes(readFileSync(path), opts);
}

/**
 * The shared fixtures: ../shared/fixtures from the repository root, or
 * $FLOWSIEVE_FIXTURES (a git worktree elsewhere has no ../shared beside it).
 */
const FIXTURE_DIR = process.env.FLOWSIEVE_FIXTURES ? process.env.FLOWSIEVE_FIXTURES.replace(/\/?$/, '/') : FIXTURES;

/** A fixture under the shared fixtures, or null when the folder is absent. */
export function fixture(rel: string): string | null {
  const p = FIXTURE_DIR + rel;
  return existsSync(p) ? p : null;
}

export const HAVE_FIXTURES = existsSync(FIXTURE_DIR);

/** Hand-written fixtures of this repository. */
export const LOCAL = new URL('../fixtures/', import.meta.url).pathname;
