/**
 * What a reader hands the shards through the sink, as the engine runs it: every column of
 * every record posted, the batches' strings, the sink's counters, rejects and time span. The
 * readers' tests hold each reader's paths (JavaScript, WebAssembly with and without routing)
 * to the same value.
 */
import { expect } from 'vitest';
import { FlowSink, type SinkOptions } from '../../dist/src/flow/sink.js';
import { readerFor } from '../../dist/src/formats/registry.js';
import type { FormatName } from '../../dist/src/formats/types.js';
import { LineFeeder } from '../../dist/src/input/lines.js';

const COLUMNS = ['feed', 'proto', 'sport', 'dport', 'tcpFlags', 'packets', 'bytes', 'start', 'end', 'cloud', 'action', 'direction', 'account', 'region', 'iface', 'instance'] as const;
/**
 * The columns of a batch of inbound records alone (feeds 1: a lane with the outbound records
 * apart): those the inbound table reads, all its routed rows carry (FlowBatchData.n).
 */
const INBOUND_COLUMNS = ['feed', 'proto', 'dport', 'packets', 'bytes', 'start', 'end', 'cloud', 'account', 'region'] as const;

/** The batches `read` makes the sink post (3 shards of 64-record batches unless `opts` says otherwise), its counters, rejects and span. */
export function routedBy(opts: Partial<SinkOptions>, read: (sink: FlowSink) => void) {
  const posted: Array<{ shard: number; feeds: number } & Record<string, unknown>> = [];
  const sink = new FlowSink({ shards: 3, batchSize: 64, maxRejectsKept: 100_000, ...opts }, (shard, b) => {
    const columns = Object.fromEntries((b.feeds === 1 ? INBOUND_COLUMNS : COLUMNS).map((c) => [c, Array.from(b[c].subarray(0, b.n))]));
    // a lane's batch holds records of its Feed bits alone (FlowSink.lanes, FlowBatchData.feeds)
    expect(columns.feed!.filter((f) => (f & ~b.feeds) !== 0)).toEqual([]);
    // an inbound lane's string table holds its account and region strings and perhaps others
    // (appended records intern their interfaces): its ids compared by the strings they name
    const strings = b.feeds === 1 ? [] : b.strings.slice();
    if (b.feeds === 1) for (const c of ['account', 'region'] as const) columns[c] = columns[c]!.map((id) => b.strings[id]) as unknown as number[];
    posted.push({ shard, feeds: b.feeds, n: b.n, strings, src: Array.from(b.src.subarray(0, 4 * b.n)), dst: Array.from(b.dst.subarray(0, 4 * b.n)), ...columns });
  });
  read(sink);
  sink.flushAll();
  // each lane's batches in the order posted: the order between lanes is not the sink's (it
  // copies a read's routed runs lane by lane, FlowSink.copyRouted); sort is stable
  return { posted: posted.sort((a, b) => a.shard - b.shard || a.feeds - b.feeds), counters: { ...sink.counters }, rejects: sink.rejects.map((j) => ({ ...j })), span: [sink.minStart, sink.maxEnd] };
}

/** `input` fed to a line format's reader in blocks of `block` bytes, as file 't'. */
export function feedLines(format: FormatName, sink: FlowSink, input: Buffer, account: string, region: string, block: number): void {
  const reader = readerFor(format)!;
  if (reader.kind !== 'lines') throw new Error(`${format} reads lines`);
  const feeder = new LineFeeder(reader.open({ sink, file: 't', account, region }), 1 << 20, 0);
  for (let s = 0; s < input.length; s += block) feeder.push(input.subarray(s, Math.min(input.length, s + block)));
  feeder.end(false);
}

type Routed = ReturnType<typeof routedBy>;

/**
 * The module's reader routing (`wasm`) and only parsing (`wasm-parse`) hand the shards what the
 * JavaScript reader does, under every sink option given and with and without a file region;
 * each input yields at least `atLeast` records and rejects.
 */
export function expectReadersAlike<I>(
  route: (kind: 'js' | 'wasm' | 'wasm-parse', input: I, opts: Partial<SinkOptions>, region: string) => Routed,
  input: I,
  options: Array<Partial<SinkOptions>>,
  atLeast: number,
): void {
  for (const opts of options) {
    for (const region of ['', 'xx-home-1']) {
      const js = route('js', input, opts, region);
      expect(route('wasm', input, opts, region)).toEqual(js);
      expect(route('wasm-parse', input, opts, region)).toEqual(js);
      expect(js.counters.records + js.counters.rejected).toBeGreaterThan(atLeast);
    }
  }
}
