/**
 * The WebAssembly readers' routed rows start in their shard's area as far past a multiple of
 * 8 as the shard's batch is filled (FlowSink.areaStart, src/formats/wasm-route.ts settings),
 * so that every run the sink copies into a batch lies alike modulo 8 on both sides:
 * TypedArray.set into a ring slot's SharedArrayBuffer copies byte by byte otherwise. The
 * batches stay those of the JavaScript reader.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BatchRing, createBatchRing } from '../dist/src/flow/batch-ring.js';
import { FlowSink, type SinkOptions } from '../dist/src/flow/sink.js';
import { setAwsReader } from '../dist/src/formats/aws-wasm.js';
import { feedLines, routedBy } from './helpers/routed.js';

const T = 1718000000;
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** n plain v2 lines from `first`: inbound probes (routed) with now and then a response (counted alone). */
function lines(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, j) => {
    const k = first + j;
    const ports = k % 7 === 0 ? '443 40000' : `4${k % 1000} 22`;
    return `2 123456789012 eni-${k % 5} 45.1.${k % 200}.${k % 250} 10.0.${k % 3}.5 ${ports} 6 1 60 ${T + k} ${T + k + 10} ACCEPT OK`;
  });
}

/** Five records handed to the sink's emit (as another reader would), then the lines read by `kind`. */
function mixed(kind: 'js' | 'wasm', opts: Partial<SinkOptions>) {
  setAwsReader(kind);
  return routedBy(opts, (sink) => {
    const r = sink.rec;
    for (let k = 0; k < 5; k++) {
      r.clearOptional(1, 0, 0);
      r.src.set([0, 0, 0xffff, (45 << 24) + 7 * k + 1]);
      r.dst.set([0, 0, 0xffff, (10 << 24) + 5]);
      [r.sport, r.dport, r.proto, r.start, r.end] = [40000 + k, 23, 6, T, T + 1];
      expect(sink.emit(k + 1, -1)).toBe(true);
    }
    feedLines('aws-text', sink, Buffer.from([HEADER, ...lines(5, 700)].join('\n') + '\n'), '', '', 4099);
  });
}

afterAll(() => setAwsReader('wasm'));

describe("the module's routed rows and their batches lie alike modulo 8", () => {
  it('every run starts in its area where its batch is filled to, modulo 8, after records handed to emit', () => {
    type Run = (c: { feed: Uint8Array[] }, shard: number, from: number, b: { n: number; feed: Uint8Array }, n: number) => void;
    const copyRun = FlowSink.prototype as unknown as { copyRun: Run };
    const original = copyRun.copyRun;
    const offsets: number[] = [];
    const spy = vi.spyOn(copyRun, 'copyRun').mockImplementation(function (this: unknown, c, shard, from, b, n) {
      // the byte columns' addresses, in the module's memory and in the batch (a slot of the ring or not)
      offsets.push((c.feed[shard]!.byteOffset + from - (b.feed.byteOffset + b.n)) & 7);
      original.call(this, c, shard, from, b, n);
    });
    try {
      const ring = new BatchRing(createBatchRing(64, 64));
      for (const opts of [{ shards: 1 }, { shards: 3 }, { shards: 2, alloc: (n: number) => ring.take(n), firstBatch: 64 }] as Array<Partial<SinkOptions>>) {
        offsets.length = 0;
        const wasm = mixed('wasm', opts);
        expect(offsets.length).toBeGreaterThan(3);
        expect(offsets.filter((o) => o !== 0)).toEqual([]);
        expect(wasm).toEqual(mixed('js', opts));
        expect(wasm.counters.inbound).toBeGreaterThan(500);
        for (const b of wasm.posted) expect(b.n).toBeGreaterThan(0);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
