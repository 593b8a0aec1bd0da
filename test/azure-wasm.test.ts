/**
 * The Azure tuple reader in WebAssembly (assembly/azure-tuples.ts, src/formats/azure-wasm.ts)
 * against the JavaScript reader (azure-fast.ts and the tuple readers): the same records,
 * counters and rejects (line, offset, reason, text) on the fixtures, on hostile tuples and
 * on random damage; and the module takes the usual tuples (so the comparison is not between
 * two JavaScript runs).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, fixture, readBytes, type ReadResult } from './helpers/read-format.js';
import { NSG_V1, NSG_V2 as SHARED_NSG_V2, VNET } from './helpers/azure-tuples.js';
import { damage, seeded } from './helpers/damage.js';
import { expectReadersAlike, routedBy } from './helpers/routed.js';
import { FlowRecord, FlowSink, type SinkOptions } from '../dist/src/flow/sink.js';
import type { FlowBatchData } from '../dist/src/flow/batch.js';
import { AzureWasm, azureWasm, setAzureReader, type AzureReaderKind } from '../dist/src/formats/azure-wasm.js';
import { readerFor } from '../dist/src/formats/registry.js';

afterAll(() => setAzureReader(process.env.FLOWSIEVE_AZURE_READER === 'js' ? 'js' : 'wasm'));

// the shared tuples and one with 15-digit counters
const NSG_V2 = [...SHARED_NSG_V2, '1709258541,10.2.0.5,10.2.0.11,54802,22,T,O,A,E,999999999999999,999999999999999,5,3235'];
const HOSTILE = [
  '1709258449,,10.2.0.5,4400,443,T,I,D,B,,,,', // no source: no flow
  '1709258449,2001:db8::1,10.2.0.5,4400,443,T,I,D,B,,,,', // IPv6
  '1709258449,010.2.0.5,10.2.0.5,4400,443,T,I,D,B,,,,', // a leading zero
  '1709258449,10.2.0.256,10.2.0.5,4400,443,T,I,D,B,,,,',
  '1709258449,10.2.0,10.2.0.5,4400,443,T,I,D,B,,,,', // truncated address
  // addresses of every length about the sixteen bytes the module reads at once
  '1709258449,100.200.100.2001,10.2.0.5,4400,443,T,I,D,B,,,,',
  '1709258449,1.2.3.4.5,10.2.0.5,4400,443,T,I,D,B,,,,',
  '1709258449,1..2.3,10.2.0.5,4400,443,T,I,D,B,,,,',
  '1709258449,10.2.0.5,1.2.3.4 ,4400,443,T,I,D,B,,,,',
  '1709258449,10.2.0.5,1.2.3.4',
  '1709258449,10.2.0.5,1234567890123456789012,4400,443,T,I,D,B,,,,',
  // the address ends at the first ',' of the sixteen bytes read at once: fifteen characters
  // and the comma sixteenth, an address that runs to the tuple's end with a ',' just past it
  // in the blob, the shortest address, a part of four digits in fifteen characters
  '1709258449,255.255.255.255,255.255.255.254,4400,443,T,I,D,B,,,,',
  '1709258449,10.2.0.5,255.255.255.255',
  '1709258449,10.2.0.5,1.2.3.4',
  '1709258449,1.2.3.4,5.6.7.8,4400,443,T,I,D,B,,,,',
  '1709258449,1.2.3.4,1.2.3.4567,4400,443,T,I,D,B,,,,',
  '1709258449,10.2.0.5,10.2.0.6,123456,443,T,I,D,B,,,,', // a six-digit port
  '1709258449,10.2.0.5,10.2.0.6,99999,443,T,I,D,B,,,,', // a five-digit port out of range
  '17092584490000,10.2.0.5,10.2.0.6,1,443,T,I,D,B,,,,', // 14-digit time
  '1709258449000000000000,10.2.0.5,10.2.0.6,1,443,T,I,D,B,,,,', // a huge time
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1234567890123456,2,3,4', // a 16-digit counter
  '1709258449,10.2.0.5,10.2.0.6,1,443,6,I,D,B,,,,', // a numeric protocol in NSG
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,X,D,B,,,,',
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3', // 12 fields
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4,5', // 14 fields
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,x,3,4',
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,-4',
  '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A',
  '1709258449,10.2.0.5,10.2.0', // truncated tuple
  '1709258449',
  ' 1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4',
  '',
  '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,X,NX,0,0,0,0',
  '1709258449000,46.36.230.222,10.2.0.5,4400,443,1234,I,D,NX,0,0,0,0',
  '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D,NX,0,0,0,0,',
  '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D',
];

function blob(records: string[]): string {
  return `{"records":[${records.join(',\n')}]}`;
}
function nsgRecord(tuples: string[], version: number | string | null = 2): string {
  const v = version === null ? '' : `"Version":${typeof version === 'string' ? `"${version}"` : version},`;
  return (
    '{"time":"2024-03-01T02:00:30Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",' +
    `"properties":{${v}"flows":[{"rule":"R","flows":[{"mac":"000D3A96D7E2","flowTuples":${JSON.stringify(tuples)}},{"flowTuples":${JSON.stringify(tuples.slice(0, 2))},"mac":"00-0d-3a-11-22-33"}]}]}}`
  );
}
function vnetRecord(tuples: string[]): string {
  return (
    '{"time":"2024-03-01T02:00:30Z","category":"FlowLogFlowEvent","targetResourceID":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET-1",' +
    `"macAddress":"00-0D-3A-11-22-33","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":${JSON.stringify(tuples)}}]}]}}`
  );
}

/** The batches a reader hands the shards (through the sink as the engine runs it), with its counters and rejects. */
function route(kind: AzureReaderKind, input: Buffer | Buffer[], opts: Partial<SinkOptions>, region: string) {
  setAzureReader(kind);
  return routedBy(opts, (sink) => {
    const reader = readerFor('azure-nsg')!;
    if (reader.kind !== 'document') throw new Error('azure-nsg reads documents');
    for (const doc of Array.isArray(input) ? input : [input]) reader.parseDocument(doc, { sink, file: 't', account: 'default-acct', region });
  });
}

