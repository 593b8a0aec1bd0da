/**
 * Azure records with long tuple arrays in the WebAssembly reader (assembly/azure-tuples.ts,
 * src/formats/azure-wasm.ts): a record of more than ~262 tuples wrote its tuple spans over the
 * module's static data (the function references its walk calls through), and the walk of that
 * record, or of any record after it in the thread, stopped with "table index is out of bounds"
 * (detect: the file failed). Records of 1 to 20,000 tuples, one array or many, NSG and VNet,
 * read by the module as by the JavaScript reader, and detect reads a blob of them whole.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBytes } from './helpers/read-format.js';
import { routedBy } from './helpers/routed.js';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { detect } from '../dist/src/engine/run.js';
import { FlowSink } from '../dist/src/flow/sink.js';
import { AzureWasm, AZURE_WASM_TUPLES, azureWasm, setAzureReader, type AzureReaderKind } from '../dist/src/formats/azure-wasm.js';
import { readerFor } from '../dist/src/formats/registry.js';

afterAll(() => setAzureReader(process.env.FLOWSIEVE_AZURE_READER === 'js' ? 'js' : 'wasm'));

const WASM_DIR = fileURLToPath(new URL('../dist/wasm/', import.meta.url));

/** The end of a module's active data segments at constant offsets (0: none), read from its data section (id 11). */
function dataSegmentsEnd(wasm: Buffer): number {
  let p = 8;
  const leb = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = wasm[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  let end = 0;
  while (p < wasm.length) {
    const id = wasm[p++]!;
    const size = leb();
    const next = p + size;
    if (id === 11) {
      for (let n = leb(); n > 0; n--) {
        const kind = leb();
        if (kind !== 0) throw new Error(`data segment of kind ${kind}`); // passive or with a memory index: not made by asc here
        if (wasm[p++] !== 0x41) throw new Error('data segment offset is not i32.const');
        let at = leb(); // a signed LEB: the offsets here are small and positive
        if (wasm[p++] !== 0x0b) throw new Error('data segment offset is not a constant');
        const bytes = leb();
        at += bytes;
        p += bytes;
        end = Math.max(end, at);
      }
    }
    p = next;
  }
  return end;
}

const T = 1709258449;
const SIZES = [1, 257, 270, 1000, 20_000];

/** Tuple k of a long array: mostly scanners' (public sources to a few ports), a few the module leaves to JavaScript or the sink rejects. */
function tuple(k: number, vnet: boolean): string {
  const head = `${T + (k % 3000)},${45 + (k % 7)}.${(k >> 8) & 255}.${k & 255}.7,10.2.0.${k % 9},${1024 + (k % 60000)},${[22, 443, 3389][k % 3]}`;
  if (k % 97 === 13) return `${T},2001:db8::${k % 50},10.2.0.5,4400,443,${vnet ? '6,I,B,NX,,,,' : 'T,I,D,B,,,,'}`; // IPv6: the JavaScript readers
  if (k % 89 === 7) return `${head.slice(0, 12)}`; // truncated: a reject
  return vnet ? `${head},6,I,${k % 5 === 0 ? 'D' : 'B'},NX,${k % 4},${k % 700},0,0` : `${head},T,I,${k % 5 === 0 ? 'A' : 'D'},${k % 5 === 0 ? 'E' : 'B'},${k % 4 ? '' : '3'},${k % 4 ? '' : '190'},${k % 4 ? '' : '1'},${k % 4 ? '' : '60'}`;
}
function tuples(n: number, vnet: boolean, from = 0): string[] {
  return Array.from({ length: n }, (_, k) => tuple(from + k, vnet));
}

const NSG_ID = '/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
/** An NSG record of MAC groups, each {mac, flowTuples} (mac: none when null), in `rules` rules. */
function nsgRecord(groups: Array<{ mac: string | null; tuples: string[] }>, rules = 1): string {
  const group = (g: { mac: string | null; tuples: string[] }) => `{${g.mac === null ? '' : `"mac":"${g.mac}",`}"flowTuples":${JSON.stringify(g.tuples)}}`;
  const per = Math.ceil(groups.length / rules);
  const ruleList = Array.from({ length: rules }, (_, r) => `{"rule":"R${r}","flows":[${groups.slice(r * per, (r + 1) * per).map(group).join(',')}]}`);
  return `{"time":"2024-03-01T02:00:30Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"${NSG_ID}","properties":{"Version":2,"flows":[${ruleList.join(',')}]}}`;
}
/** A VNet record of flow groups (each a flowTuples array) in `acls` flows[] entries. */
function vnetRecord(groups: string[][], acls = 1, mac = '00-0D-3A-11-22-33'): string {
  const per = Math.ceil(groups.length / acls);
  const flows = Array.from({ length: acls }, (_, a) => `{"aclID":"a${a}","flowGroups":[${groups.slice(a * per, (a + 1) * per).map((t, g) => `{"rule":"R${g}","flowTuples":${JSON.stringify(t)}}`).join(',')}]}`);
  return `{"time":"2024-03-01T02:00:30Z","category":"FlowLogFlowEvent","targetResourceID":"/SUBSCRIPTIONS/1111/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET-1","macAddress":"${mac}","flowRecords":{"flows":[${flows.join(',')}]}}`;
}
/** The long record between short ones of both layouts: the records after it are walked by the module too. */
function blob(long: string): Buffer {
  const short = [nsgRecord([{ mac: '000D3A96D7E2', tuples: tuples(3, false, 7) }]), vnetRecord([tuples(2, true, 11)])];
  return Buffer.from(`{"records":[${[...short, long, ...short, ...short].join(',\n')}]}`);
}

/** The batches a reader hands the shards, with its counters and rejects. */
function route(kind: AzureReaderKind, input: Buffer, shards: number): ReturnType<typeof routedBy> {
  setAzureReader(kind);
  return routedBy({ shards, batchSize: 500 }, (sink) => {
    const reader = readerFor('azure-nsg')!;
    if (reader.kind !== 'document') throw new Error('azure-nsg reads documents');
    reader.parseDocument(input, { sink, file: 't', account: 'acct', region: '' });
  });
}

/** Tuples in the records the module walked (AzureWasm.readRecord) while `read` ran. */
function walkedByModule(read: () => void): number[] {
  const walked: number[] = [];
  const readRecord = AzureWasm.prototype.readRecord;
  AzureWasm.prototype.readRecord = function (this: AzureWasm, ...args: Parameters<AzureWasm['readRecord']>) {
    const end = readRecord.apply(this, args);
    if (end >= 0) walked.push(this.recordTuples);
    return end;
  };
  try {
    read();
  } finally {
    AzureWasm.prototype.readRecord = readRecord;
  }
  return walked;
}

/** Both readers on `input`: the same records (line, offset, every field), counters and rejects, and the same batches routed; the tuples in the records the module walked. */
function expectAlike(input: Buffer, tuplesIn: number): number[] {
  setAzureReader('js');
  const js = readBytes(input, { format: 'azure-nsg', account: 'acct', region: 'r' });
  expect(js.counters.records + js.counters.rejected + js.counters.nodata).toBe(tuplesIn);
  expect(js.gap).toBe(0);
  let walked: number[] = [];
  for (const kind of ['wasm', 'wasm-parse'] as const) {
    walked = walkedByModule(() => {
      setAzureReader(kind);
      expect(readBytes(input, { format: 'azure-nsg', account: 'acct', region: 'r' })).toEqual(js);
    });
  }
  for (const shards of [1, 3]) expect(route('wasm', input, shards)).toEqual(route('js', input, shards));
  return walked;
}

const SHORT_TUPLES = 3 + 2 + 2 * (3 + 2);

describe('Azure records with long tuple arrays in the WebAssembly reader', () => {
  for (const n of SIZES) {
    it(`one flowTuples array of ${n} tuples, NSG and VNet: the records of the JavaScript reader`, () => {
      const nsg = expectAlike(blob(nsgRecord([{ mac: '000D3A96D7E2', tuples: tuples(n, false) }])), n + SHORT_TUPLES);
      const vnet = expectAlike(blob(vnetRecord([tuples(n, true)])), n + SHORT_TUPLES);
      // the module walks every record it has room for (the long one too), and the short ones after it
      const expected = n <= AZURE_WASM_TUPLES ? [3, 2, n, 3, 2, 3, 2] : [3, 2, 3, 2, 3, 2];
      expect(nsg).toEqual(expected);
      expect(vnet).toEqual(expected);
    });
  }

  it('many MAC groups, rules, flow groups and ACLs in one record, below and past the tuples the module holds', () => {
    for (const [groups, each] of [[300, 10], [120, 40], [60, 100]] as const) {
      const macs = Array.from({ length: groups }, (_, g) => ({ mac: g % 7 === 3 ? null : `000D3A${(0x100000 + g).toString(16).toUpperCase()}`, tuples: tuples(each, false, g * each) }));
      const walked = expectAlike(blob(nsgRecord(macs, 1 + (groups % 13))), groups * each + SHORT_TUPLES);
      expect(walked.includes(groups * each)).toBe(groups * each <= AZURE_WASM_TUPLES);
      const flowGroups = Array.from({ length: groups }, (_, g) => tuples(each, true, g * each));
      expectAlike(blob(vnetRecord(flowGroups, 1 + (groups % 11))), groups * each + SHORT_TUPLES);
    }
  });

  it('a long record the JavaScript walk reads (an escape in its time) and the module then reads the tuples of: the records after it still walked by the module', () => {
    for (const n of [300, 4000]) {
      // "\u0032" is '2': the module's walk leaves the record to the JavaScript walk, whose tuple spans (none in its arena) the module then reads
      const long = nsgRecord([{ mac: '000D3A96D7E2', tuples: tuples(n, false) }]).replace('"time":"2024', '"time":"\\u0032024');
      const walked = expectAlike(blob(long), n + SHORT_TUPLES);
      expect(walked).toEqual([3, 2, 3, 2, 3, 2]);
    }
  });

  it('the shards\' areas take no more rows than they hold: a read that would overfill them is refused (the JavaScript reader reads it)', () => {
    setAzureReader('wasm');
    const w = azureWasm()!;
    const t = tuples(AZURE_WASM_TUPLES, false);
    const text = JSON.stringify(t);
    const starts = new Int32Array(t.length);
    const ends = new Int32Array(t.length);
    for (let k = 0, at = 1; k < t.length; at = ends[k]! + 2, k++) {
      starts[k] = at + 1;
      ends[k] = at + 1 + t[k]!.length;
    }
    expect(text.slice(starts[1], ends[1])).toBe(t[1]);
    const sink = new FlowSink({ shards: 3, batchSize: 64, maxRejectsKept: 10 }, () => {});
    expect(w.load(Buffer.from(text), sink)).toBe(true);
    const read = (n: number, keep: boolean) => w.read(starts, ends, n, 1, 2, false, keep);
    expect(read(3000, false)).toBe(true);
    expect(w.routedAreas).not.toBeNull(); // routed into the areas
    expect(read(1097, true)).toBe(false);
    expect(read(1096, true)).toBe(true);
    expect(read(1, true)).toBe(false);
    expect(read(AZURE_WASM_TUPLES, false)).toBe(true);
    expect(read(AZURE_WASM_TUPLES + 1, false)).toBe(false);
  });

  it('the modules that lay their regions from offset 0 have no static data there (the Azure module: below its regions)', () => {
    for (const name of readdirSync(WASM_DIR).filter((n) => n.endsWith('.wasm'))) {
      const data = dataSegmentsEnd(readFileSync(join(WASM_DIR, name)));
      if (name === 'azure-tuples.wasm') {
        expect(data).toBeGreaterThan(1000); // its function references (the walk's members and elements)
        expect(data).toBeLessThanOrEqual(4096); // azure-wasm.ts MODULE_DATA_BYTES
      } else expect(data, name).toBe(0);
    }
  });

  it('detect reads a blob of long records whole (no file failed), at 1 and 2 workers', async () => {
    const dir = tempDir('flowsieve-azure-long-');
    const records = [
      nsgRecord([{ mac: '000D3A96D7E2', tuples: tuples(20_000, false) }]),
      vnetRecord([tuples(1000, true)]),
      nsgRecord([{ mac: '000D3A96D7E2', tuples: tuples(270, false, 50_000) }]),
      vnetRecord(Array.from({ length: 50 }, (_, g) => tuples(100, true, 60_000 + g * 100)), 5),
    ];
    const file = join(dir, 'PT1H.json');
    writeFileSync(file, `{"records":[${records.join(',\n')}]}`);
    setAzureReader('js');
    const expected = readBytes(Buffer.from(`{"records":[${records.join(',\n')}]}`), { format: 'azure-nsg' }).counters.records;
    setAzureReader('wasm');
    for (const over of [{ workers: 1 }, { workers: 2, pipeline: 'sharded' }]) {
      const r = await detect(detectOpts([file], over));
      expect(r.files.map((f) => f.error ?? null)).toEqual([null]);
      expect(r.partial).toBe(false);
      expect(r.totals.records).toBe(expected);
    }
    expect(expected).toBeGreaterThan(25_000);
  }, 60_000);
});
