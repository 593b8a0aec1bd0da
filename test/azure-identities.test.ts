/**
 * The Azure reader's record identities (account, region, instance, interface) when one sink
 * reads many blobs, as a parse task's files share one: the identities resolved for a blob
 * serve the sink's next blobs only when those are read with the same region map, account and
 * region (src/formats/azure.ts Identities.of), and every tuple gets its own record's MAC
 * (NSG: its flows[] group's; VNet: the record's macAddress), whichever layout came first.
 */
import { describe, expect, it } from 'vitest';
import { FlowSink } from '../dist/src/flow/sink.js';
import { readerFor } from '../dist/src/formats/registry.js';
import type { FlowBatchData } from '../dist/src/flow/batch.js';

const SUB = '11111111-aaaa-4000-8000-000000000001';
const NSG_ID = `/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG`;
const TARGET = `/subscriptions/${SUB}/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/vnet2`;
const TUPLE = '1709258449,46.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,';
const VNET_TUPLE = '1709258456316,37.197.88.88,10.1.0.13,52570,8443,6,I,B,NX,0,0,0,0';

const nsgRecord = (id: string, macs: string[]) =>
  `{"category":"NetworkSecurityGroupFlowEvent","resourceId":"${id}","properties":{"Version":2,"flows":[{"rule":"R","flows":[${macs
    .map((m) => `{"mac":"${m}","flowTuples":["${TUPLE}"]}`)
    .join(',')}]}]}}`;
const vnetRecord = (mac: string | null) =>
  `{"category":"FlowLogFlowEvent",${mac === null ? '' : `"macAddress":"${mac}",`}"targetResourceID":"${TARGET}","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":["${VNET_TUPLE}","${VNET_TUPLE}"]}]}]}}`;
const blob = (...records: string[]) => Buffer.from(`{"records":[${records.join(',')}]}`);

interface Ids {
  account: string;
  region: string;
  iface: string;
  instance: string;
}

/** Reads each blob with its ctx into one sink; the ids of each blob's records, in order. */
function readAll(reads: Array<[Buffer, { regionMap?: Record<string, string>; account?: string; region?: string }]>): Ids[][] {
  let got: Ids[] = [];
  const sink = new FlowSink({ shards: 2, batchSize: 1024, maxRejectsKept: 10 }, (_shard: number, b: FlowBatchData) => {
    for (let i = 0; i < b.n; i++) {
      got.push({ account: b.strings[b.account[i]!]!, region: b.strings[b.region[i]!]!, iface: b.strings[b.iface[i]!]!, instance: b.strings[b.instance[i]!]! });
    }
  });
  const reader = readerFor('azure-nsg');
  if (reader?.kind !== 'document') throw new Error('no Azure reader');
  return reads.map(([buf, c]) => {
    got = [];
    reader.parseDocument(buf, { sink, file: 'test', account: c.account ?? '', region: c.region ?? '', regionMap: c.regionMap });
    sink.flushAll();
    return got;
  });
}

describe('Azure identities over the blobs of one sink', () => {
  it('a blob read with another region map, account or region gets its own', () => {
    const b = blob(nsgRecord(NSG_ID, ['000D3A96D7E2']));
    const mapA = { [SUB]: 'region-a' };
    const regions = readAll([
      [b, { regionMap: mapA }],
      [b, { regionMap: mapA }],
      [b, { regionMap: { [SUB]: 'region-b' } }],
      [b, { regionMap: { [NSG_ID]: 'region-c' } }],
      [b, {}],
      [b, { region: 'fallback' }],
    ]).map((ids) => ids.map((x) => x.region));
    expect(regions).toEqual([['region-a'], ['region-a'], ['region-b'], ['region-c'], [''], ['fallback']]);

    // no subscription in the resource id: the context's account
    const bare = blob(nsgRecord('nsg-without-subscription', ['000D3A96D7E2']));
    const accounts = readAll([
      [bare, { account: 'acct-1' }],
      [bare, { account: 'acct-2' }],
      [b, { account: 'acct-2' }],
    ]).map((ids) => ids.map((x) => x.account));
    expect(accounts).toEqual([['acct-1'], ['acct-2'], [SUB]]);
  });

  it('every tuple gets its MAC whichever layout is read first', () => {
    const nsg = blob(nsgRecord(NSG_ID, ['000D3A96D7E2', '00-0d-3a-11-22-33']));
    const vnet = blob(vnetRecord('00-0D-3A-AA-BB-CC'), vnetRecord(null), vnetRecord('000d3a112233'));
    const want = {
      nsg: [
        { account: SUB, region: '', iface: '000D3A96D7E2', instance: 'WEB-NSG' },
        { account: SUB, region: '', iface: '000D3A112233', instance: 'WEB-NSG' },
      ],
      vnet: ['000D3AAABBCC', '000D3AAABBCC', '', '', '000D3A112233', '000D3A112233'].map((iface) => ({ account: SUB, region: '', iface, instance: 'vnet2' })),
    };
    const sortIds = (ids: Ids[]) => [...ids].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const order of [['nsg', 'vnet', 'nsg'], ['vnet', 'nsg', 'vnet']] as const) {
      const got = readAll(order.map((k) => [k === 'nsg' ? nsg : vnet, {}]));
      order.forEach((k, i) => expect(sortIds(got[i]!)).toEqual(sortIds(want[k])));
    }
  });
});