/** A tuple with every field that bears on its fate drawn at random (a few out of range, or not taken by the module). */
function randomTuple(k: number, vnet: boolean): string {
  const r = seeded(k + 1);
  const pick = <T>(xs: T[]): T => xs[r(xs.length)]!;
  const ip = () => pick(['46.36.230.222', `203.0.113.${r(256)}`, `45.${r(256)}.${r(256)}.7`, `10.2.0.${r(256)}`, '192.168.1.9', '2001:db8::1']);
  const time = pick(['1709258449', `17092584${10 + r(80)}`, `17092584${10 + r(80)}123`, '99999999999', '4294967296']);
  const head = `${time},${ip()},${ip()},${pick(['53', '443', '1023', '1024', '9620', '70000'])},${pick(['22', '443', '1024', '8080', '99999'])}`;
  const counters = pick([',,,', '5,525,5,3235', '0,0,1,2']);
  if (vnet) return `${head},${pick(['6', '17', '1', '58', '300'])},${pick(['I', 'O'])},${pick(['B', 'C', 'E', 'D'])},NX,${counters}`;
  return `${head},${pick(['T', 'U'])},${pick(['I', 'O'])},${pick(['A', 'D'])},${pick(['B', 'C', 'E'])},${counters}`;
}

/** A blob of 20 records of 12 random tuples each (a third VNet), and one of 6,000 such: past the module's first 4 MiB. */
function smallAndBig(): [Buffer, Buffer] {
  const records = (n: number, from: number) =>
    Array.from({ length: n }, (_, i) => {
      const tuples = Array.from({ length: 12 }, (_, k) => randomTuple((from + i) * 100 + k, i % 3 === 2));
      return i % 3 === 2 ? vnetRecord(tuples) : nsgRecord(tuples, 2);
    });
  return [Buffer.from(blob(records(20, 0))), Buffer.from(blob(records(6000, 20)))];
}

function read(input: Buffer, kind: 'js' | 'wasm'): ReadResult {
  setAzureReader(kind);
  return readBytes(input, { format: 'azure-nsg', account: 'default-acct', region: 'default-region' });
}

/** Both readers: everything the same. */
function same(input: Buffer | string): ReadResult {
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  const js = read(buf, 'js');
  expect(read(buf, 'wasm')).toEqual(js);
  return js;
}

