/**
 * The Azure tuple fast path (src/formats/azure-fast.ts) against the tuple readers it
 * stands in front of (nsgTuple, vnetTuple): whatever it takes, it reads exactly as they
 * do; whatever is unusual it leaves to them. And the reader with and without it gives the
 * same records, counters and rejects on whole blobs.
 */
import { describe, expect, it } from 'vitest';
import { readBytes, type ReadResult } from './helpers/read-format.js';
import { damage, seeded } from './helpers/damage.js';
import { FlowRecord } from '../dist/src/flow/sink.js';
import { azureFastPath } from '../dist/src/formats/azure.js';
import { nsgTupleFast, vnetTupleFast } from '../dist/src/formats/azure-fast.js';
import { nsgTuple } from '../dist/src/formats/azure-nsg.js';
import { vnetTuple } from '../dist/src/formats/azure-vnet.js';
import { NSG_V1, NSG_V2, VNET } from './helpers/azure-tuples.js';

const FIELDS = ['sport', 'dport', 'proto', 'packets', 'bytes', 'start', 'end', 'action', 'direction'] as const;
function snapshot(r: FlowRecord) {
  return { ...Object.fromEntries(FIELDS.map((k) => [k, r[k]])), src: [...r.src], dst: [...r.dst] };
}

/** The fast path and the tuple reader on one tuple: the same record whenever the fast path takes it. */
function check(layout: 'nsg' | 'vnet', tuple: string, version = 0): boolean {
  const b = Buffer.from(`"${tuple}"`); // inside a JSON string, as in a blob
  const fast = new FlowRecord();
  const full = new FlowRecord();
  const took = layout === 'nsg' ? nsgTupleFast(fast, b, 1, b.length - 1, version) : vnetTupleFast(fast, b, 1, b.length - 1);
  const why = layout === 'nsg' ? nsgTuple(full, b, 1, b.length - 1, version) : vnetTuple(full, b, 1, b.length - 1);
  if (took) {
    expect(why, tuple).toBeNull();
    expect(snapshot(fast), tuple).toEqual(snapshot(full));
  }
  return took;
}

describe('Azure tuple fast path', () => {
  it('takes the usual tuples of each layout and reads them as the tuple readers do', () => {
    for (const t of NSG_V2) {
      expect(check('nsg', t, 2), t).toBe(true);
      expect(check('nsg', t, 0), t).toBe(true);
    }
    for (const t of NSG_V1) {
      expect(check('nsg', t, 1), t).toBe(true);
      expect(check('nsg', t, 0), t).toBe(true);
    }
    for (const t of VNET) expect(check('vnet', t), t).toBe(true);
  });

  it('leaves the unusual to the tuple readers', () => {
    const nsg = [
      ['1709258449,,10.2.0.5,4400,443,T,I,D,B,,,,', 2], // no source: no flow
      ['1709258449,2001:db8::1,10.2.0.5,4400,443,T,I,D,B,,,,', 2], // IPv6
      ['1709258449,010.2.0.5,10.2.0.5,4400,443,T,I,D,B,,,,', 2], // a leading zero
      ['1709258449,10.2.0.256,10.2.0.5,4400,443,T,I,D,B,,,,', 2],
      ['1709258449,10.2.0,10.2.0.5,4400,443,T,I,D,B,,,,', 2],
      ['1709258449,10.2.0.5,10.2.0.6,123456,443,T,I,D,B,,,,', 2], // a six-digit port
      ['17092584490000,10.2.0.5,10.2.0.6,1,443,T,I,D,B,,,,', 2], // 14-digit time
      ['1709258449,10.2.0.5,10.2.0.6,1,443,6,I,D,B,,,,', 2], // a numeric protocol
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,X,D,B,,,,', 2],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,X,B,,,,', 2],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,X,,,,', 2],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3', 2], // 12 fields
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4,5', 2], // 14 fields
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,x,3,4', 2],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,-4', 2],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4', 1], // v1 with 13 fields
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A', 2], // v2 with 8 fields
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4', 3], // an unknown version
      ['1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4', -1],
      ['1709258449,10.2.0.5,10.2.0.6,1,443,TT,I,A,E,1,2,3,4', 2],
      [' 1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,2,3,4', 2],
      ['', 2],
    ] as const;
    for (const [t, v] of nsg) expect(check('nsg', t, v), t).toBe(false);
    const vnet = [
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,X,NX,0,0,0,0',
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,T,I,D,NX,0,0,0,0', // a letter protocol
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,1234,I,D,NX,0,0,0,0',
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D,NX,0,0,0',
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D',
      '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D,NX,0,0,0,0,',
    ];
    for (const t of vnet) expect(check('vnet', t), t).toBe(false);
  });

  it('random damage: whatever the fast path takes, the tuple readers read the same', () => {
    const rnd = seeded(11);
    const alphabet = '0123456789.,:TUIOADBCEX- ';
    let took = 0;
    for (let i = 0; i < 6000; i++) {
      const vnet = i % 3 === 2;
      const pool = vnet ? VNET : i % 3 === 0 ? NSG_V2 : NSG_V1;
      const tuple = damage(pool[rnd(pool.length)]!, rnd, alphabet, 2, true);
      if (check(vnet ? 'vnet' : 'nsg', tuple, vnet ? 0 : [0, 1, 2][rnd(3)]!)) took++;
    }
    expect(took).toBeGreaterThan(500); // damage that keeps a tuple valid is taken too
  });
});

