import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HAVE_FIXTURES, LOCAL, fixture, readBytes, readPath as readPathRaw, type ReadOptions } from './helpers/read-format.js';

/** Every reader result here must account for every input unit (detection.md §6). */
function readPath(path: string, opts?: ReadOptions) {
  const r = readPathRaw(path, opts);
  expect(r.gap, `accounting gap in ${path}`).toBe(0);
  return r;
}
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';

const fx = HAVE_FIXTURES ? it : it.skip;
if (!HAVE_FIXTURES) console.warn('formats-azure: ../shared/fixtures is absent; the public-fixture tests are skipped');

describe('Azure fixtures (counts as in fixtures/README.md)', () => {
  fx('NSG one record per line (Elastic test-nsg.log): 1 tuple, v2 state E with counters', () => {
    const r = readPath(fixture('azure-nsg/elastic-integrations/test-nsg.log')!);
    expect(r.format).toBe('azure-nsg');
    expect(r.counters).toMatchObject({ lines: 1, records: 1, rejected: 0 });
    expect(r.flows[0]).toMatchObject({ src: '1.128.0.0', dst: '1.128.0.1', sport: 59932, dport: 443, proto: 6, packets: 1, bytes: 66, direction: 'egress', action: 'accept', cloud: 'azure' });
  });

  fx('NSG blob (Elastic testdata.log): 2 records, 11 tuples, 7 inbound denied B with unknown counts', () => {
    const r = readPath(fixture('azure-nsg/elastic-integrations/testdata.log')!);
    expect(r.counters).toMatchObject({ lines: 11, records: 11, nodata: 0, rejected: 0 });
    const denied = r.flows.filter((f) => f.action === 'reject');
    expect(denied).toHaveLength(7);
    for (const f of denied) {
      expect(f.direction).toBe('ingress');
      expect(f.packets).toBeNaN();
      expect(f.bytes).toBeNaN();
    }
    expect(r.flows.filter((f) => f.dport === 8088)).toHaveLength(3);
    expect(r.flows.filter((f) => f.proto === 17)).toHaveLength(1);
    const c = r.flows.find((f) => f.packets === 30)!;
    expect(c).toMatchObject({ bytes: 16978, dst: '13.67.143.115' }); // src→dst counters, not dst→src (24, 14008)
    expect(new Set(r.flows.map((f) => f.account))).toEqual(new Set(['00000000-0000-0000-0000-000000000000']));
    expect(new Set(r.flows.map((f) => f.iface))).toEqual(new Set(['000D3AF87856']));
    expect(new Set(r.flows.map((f) => f.instance))).toEqual(new Set(['FABRIAKMVM1-NSG']));
  });

  fx('NSG v2 docs sample (pretty-printed, leading space): the same 11 tuples', () => {
    const r = readPath(fixture('azure-nsg/msdocs/nsg-flow-logs-overview.v2-sample.json')!);
    expect(r.format).toBe('azure-nsg');
    expect(r.counters).toMatchObject({ lines: 11, records: 11, rejected: 0 });
    expect(r.flows[0]).toMatchObject({ src: '192.0.2.190', dst: '10.5.16.4', proto: 17, line: 18 });
  });

  fx('NSG v1 docs sample: 9 tuples in the 2 records; the nested {"records":…} element is one reject', () => {
    const r = readPath(fixture('azure-nsg/msdocs/nsg-flow-logs-overview.v1-sample.json')!);
    expect(r.counters).toMatchObject({ lines: 10, records: 9, rejected: 1 });
    expect(r.rejects[0]!.reason).toMatch(/itself a \{"records"/);
    expect(r.rejects[0]!.line).toBe(76);
    for (const f of r.flows) {
      expect(f.packets).toBeNaN(); // v1 has no counters
      expect(f.account).toBe('aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e');
    }
    expect(r.flows.filter((f) => f.dport === 3389 && f.action === 'accept')).toHaveLength(7);
    expect(r.flows.find((f) => f.sport === 53)).toMatchObject({ proto: 17, action: 'reject' });
  });

  fx('VNet one record per line (Elastic test-vnet.log): B with zero counters is unknown, E has counts, ms timestamps', () => {
    const r = readPath(fixture('azure-vnet/elastic-integrations/test-vnet.log')!);
    expect(r.format).toBe('azure-vnet');
    expect(r.counters).toMatchObject({ lines: 2, records: 2, rejected: 0 });
    const [b, e] = r.flows;
    expect(b!.packets).toBeNaN();
    expect(e).toMatchObject({ packets: 22, bytes: 2217, start: 1663146003, iface: '0022487BC205', instance: 'myVNet' });
  });

  for (const [name, path] of [
    ['VNet blob (Elastic testdata.log)', 'azure-vnet/elastic-integrations/testdata.log'],
    ['VNet docs sample (pretty-printed)', 'azure-vnet/msdocs/vnet-flow-logs-overview.sample.json'],
  ] as const) {
    fx(`${name}: 1 record, 19 tuples, 9 inbound denied (state D) probes to 10.0.0.6`, () => {
      const r = readPath(fixture(path)!);
      expect(r.format).toBe('azure-vnet');
      expect(r.counters).toMatchObject({ lines: 19, records: 19, rejected: 0 });
      const denied = r.flows.filter((f) => f.action === 'reject');
      expect(denied).toHaveLength(9);
      for (const f of denied) expect(f).toMatchObject({ dst: '10.0.0.6', direction: 'ingress', packets: NaN });
      expect(denied.filter((f) => f.src === '20.55.117.81')).toHaveLength(2);
      expect(r.flows.filter((f) => f.direction === 'egress')).toHaveLength(10);
      expect(new Set(r.flows.map((f) => f.account))).toEqual(new Set(['00000000-0000-0000-0000-000000000000']));
    });
  }
});

describe('Azure NSG flow states and counters (test/fixtures/azure-nsg-states.json)', () => {
  const r = readPath(LOCAL + 'azure-nsg-states.json');
  const at = (line: number) => r.flows.find((f) => f.line === line);

  it('reads v2 then v1 records, whatever the key order (Version and mac after the tuples); one fate per tuple', () => {
    expect(r.format).toBe('azure-nsg');
    expect(r.counters).toMatchObject({ lines: 15, records: 9, nodata: 1, rejected: 5 });
    expect(at(15)).toMatchObject({ src: '45.33.1.3', dport: 3389, action: 'accept', packets: NaN }); // v1
    expect(at(10)!.iface).toBe('000D3AF87856'); // the group's mac came after its tuples
  });

  it('state B and denied flows have unknown counts whatever is written', () => {
    for (const line of [4, 5, 6, 8]) {
      expect(at(line)!.packets, `line ${line}`).toBeNaN();
      expect(at(line)!.bytes, `line ${line}`).toBeNaN();
    }
    expect(at(6)).toMatchObject({ proto: 17, action: 'reject' }); // denied, even in state E
  });

  it('C and E take the src→dst counters; empty counters are unknown, each on its own', () => {
    expect(at(9)).toMatchObject({ packets: 10, bytes: 1000 });
    expect(at(10)!.packets).toBeNaN();
    expect(at(11)!.packets).toBe(3);
    expect(at(11)!.bytes).toBeNaN();
    expect(at(13)).toMatchObject({ direction: 'egress', packets: 4, bytes: 400 });
  });

  it('a tuple without addresses is no-data; MACs are normalised', () => {
    expect(r.flows.find((f) => f.line === 12)).toBeUndefined();
    expect(at(4)!.iface).toBe('000D3AF87856'); // written 00-0d-3a-f8-78-56
  });

  it('says why a tuple is refused, with its line', () => {
    const reasons = r.rejects.map((j) => `${j.line}: ${j.reason}`);
    expect(reasons).toEqual([
      '16: NSG v1 tuple has 13 fields (expected 8)',
      '17: bad protocol (expected T or U)',
      '18: bad direction (expected I or O)',
      // a VNet-layout tuple in an NSG record is not read as VNet: the category decides
      '20: bad flow state (expected B, C or E)',
      '21: NSG v2 tuple has more than 13 fields (expected 13)',
    ]);
  });
});

describe('Azure VNet tuples (test/fixtures/azure-vnet-states.json)', () => {
  const r = readPath(LOCAL + 'azure-vnet-states.json');
  const at = (line: number) => r.flows.find((f) => f.line === line);

  it('timestamps in milliseconds or seconds, told by magnitude', () => {
    expect(at(19)).toMatchObject({ start: 1709287200, end: 1709287200, action: 'reject' }); // ms, state D
    expect(at(20)).toMatchObject({ start: 1709287200, action: 'accept' }); // s, state B
    expect(at(21)).toMatchObject({ start: 1709287260, packets: 3, bytes: 767 }); // ms, fraction dropped
  });

  it('states D and B are unknown counts even when written 0; E with empty counters unknown; E with 0 is 0', () => {
    for (const line of [19, 20, 22]) expect(at(line)!.packets, `line ${line}`).toBeNaN();
    expect(at(23)).toMatchObject({ packets: 0, bytes: 0 });
  });

  it('refuses microseconds, out-of-range ports, unknown states and NSG-style protocol letters', () => {
    const reasons = r.rejects.map((j) => `${j.line}: ${j.reason}`);
    expect(reasons).toEqual([
      '24: timestamp 1709287200123456 is neither Unix seconds nor milliseconds (microseconds?)',
      '25: port out of range 0..65535',
      '26: bad flow state (expected B, C, E or D)',
      '27: bad protocol (expected an IANA number)',
    ]);
    for (const f of r.flows) expect(f.start).toBeLessThan(2 ** 32); // no year-50000 flows
  });

  it('identity: subscription from the target, interface = MAC, instance = target name; IPv6 tuples', () => {
    expect(at(19)).toMatchObject({ account: '22222222-bbbb-4000-8000-000000000002', iface: '0022487BC205', instance: 'vnet2', cloud: 'azure' });
    expect(at(28)).toMatchObject({ src: '2001:db8::1', dst: '2001:db8::2' });
    expect(r.counters.records).toBe(6);
  });
});

describe('Azure region from --region-map', () => {
  const nsg = readFileSync(LOCAL + 'azure-nsg-states.json');
  const vnet = readFileSync(LOCAL + 'azure-vnet-states.json');
  const NSG_ID = '/SUBSCRIPTIONS/11111111-AAAA-4000-8000-000000000001/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG';
  const SUB = '11111111-aaaa-4000-8000-000000000001';
  const region = (buf: Buffer, regionMap: Record<string, string>, fallback = '') =>
    new Set(readBytes(buf, { regionMap, region: fallback }).flows.map((f) => f.region));

  it('the resource id wins over the subscription id, matched without case', () => {
    expect(region(nsg, { [SUB.toUpperCase()]: 'sub-region', [NSG_ID.toLowerCase()]: 'nsg-region' })).toEqual(new Set(['nsg-region']));
  });
  it('a parent resource (the resource group) is more specific than the subscription', () => {
    expect(region(nsg, { [SUB]: 'sub-region', '/subscriptions/11111111-aaaa-4000-8000-000000000001/resourceGroups/rg1': 'rg-region' })).toEqual(new Set(['rg-region']));
  });
  it('then the subscription id, then --region, then ""', () => {
    expect(region(nsg, { [SUB]: 'sub-region', other: 'x' })).toEqual(new Set(['sub-region']));
    expect(region(nsg, { other: 'x' }, 'fallback')).toEqual(new Set(['fallback']));
    expect(region(nsg, {})).toEqual(new Set(['']));
  });
  it('VNet: by the target resource id', () => {
    const target = '/subscriptions/22222222-bbbb-4000-8000-000000000002/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/vnet2';
    expect(region(vnet, { '22222222-bbbb-4000-8000-000000000002': 'sub', [target]: 'westeurope' })).toEqual(new Set(['westeurope']));
  });
});

describe('Azure documents that break', () => {
  it('a blob cut half-way keeps the complete records before the cut, and names where it broke', () => {
    const r = readPath(LOCAL + 'azure-truncated.json');
    expect(r.counters).toMatchObject({ lines: 5, records: 4, rejected: 1 });
    expect(r.flows.map((f) => f.dst)).toEqual(['10.3.0.4', '10.3.0.5', '10.3.0.6', '10.3.0.7']);
    expect(r.rejects[0]!.line).toBe(3);
    expect(r.rejects[0]!.reason).toMatch(/^invalid JSON in records\[2\] \(from line 3\): .* at line 3, column \d+ \(byte \d+\)$/);
  });

  it('invalid UTF-8 in one record rejects that record only', () => {
    const r = readPath(LOCAL + 'azure-bad-utf8.json');
    expect(r.counters).toMatchObject({ lines: 3, records: 2, rejected: 1 });
    expect(r.rejects[0]!.reason).toMatch(/records\[1\].*invalid UTF-8 at line 3/);
    expect(r.flows.map((f) => f.dst)).toEqual(['10.4.0.4', '10.4.0.6']);
  });

  it('garbage and wrong types are rejects, never crashes', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"records":[{"category":"NetworkSecurityGroupFlowEvent","properties":{"flows":"x"}}]}', /properties.flows is not an array/],
      ['{"records":[{"category":"SomethingElse","properties":{}}]}', /category 'SomethingElse'/],
      ['{"records":[{"time":"x"}]}', /no category and no flows/],
      ['{"records":[42]}', /records\[0\] is not an object/],
      ['{"records":[{"category":"FlowLogFlowEvent","flowRecords":{"flows":[{"flowGroups":[{"flowTuples":[1]}]}]}}]}', /not a string/],
      ['{"records":[{"category":"NetworkSecurityGroupFlowEvent",]}', /invalid JSON/],
      ['{"records":[{"category":"NetworkSecurityGroupFlowEvent","resourceId":"\\x"}]}', /bad escape/],
    ];
    for (const [doc, reason] of cases) {
      const r = readBytes(Buffer.from(doc), { format: 'azure-nsg' });
      expect(r.counters, doc).toMatchObject({ lines: 1, rejected: 1 });
      expect(r.gap, doc).toBe(0);
      expect(r.rejects[0]!.reason, doc).toMatch(reason);
    }
  });
});