/** The module's verdict on one tuple: taken or not (and when taken, the record the JavaScript fast path reads). */
function wasmTakes(layout: 'nsg' | 'vnet', tuple: string, version = 2): boolean {
  setAzureReader('wasm');
  const w = azureWasm()!;
  const b = Buffer.from(`"${tuple}"`);
  expect(w.load(b)).toBe(true);
  expect(w.read(Int32Array.of(1), Int32Array.of(b.length - 1), 1, layout === 'nsg' ? 1 : 2, version)).toBe(true);
  return w.take(new FlowRecord(), 0);
}

describe('Azure tuple reader in WebAssembly', () => {
  it('takes the usual tuples of each layout', () => {
    for (const t of NSG_V2) expect(wasmTakes('nsg', t), t).toBe(true);
    for (const t of NSG_V1) expect(wasmTakes('nsg', t, 1), t).toBe(true);
    for (const t of VNET) expect(wasmTakes('vnet', t), t).toBe(true);
    for (const t of HOSTILE.slice(1, 6)) expect(wasmTakes('nsg', t), t).toBe(false);
  });

  it('reads usual and hostile tuples as the JavaScript reader does', () => {
    const text = blob([
      nsgRecord(NSG_V2),
      nsgRecord(NSG_V1, 1),
      nsgRecord([...NSG_V1, ...NSG_V2], null),
      nsgRecord(NSG_V2, 0),
      nsgRecord(NSG_V2, '2'),
      nsgRecord(NSG_V2, 7),
      nsgRecord(HOSTILE),
      nsgRecord([...HOSTILE, ...NSG_V1], 1),
      vnetRecord(VNET),
      vnetRecord([...HOSTILE, ...VNET]),
      nsgRecord(['ESCAPED', ...NSG_V2]),
    ]).replace('ESCAPED', '1709258449,\\u0034\\u0036.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,'); // an escaped tuple: the record goes to JavaScript
    const r = same(text);
    expect(r.counters.records).toBeGreaterThan(40);
    expect(r.counters.rejected).toBeGreaterThan(20);
    expect(r.gap).toBe(0);
    // a blob cut inside a tuple, and inside a record
    same(text.slice(0, text.indexOf('10.2.0.256') + 4));
    same(text.slice(0, text.lastIndexOf('"flowTuples"')));
  });

  it('random damage to the tuples of a blob: the same records, counters and rejects', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabet = '0123456789.,:TUIOADBCEX- ';
    const damaged = (pool: string[]) =>
      pool.map((t) => {
        const chars = t.split('');
        for (let k = rnd(3); k > 0; k--) {
          const at = rnd(chars.length + 1);
          const op = rnd(3);
          if (op === 0) chars[at] = alphabet[rnd(alphabet.length)]!;
          else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
          else chars.splice(at, 1);
        }
        return chars.join('');
      });
    const records: string[] = [];
    for (let i = 0; i < 300; i++) records.push(i % 3 === 2 ? vnetRecord(damaged(VNET)) : nsgRecord(damaged(i % 3 ? NSG_V1 : NSG_V2), [0, 1, 2][rnd(3)]!));
    const r = same(blob(records));
    expect(r.counters.records).toBeGreaterThan(300); // much damage keeps tuples readable
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it.skipIf(!HAVE_FIXTURES)('the fixtures: the same records, counters and rejects', () => {
    const files = [
      'azure-nsg/msdocs/nsg-flow-logs-overview.v2-sample.json',
      'azure-nsg/msdocs/nsg-flow-logs-overview.v1-sample.json',
      'azure-nsg/elastic-integrations/testdata.log',
      'azure-nsg/elastic-integrations/test-nsg.log',
      'azure-vnet/msdocs/vnet-flow-logs-overview.sample.json',
      'azure-vnet/elastic-integrations/testdata.log',
      'azure-vnet/elastic-integrations/test-vnet.log',
    ];
    let records = 0;
    for (const f of files) {
      const path = fixture(f);
      expect(path, f).not.toBeNull();
      records += same(readFileSync(path!)).counters.records;
    }
    expect(records).toBeGreaterThan(10);
  });

  it('routes tuples into the batches of the shards as the emit of the sink does, with every option that bears on it', () => {
    const T = 1709258449;
    const options: Array<Partial<SinkOptions>> = [
      {}, { shards: 1 }, { shards: 5, batchSize: 7 }, { timeRange: { from: T + 20, to: T + 60 } }, { notAfter: T + 100 },
      // outbound records in batches of their own (a lane a shard more; past 32 shards not)
      { outboundApart: true }, { shards: 1, outboundApart: true }, { shards: 5, batchSize: 7, outboundApart: true }, { shards: 40, outboundApart: true },
      // more shards than the module has areas for: routed tuples appended from a FlowRecord
      { shards: 70 },
      // emit alone applies these: the module hands every record to it
      { partition: { index: 1, count: 2 } }, { homeNet: ['45.0.0.0/8'] }, { lateBefore: T + 30, windowSeconds: 10 },
    ];
    const records: string[] = [nsgRecord([...NSG_V2, ...HOSTILE])];
    for (let i = 0; i < 60; i++) {
      const tuples = Array.from({ length: 12 }, (_, k) => randomTuple(i * 100 + k, i % 3 === 2));
      records.push(i % 3 === 2 ? vnetRecord(tuples) : nsgRecord(tuples, [1, 2][i % 2]!));
    }
    // a record whose region comes from its resource id, and one without (the file's default)
    records.push(nsgRecord(NSG_V2).replace('"resourceId"', '"location":"westeurope","resourceId"'));
    const input = Buffer.from(blob(records));
    expectReadersAlike(route, input, options, 400);
    const js = route('js', input, {}, '');
    expect(js.counters.responses * js.counters.internal * js.counters.blankRegion * js.counters.outbound * js.counters.inbound * js.counters.rejected).toBeGreaterThan(0);
  });

  it('records read and routed whole in the module (readRun), and every record that must stop a run: the batches of the JavaScript reader', () => {
    const T = 1709258449;
    // routed tuples (public source, to a high port), and one of each kind a run must leave to JavaScript
    const plain = (i: number, n: number) => Array.from({ length: n }, (_, k) => `${T + ((i * 7 + k) % 90)},45.${i % 250}.${k}.7,10.2.0.5,${1024 + k},${443 + (i % 3)},T,I,D,B,,,,`);
    const vplain = (i: number, n: number) => plain(i, n).map((t) => t.replace(',T,I,D,B,,,,', ',6,I,B,NX,0,0,0,0'));
    // one MAC group (nsgRecord adds a second, with another MAC)
    const one = (tuples: string[], version = 2) => nsgRecord(tuples, version).replace(/,\{"flowTuples":.*?"mac":"00-0d-3a-11-22-33"\}/, '');
    const nsg = (i: number, n = 3) => one(plain(i, n));
    const vnet = (i: number, n = 3) => vnetRecord(vplain(i, n));
    const stops = [
      nsg(1).replace('/NSG"', '/OTHER-NSG"'), // another identity
      nsg(2).replace('"mac":"000D3A96D7E2"', '"mac":"000D3A96D7E3"'), // another MAC
      nsg(3).replace('"mac":"000D3A96D7E2",', ''), // no MAC
      nsg(4).replace('"mac":"000D3A96D7E2"', '"mac":"00-0d-3a-96-d7-e2"'), // the same MAC written otherwise
      nsgRecord(plain(5, 2)), // two MAC groups
      one([...plain(6, 2), '1709258449,2001:db8::1,10.2.0.5,4400,443,T,I,D,B,,,,']), // a tuple the module does not take
      one([...plain(7, 2), '1709258449,46.36.230.222,10.2.0.5,4400,70000,T,I,D,B,,,,']), // a port the sink refuses
      one([...plain(8, 2), `${T + 500},46.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,`]), // past notAfter (an option below)
      one(plain(9, 2), 1), // version 1: v2 tuples are not taken
      one([]), // no tuples
      nsg(10).replace('"NetworkSecurityGroupFlowEvent"', '"SomethingElse"'), // a category refused
      nsg(11).replace('"NetworkSecurityGroupFlowEvent"', '"FlowLogFlowEvent"'), // the same resource id, the other layout
      nsg(12).replace('"category":"NetworkSecurityGroupFlowEvent",', ''), // no category: the layout from the flows
      nsg(13).replace('"resourceId"', '"resourceid"'), // a key in another case: the same record
      nsg(14).replace('{"time"', '{ "time"'), // whitespace
      vnet(15),
      vnet(16).replace('"macAddress":"00-0D-3A-11-22-33",', ''), // a VNet record without its MAC
      vnet(17).replace('00-0D-3A-11-22-33', '00-0D-3A-11-22-34'),
      vnet(18).replace('"FlowLogFlowEvent"', '"NetworkSecurityGroupFlowEvent"'),
      // two MAC groups: both the run's MAC (each group's string compared), or only the second
      nsgRecord(plain(19, 2)).replace('"mac":"00-0d-3a-11-22-33"', '"mac":"000D3A96D7E2"'),
      nsgRecord(plain(20, 2)).replace('"mac":"000D3A96D7E2"', '"mac":"000D3A96D7E4"').replace('"mac":"00-0d-3a-11-22-33"', '"mac":"000D3A96D7E2"'),
    ];
    const records: string[] = [];
    for (let i = 0; i < 40; i++) {
      for (let k = 0; k < 4; k++) records.push(i % 5 === 4 ? vnet(i * 10 + k) : nsg(i * 10 + k, 1 + ((i + k) % 4)));
      records.push(stops[i % stops.length]!);
    }
    // a run longer than the areas hold (AZURE_WASM_TUPLES rows), then a blob cut in a record
    for (let i = 0; i < 850; i++) records.push(nsg(1000 + i, 5));
    const text = blob(records);
    const inputs = [Buffer.from(text), Buffer.from(text.slice(0, text.length - 900).replace(/\},\{"time"/g, '},\n  {"time"'))];
    const options: Array<Partial<SinkOptions>> = [{ shards: 1 }, { shards: 5, batchSize: 7 }, { notAfter: T + 100, timeRange: { from: T + 20, to: T + 60 } }, { shards: 70 }];
    // the records the module read whole: after a record (readRun), and from a blob's first or a
    // stop's next record on (readRunFrom)
    let run = 0;
    let from = 0;
    const readRun = AzureWasm.prototype.readRun;
    const readRunFrom = AzureWasm.prototype.readRunFrom;
    AzureWasm.prototype.readRun = function (this: AzureWasm, ...args: Parameters<AzureWasm['readRun']>) {
      const n = readRun.apply(this, args);
      run += n;
      return n;
    };
    AzureWasm.prototype.readRunFrom = function (this: AzureWasm, ...args: Parameters<AzureWasm['readRunFrom']>) {
      const n = readRunFrom.apply(this, args);
      from += n;
      return n;
    };
    try {
      for (const input of inputs) expectReadersAlike(route, input, options, 4000);
    } finally {
      AzureWasm.prototype.readRun = readRun;
      AzureWasm.prototype.readRunFrom = readRunFrom;
    }
    expect(run + from).toBeGreaterThan(5000);
    expect(from).toBeGreaterThan(100);
  });

  it('categories of the right length that are not the names, byte by byte, read as the JavaScript reader reads them', () => {
    const names = ['NetworkSecurityGroupFlowEvent', 'FlowLogFlowEvent'];
    const near: string[] = ['networksecuritygroupflowevent', 'FLOWLOGFLOWEVENT', 'fLOWlOGfLOWeVENT'];
    for (const name of names) {
      // each byte replaced by one a case-blind compare could take for it: its other case, '@', '`', '[', '{', a digit
      for (let k = 0; k < name.length; k += 3) for (const c of ['@', '`', '[', '{', '0', name[k]!.toLowerCase() === name[k] ? name[k]!.toUpperCase() : name[k]!.toLowerCase()]) near.push(name.slice(0, k) + c + name.slice(k + 1));
    }
    const records = near.map((c, i) => nsgRecord(NSG_V2.slice(0, 1 + (i % 3))).replace('"NetworkSecurityGroupFlowEvent"', JSON.stringify(c)));
    const r = same(blob(records));
    expect(r.counters.rejected).toBeGreaterThan(50);
    expect(r.counters.records).toBeGreaterThan(50);
  });

  it('a blob that grows the memory of the module after earlier blobs were routed: the same batches', () => {
    const [small, big] = smallAndBig();
    expect(big.length).toBeGreaterThan(5 << 20);
    const js = route('js', [small, big, small], {}, '');
    expect(route('wasm', [small, big, small], {}, '')).toEqual(js);
    expect(js.counters.records).toBeGreaterThan(20_000);
  });

  it('routed rows kept from blob to blob where they lie (one shard, FlowSink addRouted), a later blob growing the memory: the records the JavaScript reader hands the shard, in order', () => {
    const [small, big] = smallAndBig();
    const input = [small, small, big, small];
    // each record the shard's tables get, by lane (inbound, outbound: FlowSink outboundApart), in order
    const handed = (kind: AzureReaderKind, where: boolean, apart: boolean): string[][] => {
      setAzureReader(kind); // a fresh module: its memory at its first size
      const got: string[][] = [[], []];
      const take = (b: FlowBatchData) => {
        for (let i = 0; i < b.n; i++) {
          const src = Array.from(b.src.subarray(4 * i, 4 * i + 4)).join('.');
          const dst = Array.from(b.dst.subarray(4 * i, 4 * i + 4)).join('.');
          const ids = [b.account[i]!, b.region[i]!, b.iface[i]!, b.instance[i]!].map((k) => b.strings[k]).join('|');
          const row = `${b.feed[i]} ${src} ${dst} ${b.proto[i]} ${b.dport[i]} ${b.packets[i]} ${b.bytes[i]} ${b.start[i]} ${b.end[i]} ${b.cloud[i]}`;
          // an inbound lane's batch: the columns the inbound table reads (FlowBatchData.n)
          if (b.feeds === 1) got[0]!.push(`${row} ${b.strings[b.account[i]!]}|${b.strings[b.region[i]!]}`);
          else got[b.feeds === 2 ? 1 : 0]!.push(`${row} ${b.sport[i]} ${b.action[i]} ${b.direction[i]} ${ids}`);
        }
      };
      const sink = new FlowSink({ shards: 1, batchSize: 4096, maxRejectsKept: 100_000, outboundApart: apart, ...(where ? { addRouted: (_s: number, rows: FlowBatchData) => take(rows) } : {}) }, (_s, b) => take(b));
      const reader = readerFor('azure-nsg')!;
      if (reader.kind !== 'document') throw new Error('azure-nsg reads documents');
      for (const doc of input) reader.parseDocument(doc, { sink, file: 't', account: 'default-acct', region: '' });
      sink.flushAll();
      return got;
    };
    for (const apart of [false, true]) {
      const js = handed('js', false, apart);
      expect(js[0]!.length + js[1]!.length).toBeGreaterThan(10_000);
      expect(handed('wasm', true, apart)).toEqual(js);
      expect(handed('wasm', false, apart)).toEqual(js);
    }
  });

  it('one-tuple records, the real shape: routed rows kept from record to record, between tuples the JavaScript reader emits and past a full area', () => {
    // ~5,500 rows routed by the module in one blob: more than an area holds (AZURE_WASM_TUPLES),
    // so at one shard they are copied out mid-blob; an escaped tuple (read by the JavaScript reader, emitted) and a
    // rejected one come between routed ones, and a second blob follows
    const records = Array.from({ length: 9000 }, (_, i) => {
      const vnet = i % 5 === 4;
      const scanner = `${1709258449 + (i % 300)},45.${(i >> 8) & 255}.${i & 255}.7,10.2.0.${i % 50},${1024 + i},${[22, 443, 3389][i % 3]}`;
      let t = i % 4 === 1 ? randomTuple(i, vnet) : vnet ? `${scanner},6,I,B,NX,,,,` : `${scanner},T,I,D,B,,,,`;
      if (i % 7 === 3) t = t.replace('1709258', '\\u0031709258'); // "\u0031": the arena copy of the tuple
      if (i % 11 === 5) t = t.slice(0, 20);
      return vnet ? vnetRecord([t]) : nsgRecord([t], 2).replace(/,\{"flowTuples":.*?"mac":"00-0d-3a-11-22-33"\}/, '');
    });
    const input = [Buffer.from(blob(records)), Buffer.from(blob(records.slice(0, 300)))];
    for (const opts of [{ shards: 1, batchSize: 5000 }, { shards: 5, batchSize: 7 }]) {
      const js = route('js', input, opts, '');
      expect(route('wasm', input, opts, '')).toEqual(js);
      expect(js.counters.records).toBeGreaterThan(6000);
    }
  });

  it('identities of records the module walked, same or not as the record before: the ids the JavaScript reader gives', () => {
    // resource ids that differ in one byte (the subscription, the name) at equal lengths, an
    // escaped one (read by the JavaScript walk), one absent, NSG and VNet records naming the
    // same strings, MACs written two ways, a second blob of the same length and other ids
    const NSG = '/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
    const ids = [NSG, NSG, NSG.replace('DAF0', 'DAF1'), NSG.replace(/NSG$/, 'NSH'), NSG.replace(/NSG$/, 'NSH'), NSG.replace('RG/', 'R\\u0047/'), NSG, null, NSG];
    const tuple = (i: number) => `${1709258449 + i},45.1.${i}.7,10.2.0.5,4400,${[22, 443][i % 2]},T,I,D,B,,,,`;
    const record = (i: number, id: string | null, mac: string) =>
      i % 4 === 3
        ? vnetRecord([tuple(i).replace(',T,I,D,B,', ',6,I,B,NX,')]).replace(/"targetResourceID":"[^"]*"/, id === null ? '"x":1' : `"targetResourceID":"${id}","flowLogResourceID":"${id}"`).replace('00-0D-3A-11-22-33', mac)
        : nsgRecord([tuple(i)], 2).replace(/"resourceId":"[^"]*"/, id === null ? '"x":1' : `"resourceId":"${id}"`).replace('000D3A96D7E2', mac);
    const records = Array.from({ length: 60 }, (_, i) => record(i, ids[i % ids.length]!, ['000D3A96D7E2', '00-0d-3a-96-d7-e2', '000D3A96D7E3'][(i >> 1) % 3]!));
    // an NSG record and a VNet one naming the same three strings: the same bytes, other identities
    const all3 = `"resourceId":"${NSG}","targetResourceID":"${NSG.replace(/NSG$/, 'VM1')}","flowLogResourceID":"${NSG.replace(/NSG$/, 'LOG')}"`;
    records.splice(30, 0, record(1, NSG, '000D3A96D7E2').replace(/"resourceId":"[^"]*"/, all3), record(3, NSG, '000D3A96D7E2').replace(/"targetResourceID":"[^"]*","flowLogResourceID":"[^"]*"/, all3));
    const first = Buffer.from(blob(records));
    const second = Buffer.from(blob(records.map((r) => r.replaceAll('DAF0655C', 'EEEE655C'))));
    expect(second.length).toBe(first.length);
    const js = route('js', [first, second], {}, '');
    expect(route('wasm', [first, second], {}, '')).toEqual(js);
    const strings = new Set(js.posted.flatMap((b) => b.strings as string[]));
    for (const id of ['daf0655c', 'daf1655c', 'eeee655c']) expect(strings).toContain(`${id}-b0f4-42bb-a14a-49d90c6f8a65`);
    for (const id of ['NSG', 'NSH', 'VM1', 'default-acct', '000D3A96D7E2', '000D3A96D7E3']) expect(strings).toContain(id);
  });

  it('records walked in the module: envelopes written every way, and damaged, read as the JavaScript walk reads them', () => {
    const r = seeded(23);
    const pick = <T>(xs: T[]): T => xs[r(xs.length)]!;
    // the usual form (the first) three times in four, else any of the others
    const often = <T>(xs: T[]): T => (r(4) > 0 ? xs[0]! : pick(xs.slice(1)));
    const cased = (k: string) => pick([k, k, k.toUpperCase(), k[0]!.toUpperCase() + k.slice(1), k.toLowerCase()]);
    const value = (): string => pick(['1', '-2.5e3', '0', 'true', 'false', 'null', '"x"', '"\\u0041b"', '"é"', '[]', '{}', '[1,{"a":[null]}]', '{"b":{"c":"d"}}']);
    const tuples = (vnet: boolean) => JSON.stringify(Array.from({ length: 1 + r(4) }, (_, k) => randomTuple(r(100000) + k, vnet)));
    const nsg = () => {
      const groups = Array.from({ length: r(3) }, () => {
        const parts = [`"${cased('flowTuples')}":${often([tuples(false), tuples(false), '[]', 'null', '"x"', '[1]'])}`];
        const mac = often(['"000D3A96D7E2"', '"00-0d-3a-11-22-33"', '7', 'null', '']);
        if (mac) parts.splice(r(2), 0, `"${cased('mac')}":${mac}`);
        return often([`{${parts.join(',')}}`, `{${parts.join(',')}}`, 'null', '{}']);
      });
      const rules = Array.from({ length: 1 + r(2) }, () => often([`{"rule":"R","${cased('flows')}":[${groups.join(',')}]}`, '{"rule":"R"}', 'null']));
      const props = [`"${cased('Version')}":${often(['2', '2', '1', '0', '"2"', 'null', 'true', '2.5', '-1', '012', '1e3', '99999999999', '{}'])}`, `"${cased('flows')}":${often([`[${rules.join(',')}]`, `[${rules.join(',')}]`, '[]', 'null', '{}'])}`];
      if (r(3) === 0) props.push(`"extra":${value()}`);
      return `"${cased('properties')}":${often([`{${props.join(',')}}`, `{${props.join(',')}}`, '{}', 'null', '[]'])}`;
    };
    const vnet = () => {
      const groups = Array.from({ length: 1 + r(2) }, () => often([`{"rule":"R","${cased('flowTuples')}":${tuples(true)}}`, 'null', '{}']));
      const acls = Array.from({ length: 1 + r(2) }, () => often([`{"aclID":"a","${cased('flowGroups')}":[${groups.join(',')}]}`, 'null', '{"flowGroups":null}']));
      return `"${cased('flowRecords')}":${often([`{"${cased('flows')}":[${acls.join(',')}]}`, `{"${cased('flows')}":[${acls.join(',')}]}`, 'null', '{}', '"x"'])}`;
    };
    // one byte off the two categories (the module compares them letter case aside, as azure.ts does)
    const NEAR_CATEGORIES = ['"NetworkSecurityGroupFlowEven"', '"NetworkSecurityGroupFlowEvenu"', '"NetworkSecurityGroupFlowEvent "', '"FlowLogFlowEvenT"', '"FlowLog@lowEvent"', '"FlowLogFlowEvent\\u0020"', '"FlowLogFlowEven"'];
    const records: string[] = [];
    for (let i = 0; i < 400; i++) {
      const isVnet = r(3) === 0;
      const members = [
        `"time":"2024-03-01T02:00:30Z"`,
        `"${cased('category')}":${often([isVnet ? '"FlowLogFlowEvent"' : '"NetworkSecurityGroupFlowEvent"', isVnet ? '"flowlogflowevent"' : '"NETWORKSECURITYGROUPFLOWEVENT"', '"Other"', 'null', '3', ...NEAR_CATEGORIES])}`,
        isVnet
          ? `"${cased('targetResourceID')}":${often(['"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET-1"', 'null'])}`
          : `"${cased('resourceId')}":${often(['"/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG"', '"/subscriptions/x/\\u0061"', 'null'])}`,
        isVnet ? `"${cased('macAddress')}":${often(['"00-0D-3A-11-22-33"', 'null'])}` : `"operationName":"NetworkSecurityGroupFlowEvents"`,
        isVnet ? vnet() : nsg(),
      ];
      if (r(4) === 0) members.push(`"${often(['systemId', 'x', 'flowLogResourceID', 'category'])}":${value()}`);
      if (r(20) === 0) members.push('"records":[]');
      const rec = often([`{${members.sort(() => r(3) - 1).join(',')}}`, `{${members.join(',')}}`, '{}', `{${members.join(',\n  ')}}`, `{ ${members.join(' , ')} }`]);
      records.push(rec);
    }
    const text = blob(records);
    const clean = same(text);
    expect(clean.counters.records).toBeGreaterThan(100);
    expect(clean.counters.rejected).toBeGreaterThan(20);
    // pretty-printed, and with random bytes replaced, dropped or doubled anywhere
    same(text.replace(/,"/g, ',\r\n\t "').replace(/":/g, '" :\n').replace(/\[/g, '[ '));
    const alphabet = '{}[]":, \n\t0123456789-+.eEtrufalsnxAé\\';
    for (let k = 0; k < 6; k++) same(damage(text, r, alphabet, 40));
  });
});
