import { describe, expect, it } from 'vitest';
import { DICTIONARY_IDS_CAP, FlowSink } from '../dist/src/flow/sink.js';
import { awsText } from '../dist/src/formats/aws.js';
import { packStrings, shareTable, unpackStrings, type FlowBatchData } from '../dist/src/flow/batch.js';

// SinkOptions.dictionaryIds: a parse sink's batches take its dictionary ids and carry its
// dictionary as their table (flow/sink.ts), packed once and unpacked from where the last table
// ended (flow/batch.ts shareTable, unpackStrings).

const T0 = 1700006400;
const OUTBOUND = 2; // flow/types.ts Feed.outbound (a const enum)

/** AWS v2 lines, inbound and outbound, with `interfaces` interface ids over `accounts` accounts. */
function text(lines: number, interfaces: number, accounts = 3): Buffer {
  const out: string[] = [];
  for (let k = 0; k < lines; k++) {
    const account = String(123456789010 + (k % accounts));
    const eni = `eni-${(k * 7919) % interfaces}`;
    const pub = `45.${k % 7}.3.${k % 200}`;
    const priv = `172.31.0.${k & 255}`;
    out.push(k % 3 === 0 ? `2 ${account} ${eni} ${priv} ${pub} ${40000 + (k % 999)} 22 6 2 80 ${T0 + k} ${T0 + k + 5} ACCEPT OK` : `2 ${account} ${eni} ${pub} ${priv} ${40000 + (k % 999)} 22 6 2 80 ${T0 + k} ${T0 + k + 5} REJECT OK`);
  }
  return Buffer.from(out.join('\n') + '\n');
}

/** Every batch a sink of these options posts for `buf`, each as posted (its table not packed). */
function batchesOf(buf: Buffer, opts: { dictionaryIds?: boolean; outboundApart?: boolean; shards?: number; batchSize?: number }): FlowBatchData[] {
  const posted: FlowBatchData[] = [];
  const sink = new FlowSink({ shards: opts.shards ?? 2, batchSize: opts.batchSize ?? 512, maxRejectsKept: 10, ...opts }, (_s: number, b: FlowBatchData) => posted.push(b));
  awsText.open({ sink, file: 't', account: '', region: '' } as any).parseLines(buf, 0, buf.length, 1, 0);
  sink.flushAll();
  return posted;
}

/** Each row's strings, as its batch's table names them (interface and instance for outbound rows alone: an inbound lane leaves them). */
function rowsOf(batches: FlowBatchData[]): string[] {
  const rows: string[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.n; i++) {
      const ids = [b.account[i]!, b.region[i]!];
      if ((b.feed[i]! & OUTBOUND) !== 0) ids.push(b.iface[i]!, b.instance[i]!);
      rows.push(`${b.feed[i]} ${b.src[i * 4 + 3]} ${b.start[i]} ${ids.map((id) => b.strings[id]).join(' ')}`);
    }
  }
  return rows;
}

describe('dictionary ids', () => {
  for (const outboundApart of [false, true]) {
    it(`a sink's batches name the same strings row for row with its dictionary ids as with their own (outbound apart: ${outboundApart})`, () => {
      const buf = text(6000, 900);
      const own = batchesOf(buf, { outboundApart });
      const dict = batchesOf(buf, { outboundApart, dictionaryIds: true });
      expect(dict.length).toBe(own.length);
      expect(rowsOf(dict)).toEqual(rowsOf(own));
      expect(rowsOf(own).some((r) => r.includes('eni-'))).toBe(true);
      // each table is the dictionary so far: the one before it, grown, and shared while it did not grow
      for (let k = 1; k < dict.length; k++) {
        const [a, b] = [dict[k - 1]!.strings, dict[k]!.strings];
        expect(b.length).toBeGreaterThanOrEqual(a.length);
        expect(b.slice(0, a.length)).toEqual(a);
        if (b.length === a.length) expect(b).toBe(a);
      }
      expect(dict.at(-1)!.strings.length).toBeGreaterThan(300); // the outbound rows' 300 interfaces (an inbound row's is not looked up)
    });
  }

  it('past DICTIONARY_IDS_CAP strings (a new interface a line) batches map their ids to their own again, the filling one too', () => {
    const buf = text(3 * DICTIONARY_IDS_CAP, 1 << 20);
    const own = batchesOf(buf, { batchSize: 1024 });
    const dict = batchesOf(buf, { batchSize: 1024, dictionaryIds: true });
    expect(rowsOf(dict)).toEqual(rowsOf(own));
    // no batch carries more than the cap, and the last ones their own strings only (as many as their rows name, at most)
    expect(Math.max(...dict.map((b) => b.strings.length))).toBeLessThanOrEqual(DICTIONARY_IDS_CAP + 2);
    const last = dict.at(-1)!;
    expect(last.strings.length).toBeLessThanOrEqual(2 * last.n + 8);
    expect(dict.some((b) => b.strings.length > DICTIONARY_IDS_CAP / 2)).toBe(true);
  });

  it('a shared table packs once and unpacks from where the last one ended; the same packed table is the same array', () => {
    const first = ['', ...Array.from({ length: 100 }, (_, k) => `eni-${k}`)];
    const grown = [...first, 'x', 'é', ''.padEnd(300, 'y')];
    shareTable(first, null);
    shareTable(grown, first);
    const batch = (strings: string[]) => ({ strings, packedStrings: '' }) as unknown as FlowBatchData;
    const [a, b, c] = [batch(first), batch(first), batch(grown)];
    for (const x of [a, b, c]) packStrings(x);
    expect(a.strings).toEqual(['']);
    expect(a.packedStrings).toBe(b.packedStrings);
    expect(c.packedStrings!.startsWith(a.packedStrings!)).toBe(true);
    // as a structured clone would hand them over: new strings
    for (const x of [a, b, c]) x.packedStrings = structuredClone(x.packedStrings);
    for (const x of [a, b, c]) unpackStrings(x);
    expect(a.strings).toEqual(first);
    expect(b.strings).toBe(a.strings);
    expect(c.strings).toEqual(grown);
    // a table not shared still packs as before
    const own = batch(['', ...Array.from({ length: 70 }, (_, k) => `i-${k}`)]);
    packStrings(own);
    unpackStrings(own);
    expect(own.strings).toEqual(['', ...Array.from({ length: 70 }, (_, k) => `i-${k}`)]);
  });
});
