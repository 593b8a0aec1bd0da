/**
 * The cheap paths of JSON input (issue 19, target 4): sniffing a one-line JSON head
 * without splitting or parsing it when it cannot be AWS text or an aws-json wrapper, and
 * a plain document read whole with one sync read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { sniffFormat } from '../dist/src/formats/sniff.js';
import { readPlainReused, readWhole, InputError } from '../dist/src/input/read.js';

const sniff = (text: string) => sniffFormat(new Uint8Array(Buffer.from(text)), 'x');
const NSG_RECORD = {
  time: '2024-03-01T02:06:30Z',
  category: 'NetworkSecurityGroupFlowEvent',
  resourceId: '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG',
  properties: { Version: 2, flows: [{ rule: 'r', flows: [{ mac: '000D3A000001', flowTuples: ['1709258762,46.29.115.251,10.2.0.5,9384,3306,T,I,D,B,,,,'] }] }] },
};
const V2_LINE = '2 123456789012 eni-0a1b2c3d 198.51.100.7 10.0.0.5 40000 22 6 1 40 1709258762 1709258822 REJECT OK';

describe('sniffing one-line JSON heads', () => {
  it('an Azure blob written as one line is Azure, however many records it holds', () => {
    expect(sniff(JSON.stringify({ records: Array.from({ length: 200 }, () => NSG_RECORD) }))).toBe('azure-nsg');
  });

  it('an aws-json wrapper is still one when its key is written with \\u escapes', () => {
    expect(sniff(`{"message":"${V2_LINE}"}\n`)).toBe('aws-json');
    expect(sniff(`{"\\u006dessage":"${V2_LINE}","id":1}\n`)).toBe('aws-json');
    expect(sniff(`{"id":1,"\\u006dessage":"${V2_LINE}"}\n`)).toBe('aws-json');
  });

  it('the Azure category named first decides, wherever in the head, after white space or not', () => {
    const vnet = { ...NSG_RECORD, category: 'FlowLogFlowEvent' };
    const blob = (records: object[]) => JSON.stringify({ records });
    expect(sniff(blob([NSG_RECORD, vnet]))).toBe('azure-nsg');
    expect(sniff(blob([vnet, NSG_RECORD]))).toBe('azure-vnet');
    expect(sniff(blob([vnet]))).toBe('azure-vnet');
    expect(sniff(`\n  \t${blob([...Array.from({ length: 100 }, () => ({ a: 'é'.repeat(50) })), vnet, NSG_RECORD])}`)).toBe('azure-vnet');
    expect(sniff(`\u00a0[${blob([NSG_RECORD])}]`)).toBe('azure-nsg'); // U+00A0 is white space to trimStart
    expect(sniff(`x${blob([NSG_RECORD])}`)).toBe(null);
    // strings that end as the markers do without being one come first: passed over
    const decoys = { a: 'XFlowEvent', b: 'AFlowLogFlowEvent', c: 'aNetworkSecurityGroupFlowEvent', d: '"FlowLogFlowEvent"', e: 'FlowEvent' };
    expect(sniff(blob([decoys, NSG_RECORD, vnet]))).toBe('azure-nsg');
    expect(sniff(blob([decoys, vnet, NSG_RECORD]))).toBe('azure-vnet');
    expect(sniff(blob([decoys]))).toBe(null);
  });

  it('a "message" only on a later line does not make the file an aws-json one', () => {
    const gcpLine = '{"jsonPayload":{"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1"}},"logName":"projects/p/logs/compute.googleapis.com%2Fvpc_flows"}';
    expect(sniff(`${gcpLine}\n{"message":"${V2_LINE}"}\n`)).toBe('gcp');
  });
});

describe('reading a plain document whole', () => {
  const dir = tempDir();

  it('gives the file byte for byte, small or over a read step', async () => {
    for (const n of [0, 1, 30_000, 1_500_000]) {
      const path = join(dir, `doc-${n}.json`);
      const bytes = Buffer.alloc(n, 'x');
      if (n > 0) bytes[n - 1] = 0x7d;
      writeFileSync(path, bytes);
      expect(Buffer.compare(await readWhole(path, false, 1 << 30), bytes)).toBe(0);
    }
  });

  it('refuses a document over the limit, and names why a file cannot be read', async () => {
    const path = join(dir, 'big.json');
    writeFileSync(path, Buffer.alloc(5000, 'x'));
    await expect(readWhole(path, false, 4096)).rejects.toThrow(/exceeds the limit of 4096 bytes/);
    const missing = readWhole(join(dir, 'missing.json'), false, 1 << 20);
    await expect(missing).rejects.toBeInstanceOf(InputError);
    await expect(readWhole(join(dir, 'missing.json'), false, 1 << 20)).rejects.toThrow(/^read: ENOENT/);
    await expect(readWhole(dir, false, 1 << 20)).rejects.toThrow(/^read: EISDIR/);
  });

  it('reads one document after another into one kept buffer, each byte for byte', () => {
    const files = [30_000, 200_000, 10, 0, 20_000_000].map((n, i) => {
      const path = join(dir, `reused-${i}.json`);
      const bytes = Buffer.alloc(n, String.fromCharCode(97 + i));
      writeFileSync(path, bytes);
      return { path, bytes };
    });
    const seen = new Set<ArrayBufferLike>();
    for (const { path, bytes } of [...files, files[0]!]) {
      const got = readPlainReused(path, 1 << 30);
      expect(Buffer.compare(got, bytes)).toBe(0);
      if (bytes.length <= 200_000) seen.add(got.buffer);
    }
    expect(seen.size).toBe(2); // grown once for the 200 kB file, then kept (the 20 MB file had its own)
    expect(() => readPlainReused(files[1]!.path, 4096)).toThrow(/exceeds the limit of 4096 bytes/);
    expect(() => readPlainReused(join(dir, 'missing.json'), 1 << 20)).toThrow(/^read: ENOENT/);
  });

  it('a planned size (no fstat) that is stale either way: the whole file still, byte for byte', () => {
    const path = join(dir, 'planned.json');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => 97 + (i % 26)));
    writeFileSync(path, bytes);
    // the file as planned, grown past the planned size (also past the kept buffer), shrunk, empty
    for (const planned of [bytes.length, 10, 0, 100_000, 5_000_000]) {
      expect(Buffer.compare(readPlainReused(path, 1 << 30, planned), bytes)).toBe(0);
    }
    writeFileSync(path, '');
    expect(readPlainReused(path, 1 << 30, 300_000).length).toBe(0);
    expect(() => readPlainReused(join(dir, 'missing.json'), 1 << 20, 10)).toThrow(/^read: ENOENT/);
  });
});
