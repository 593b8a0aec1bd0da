/**
 * Running one reader in-process over bytes (no worker pools): the sink, the line feeder
 * and the reader exactly as a parse worker wires them, with the accepted records kept
 * in plain objects for assertions.
 */
import { FlowSink, accountingGap } from '../../dist/src/flow/sink.js';
import { readerFor } from '../../dist/src/formats/registry.js';
import { LineFeeder } from '../../dist/src/input/lines.js';
import { formatAddress } from '../../dist/src/net/address.js';

export interface ParsedRecord {
  line: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  tcpFlags: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  cloud: number;
  direction: number;
  account: string;
  region: string;
  iface: string;
}

export interface ParseOutcome {
  counters: Record<string, number>;
  records: ParsedRecord[];
  rejects: Array<{ line: number; offset: number; reason: string; text: string }>;
  /** Lines the feeder counted (line readers), or -1. */
  feederLines: number;
  gap: number;
}

export interface ParseOptions {
  account?: string;
  region?: string;
  cloud?: string;
  headerLine?: string;
  maxLineBytes?: number;
  /** Feed the bytes in blocks cut at these offsets (line readers), as reads and zlib do. */
  cuts?: number[];
}

export function parseWith(format: string, input: Uint8Array | string, o: ParseOptions = {}): ParseOutcome {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const reader = readerFor(format as never);
  if (!reader) throw new Error(`no reader '${format}'`);
  const sink = new FlowSink({ shards: 2, batchSize: 64, maxRejectsKept: 10_000 }, () => {});
  const records: ParsedRecord[] = [];
  const emit = sink.emit.bind(sink);
  sink.emit = (line: number, offset: number): boolean => {
    const r = sink.rec;
    const copy: ParsedRecord = {
      line, src: formatAddress(r.src), dst: formatAddress(r.dst), sport: r.sport, dport: r.dport, proto: r.proto,
      tcpFlags: r.tcpFlags, packets: r.packets, bytes: r.bytes, start: r.start, end: r.end, cloud: r.cloud,
      direction: r.direction, account: sink.dict.strings[r.account]!, region: sink.dict.strings[r.region]!,
      iface: sink.dict.strings[r.iface]!,
    };
    const ok = emit(line, offset);
    if (ok) records.push(copy);
    return ok;
  };
  const ctx = {
    sink, file: 'test', account: o.account ?? '', region: o.region ?? '', cloud: o.cloud, headerLine: o.headerLine,
  };
  let feederLines = -1;
  if (reader.kind === 'lines') {
    const feeder = new LineFeeder(reader.open(ctx), o.maxLineBytes ?? 1 << 20, 0);
    let at = 0;
    for (const cut of [...(o.cuts ?? [])].sort((a, b) => a - b)) {
      if (cut <= at || cut >= bytes.length) continue;
      feeder.push(bytes.subarray(at, cut));
      at = cut;
    }
    feeder.push(bytes.subarray(at));
    feeder.end(false);
    feederLines = feeder.line - 1;
  } else if (reader.kind === 'document') {
    reader.parseDocument(bytes, ctx);
  } else {
    throw new Error(`${reader.name} is read by the shard workers, not by a parser`);
  }
  return { counters: { ...sink.counters }, records, rejects: sink.rejects, feederLines, gap: accountingGap(sink.counters) };
}