function blob(records: string[]): string {
  return `{"records":[${records.join(',\n')}]}`;
}
/** An NSG record; `version` null: no Version member (the field count decides). */
function nsgRecord(id: string, tuples: string[], version: number | string | null = 2, mac = '000D3A96D7E2'): string {
  const v = version === null ? '' : `"Version":${typeof version === 'string' ? `"${version}"` : version},`;
  return (
    `{"time":"2024-03-01T02:00:30Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"${id}","operationName":"NetworkSecurityGroupFlowEvents",` +
    `"properties":{${v}"flows":[{"rule":"R","flows":[{"mac":"${mac}","flowTuples":${JSON.stringify(tuples)}}]}]}}`
  );
}
function vnetRecord(target: string, tuples: string[]): string {
  return (
    `{"time":"2024-03-01T02:00:30Z","category":"FlowLogFlowEvent","flowLogResourceID":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/NW/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL",` +
    `"targetResourceID":"${target}","macAddress":"00-0D-3A-11-22-33","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":${JSON.stringify(tuples)}}]}]}}`
  );
}

function read(text: string, fast: boolean): ReadResult {
  azureFastPath.enabled = fast;
  try {
    return readBytes(Buffer.from(text), { format: 'azure-nsg', regionMap: { '/subscriptions/daf0655c-b0f4-42bb-a14a-49d90c6f8a65': 'westeurope' } });
  } finally {
    azureFastPath.enabled = true;
  }
}

describe('Azure reader with and without the tuple fast path', () => {
  const NSG_A = '/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG-EDGE/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/EDGE-NSG';
  const NSG_B = NSG_A.replace('EDGE-NSG', 'EDGE-NSX'); // the same length, one byte apart
  const NSG_C = '/SUBSCRIPTIONS/99999999-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG-EDGE/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/EDGE-NSG';

  it('the same records, counters and rejects on a blob of usual and unusual tuples', () => {
    const text = blob([
      nsgRecord(NSG_A, NSG_V2),
      nsgRecord(NSG_A, NSG_V1, 1),
      nsgRecord(NSG_A, [...NSG_V1, ...NSG_V2], null),
      nsgRecord(NSG_A, NSG_V2, 0),
      nsgRecord(NSG_B, ['1709258449,,10.2.0.5,4400,443,T,I,D,B,,,,', '1709258449,2001:db8::1,10.2.0.5,4400,443,T,I,A,E,1,2,3,4', '1709258449,10.2.0.5,10.2.0.6,1,443,T,I,A,E,1,x,3,4']),
      nsgRecord(NSG_C, NSG_V2, '2'),
      nsgRecord(NSG_A, NSG_V2, 7),
      vnetRecord('/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET-1', [...VNET, '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,X,NX,0,0,0,0']),
      nsgRecord(NSG_A, ['ESCAPED', '1709258449,46.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,']),
    ]).replace('ESCAPED', '1709258449,\\u0034\\u0036.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,'); // an escaped tuple
    const fast = read(text, true);
    expect(fast).toEqual(read(text, false));
    // rejected: 5 tuples of Version 0 and 5 of Version 7, a bad byte count, a bad VNet state; no flow: the empty source
    expect(fast.counters).toMatchObject({ lines: 39, records: 26, nodata: 1, rejected: 12 });
    expect(fast.flows.some((f) => f.src === '2001:db8::1')).toBe(true);
    expect(fast.flows.at(-2)).toMatchObject({ src: '46.36.230.222', line: 9 }); // the escaped tuple
    expect(fast.gap).toBe(0);
  });

  it('records of other resources in one blob each keep their own identity (the last-resource shortcut)', () => {
    const t = ['1709258449,46.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,'];
    const r = read(blob([nsgRecord(NSG_A, t), nsgRecord(NSG_B, t), nsgRecord(NSG_B, t), nsgRecord(NSG_C, t), nsgRecord(NSG_A, t)]), true);
    expect(r.flows.map((f) => f.instance)).toEqual(['EDGE-NSG', 'EDGE-NSX', 'EDGE-NSX', 'EDGE-NSG', 'EDGE-NSG']);
    expect(r.flows.map((f) => f.account)).toEqual([
      'daf0655c-b0f4-42bb-a14a-49d90c6f8a65', 'daf0655c-b0f4-42bb-a14a-49d90c6f8a65', 'daf0655c-b0f4-42bb-a14a-49d90c6f8a65',
      '99999999-b0f4-42bb-a14a-49d90c6f8a65', 'daf0655c-b0f4-42bb-a14a-49d90c6f8a65',
    ]);
    expect(r.flows.map((f) => f.region)).toEqual(['westeurope', 'westeurope', 'westeurope', '', 'westeurope']);
  });
});
