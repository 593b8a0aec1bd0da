/**
 * FlowSink's routed rows added where they lie (SinkOptions.addRouted, the shard thread that
 * parses GCP): kept in the reader's areas across reads and handed over in runs, they reach the
 * tables as the same records in the same order as the batches of a sink that copies them.
 */
import { describe, expect, it } from 'vitest';
import { FlowSink, type RoutedColumns } from '../src/flow/sink.js';
import type { FlowBatchData } from '../src/flow/batch.js';

const READ_ROWS = 16;
const AREA_ROWS = READ_ROWS * 3 + 8; // three reads' rows and the slack

function areas(shards: number): RoutedColumns {
  const per = <T>(make: () => T): T[] => Array.from({ length: shards }, make);
  return {
    src: per(() => new Uint32Array(4 * AREA_ROWS)),
    dst: per(() => new Uint32Array(4 * AREA_ROWS)),
    packets: per(() => new Float64Array(AREA_ROWS)),
    bytes: per(() => new Float64Array(AREA_ROWS)),
    start: per(() => new Uint32Array(AREA_ROWS)),
    end: per(() => new Uint32Array(AREA_ROWS)),
    sport: per(() => new Uint16Array(AREA_ROWS)),
    dport: per(() => new Uint16Array(AREA_ROWS)),
    tcpFlags: per(() => new Int16Array(AREA_ROWS)),
    feed: per(() => new Uint8Array(AREA_ROWS)),
    proto: per(() => new Uint8Array(AREA_ROWS)),
    action: per(() => new Uint8Array(AREA_ROWS)),
    direction: per(() => new Uint8Array(AREA_ROWS)),
    account: per(() => new Int32Array(AREA_ROWS)),
    region: per(() => new Int32Array(AREA_ROWS)),
    iface: per(() => new Int32Array(AREA_ROWS)),
    instance: per(() => new Int32Array(AREA_ROWS)),
    counts: new Uint32Array(shards),
    starts: new Uint32Array(shards),
    ends: new Int32Array(shards),
    cloud: 2,
    readRows: READ_ROWS,
  };
}

/** Each record a batch holds, with its strings: what a table reads of it. */
function records(b: FlowBatchData): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.n; i++) {
    out.push([b.src[i * 4], b.dst[i * 4 + 3], b.start[i], b.dport[i], b.feed[i], b.cloud[i], b.strings[b.account[i]!], b.strings[b.region[i]!], b.strings[b.instance[i]!]].join(' '));
  }
  return out;
}

/**
 * Reads of up to READ_ROWS routed rows over two shards as a reader's module writes them
 * (formats/wasm-route.ts, assembly/shared/route.ts), a record appended by the sink between
 * some rows (a row the module left to JavaScript): every record each shard's tables get, in order.
 */
function run(direct: boolean, reads: number): string[][] {
  const got: string[][] = [[], []];
  const sink = new FlowSink(
    { shards: 2, batchSize: 64, maxRejectsKept: 10, ...(direct ? { addRouted: (s: number, rows: FlowBatchData) => got[s]!.push(...records(rows)) } : {}) },
    (s, b) => got[s]!.push(...records(b)),
  );
  const a = areas(2);
  const names = ['p-one', 'p-two', 'europe-west1', 'vm-a', 'vm-b'].map((x) => sink.dict.idOf(x));
  let t = 1_700_000_000;
  for (let r = 0; r < reads; r++) {
    for (let s = 0; s < 2; s++) a.starts[s] = sink.areaStart(s, a);
    a.counts.set(a.starts);
    sink.beginRouted(a);
    const rows = r % 4 === 3 ? 3 : READ_ROWS - (r % 5); // some reads short, none past READ_ROWS a shard
    for (let k = 0; k < rows * 2; k++) {
      const s = (k * 7 + r) % 3 === 0 ? 1 : 0;
      if (a.counts[s]! - a.starts[s]! >= READ_ROWS) continue;
      t++;
      if (k % 11 === 5) {
        // a record the module did not route: the routed rows before it first
        for (let q = 0; q < 2; q++) a.ends[q] = a.counts[q]!;
        const rec = sink.rec;
        rec.clearOptional(2, names[1]!, names[2]!);
        rec.src.set([t, 0, 0, 0]);
        rec.dst.set([0, 0, 0, k]);
        rec.start = t;
        rec.end = t;
        rec.dport = 22;
        sink.appendRouted(s, 1);
        continue;
      }
      const slot = a.counts[s]!++;
      a.src[s]![slot * 4] = t;
      a.dst[s]![slot * 4 + 3] = k;
      a.start[s]![slot] = t;
      a.dport[s]![slot] = 443;
      a.feed[s]![slot] = k % 2 === 0 ? 1 : 2;
      a.account[s]![slot] = names[k % 2]!;
      a.region[s]![slot] = names[2]!;
      a.instance[s]![slot] = k % 2 === 0 ? 0 : names[3 + (r % 2)]!;
    }
    sink.routedUpToCounts();
    sink.endRouted();
  }
  sink.flushAll();
  return got;
}

describe('routed rows added where they lie (FlowSink addRouted)', () => {
  it('reach each shard as the copying sink hands them, in order', () => {
    for (const reads of [1, 2, 3, 7, 20]) {
      const copied = run(false, reads);
      const direct = run(true, reads);
      expect(copied[0]!.length, `reads ${reads}`).toBeGreaterThan(0);
      expect(copied[1]!.length, `reads ${reads}`).toBeGreaterThan(0);
      expect(direct, `reads ${reads}`).toEqual(copied);
    }
  });
});
