/**
 * Filters for the document formats (one JSON document a file): Azure NSG and VNet flow
 * logs, GCP LogEntries in JSON arrays, CloudWatch Logs envelopes. The document is parsed,
 * the units that carry flow records (Azure flow tuples, GCP entries, CloudWatch log
 * events) are decided by the format's own reader, the scan units are removed (or, where a
 * unit is an object, tagged), and the document is written back as compact JSON.
 *
 * Azure: the Azure reader runs once over the whole document and reports, in document order,
 * one event per tuple (a flow, no flow, or a reject); event k decides tuple k. The counts
 * must agree, or the file is left unfiltered with a message (never a wrong output).
 * GCP entries and CloudWatch events are decided one by one by the line readers of the same
 * formats (an entry is a `gcp` line; an event's message an `aws-json` {"message"} line).
 */
import { FlowSink } from '../flow/sink.js';
import { allReaders } from '../formats/registry.js';
import type { DocumentReader, FormatName, LineReader } from '../formats/types.js';
import type { FilterContext, FilterCounters } from './types.js';

/** One way of filtering a whole document. */
export interface DocumentFilter {
  name: FormatName;
  canTag: boolean;
  /** The document with the scan units removed or tagged; throws (with a reason) when it cannot. */
  filter(buf: Uint8Array, ctx: FilterContext): string;
}

/** Records events in order: for each, whether it was a flow of a scan key. */
class EventSink extends FlowSink {
  events: number[] = []; // 1 scan flow, 0 other flow, -1 no flow or rejected

  constructor(private readonly ctx: FilterContext) {
    super({ shards: 1, batchSize: 64, maxRejectsKept: 0 }, () => {});
  }

  override emit(): boolean {
    const r = this.rec;
    const window = Math.floor(r.start / this.ctx.windowSeconds);
    const k = this.ctx.keys;
    const scan = k.has(r.src, 0, r.proto, r.dport, window) || (this.ctx.replies && k.has(r.dst, 0, r.proto, r.sport, window));
    this.events.push(scan ? 1 : 0);
    return true;
  }

  override noData(): void {
    this.events.push(-1);
  }

  override reject(): void {
    this.events.push(-1);
  }

  override rejectText(): void {
    this.events.push(-1);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A member by name, case-insensitively (as the Azure reader matches them). */
function member(o: unknown, name: string): unknown {
  if (!isObject(o)) return undefined;
  const k = Object.keys(o).find((key) => key.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every flowTuples array of an Azure document, in document order. */
function azureTupleArrays(doc: unknown): unknown[][] {
  const out: unknown[][] = [];
  for (const rec of arr(member(doc, 'records'))) {
    for (const rule of arr(member(member(rec, 'properties'), 'flows'))) {
      for (const group of arr(member(rule, 'flows'))) if (Array.isArray(member(group, 'flowTuples'))) out.push(member(group, 'flowTuples') as unknown[]);
    }
    for (const flow of arr(member(member(rec, 'flowRecords'), 'flows'))) {
      for (const group of arr(member(flow, 'flowGroups'))) if (Array.isArray(member(group, 'flowTuples'))) out.push(member(group, 'flowTuples') as unknown[]);
    }
  }
  return out;
}

function count(c: FilterCounters, scan: boolean, flow: boolean, bytes: number): void {
  if (flow) c.records++;
  else c.unparsed++;
  if (scan) {
    c.scan_records++;
    c.scan_bytes += bytes;
  }
}

function azureFilter(name: FormatName): DocumentFilter {
  const reader = () => allReaders().find((r) => r.name === name) as DocumentReader;
  return {
    name,
    canTag: false, // a tuple is a string: it cannot carry a field
    filter(buf, ctx) {
      const doc = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8')) as unknown;
      const sink = new EventSink(ctx);
      reader().parseDocument(buf, { sink, file: ctx.file, account: ctx.account, region: ctx.region });
      const tuples = azureTupleArrays(doc);
      const total = tuples.reduce((n, a) => n + a.length, 0);
      if (sink.events.length !== total) throw new Error(`the reader gave ${sink.events.length} records for ${total} flow tuples; not filtered`);
      let k = 0;
      for (const a of tuples) {
        const kept = a.filter((t) => {
          const e = sink.events[k++]!;
          count(ctx.counters, e === 1, e >= 0, String(t).length + 3);
          return e !== 1;
        });
        a.splice(0, a.length, ...kept);
      }
      return JSON.stringify(doc);
    },
  };
}

/** Decides one unit by feeding it as one line to a line reader. */
class UnitJudge {
  private readonly sink: EventSink;
  private readonly parser;
  private line = 1;

  constructor(reader: LineReader, ctx: FilterContext) {
    this.sink = new EventSink(ctx);
    this.parser = reader.open({ sink: this.sink, file: ctx.file, account: ctx.account, region: ctx.region, awsFields: ctx.awsFields });
  }

  /** 1 scan, 0 other flow, -1 no flow: the unit is a scan when every record it gave is. */
  judge(line: string): number {
    this.sink.events.length = 0;
    const bytes = Buffer.from(line + '\n');
    this.parser.parseLines(bytes, 0, bytes.length, this.line++, 0);
    const ev = this.sink.events.filter((e) => e >= 0);
    if (ev.length === 0) return -1;
    return ev.every((e) => e === 1) ? 1 : 0;
  }
}

const lineReader = (name: FormatName) => allReaders().find((r) => r.name === name) as LineReader;

/** Filters the objects of some arrays of the document, each judged as one line. */
function unitFilter(name: FormatName, lineFormat: FormatName, units: (doc: unknown) => unknown[][], asLine: (unit: unknown) => string): DocumentFilter {
  return {
    name,
    canTag: true,
    filter(buf, ctx) {
      const doc = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8')) as unknown;
      const judge = new UnitJudge(lineReader(lineFormat), ctx);
      for (const a of units(doc)) {
        const kept: unknown[] = [];
        for (const u of a) {
          const line = asLine(u);
          const v = judge.judge(line);
          count(ctx.counters, v === 1, v >= 0, line.length + 1);
          if (v !== 1) kept.push(u);
          else if (ctx.mode === 'tag' && isObject(u)) kept.push({ ...u, flowsieve_scan: true });
        }
        a.splice(0, a.length, ...kept);
      }
      return JSON.stringify(doc);
    },
  };
}

/** GCP: a JSON array of LogEntries, or an object with an `entries` array. */
const gcpUnits = (doc: unknown): unknown[][] => (Array.isArray(doc) ? [doc] : Array.isArray(member(doc, 'entries')) ? [member(doc, 'entries') as unknown[]] : []);

/** CloudWatch Logs: an envelope, or an array of them; the units are the log events. */
const cloudWatchUnits = (doc: unknown): unknown[][] =>
  (Array.isArray(doc) ? doc : [doc]).map((env) => member(env, 'logEvents')).filter((a): a is unknown[] => Array.isArray(a));

const DOCUMENT_FILTERS: DocumentFilter[] = [
  azureFilter('azure-nsg'),
  azureFilter('azure-vnet'),
  unitFilter('gcp-json', 'gcp', gcpUnits, (u) => JSON.stringify(u)),
  unitFilter('aws-cloudwatch', 'aws-json', cloudWatchUnits, (u) => JSON.stringify({ message: String(member(u, 'message') ?? '') })),
];

export function documentFilterFor(format: FormatName): DocumentFilter | undefined {
  return DOCUMENT_FILTERS.find((f) => f.name === format);
}