describe('Azure end to end (detect on a folder)', () => {
  it('finds a scanner probing 12 NICs across subscriptions, with unknown counts, and counts everything', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'nsg'));
    // 12 endpoints in 3 subscriptions; the scanner's tuples are denied state-B (no counts)
    const scanner = '45.77.12.34';
    for (let s = 0; s < 3; s++) {
      const sub = `5555555${s}-eeee-4000-8000-00000000000${s}`;
      const records = [];
      for (let n = 0; n < 4; n++) {
        const tuples = [`1709287${200 + n},${scanner},10.${s}.0.${n + 4},${40000 + n},23,T,I,D,B,,,,`, `1709287${300 + n},10.${s}.0.${n + 4},52.1.1.1,50000,443,T,O,A,E,3,300,3,900`];
        records.push({
          time: '2024-03-01T10:00:00.0000000Z',
          category: 'NetworkSecurityGroupFlowEvent',
          resourceId: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG${n}`,
          properties: { Version: 2, flows: [{ rule: 'DefaultRule_DenyAllInBound', flows: [{ mac: `000D3A00000${n}`, flowTuples: tuples }] }] },
        });
      }
      writeFileSync(join(dir, 'nsg', `PT1H-${s}.json`), JSON.stringify({ records }, null, s === 0 ? 2 : undefined));
    }
    // and a VNet blob in the same folder
    const vnet = fixture('azure-vnet/msdocs/vnet-flow-logs-overview.sample.json');
    if (vnet) writeFileSync(join(dir, 'vnet.json'), readFileSync(vnet));
    const res = await runDetect([dir], { regionMap: { '55555550-eeee-4000-8000-000000000000': 'westeurope' } });
    expect(res.partial).toBe(false);
    expect(res.files.map((f) => f.format).sort()).toEqual(vnet ? ['azure-nsg', 'azure-nsg', 'azure-nsg', 'azure-vnet'] : ['azure-nsg', 'azure-nsg', 'azure-nsg']);
    expect(res.totals.lines).toBe(24 + (vnet ? 19 : 0)); // every tuple is a unit
    expect(res.totals.records).toBe(24 + (vnet ? 19 : 0));
    expect(res.totals.rejected).toBe(0);
    const scan = res.scans.find((v) => v.src === scanner);
    expect(scan).toMatchObject({ protocol: 6, dstPort: 23, endpoints: 12, accounts: 3, clouds: 1, flows: 12, cvPackets: null, cvBytes: null });
    expect(scan!.regions).toBe(2); // westeurope and "" (no region for the other two subscriptions)
    expect(res.scans).toHaveLength(1);
  });
});
