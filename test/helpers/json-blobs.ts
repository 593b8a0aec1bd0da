/**
 * Folders of Azure blobs for tests (test/json-here.test.ts, test/blobs-ahead.test.ts): blobs with
 * scans, the damaged and misnamed ones json-by-name reads, written under a root as Azure names
 * them, and a run's results without what depends on the machine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
export const fixture = (f: string): Buffer => readFileSync(join(FIXTURES, f));
export const NSG = 'insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
export const VNET = 'insights-logs-flowlogflowevent/flowLogResourceID=/S1/RG/FLOWLOG';
export const GCP = 'p1/compute.googleapis.com/vpc_flows/2024/03/01';

/** An NSG blob in which source `src` probes port 22 of `n` addresses from minute `minute` on. */
export function scanBlob(src: string, n: number, minute: number): Buffer {
  const tuples = Array.from({ length: n }, (_, k) => `"${1709287200 + minute * 60 + k},${src},10.0.${k >> 4}.${(k & 15) + 4},5${k},22,T,I,D,B,1,60,0,0"`);
  const flows = `[{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"00-0d-3a-f8-78-56","flowTuples":[${tuples.join(',')}]}]}]`;
  return Buffer.from(`{"records":[{"time":"2024-03-01T10:00:00.0000000Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":${flows}}}]}`);
}

/** Azure blobs, several with scans, and the damaged and misnamed ones json-by-name reads. */
export function azureBlobs(): Array<[string, Buffer]> {
  const nsg = fixture('azure-nsg-states.json');
  const blobs: Array<[string, Buffer]> = [];
  for (let h = 0; h < 12; h++) blobs.push([`${NSG}/h=${String(h).padStart(2, '0')}/PT1H.json`, scanBlob(`45.9.1.${1 + h}`, 12 + h * 3, h * 30)]);
  blobs.push(
    [`${NSG}/h=12/PT1H.json`, nsg],
    [`${VNET}/h=01/PT1H.json`, fixture('azure-vnet-states.json')],
    [`${NSG}/h=13/PT1H.json`, fixture('azure-vnet-states.json')], // not what the name says
    [`${NSG}/h=15/PT1H.json`, Buffer.from('this is no flow log\n')],
    [`${NSG}/h=16/PT1H.json`, gzipSync(nsg)], // gzip, named plain
    [`${NSG}/h=17/PT1H.json`, fixture('azure-truncated.json')],
    [`${NSG}/h=18/PT1H.json`, fixture('azure-bad-utf8.json')],
    [`${NSG}/h=19/PT1H.json`, Buffer.alloc(0)],
    [`${NSG}/h=20/PT1H.json`, Buffer.from(scanBlob('45.9.9.9', 30, 5).toString().slice(0, 900))], // cut in its middle
  );
  return blobs;
}

/** The blobs written under `root`, each at its path (folders made). */
export function writeBlobs(root: string, blobs: Array<[string, Buffer]>): string {
  for (const [path, bytes] of blobs) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  return root;
}

/** What a run writes, less what depends on the machine (time, memory). */
export function canon(r: any): string {
  const files = [...r.files].sort((a: any, b: any) => (a.path < b.path ? -1 : 1));
  return JSON.stringify({
    scans: r.scans, near: r.nearMisses, days: r.endpointDays, alerts: r.alerts, findings: r.findings,
    files, totals: r.totals, rejects: r.rejects, keys: r.keys, entries: r.entries, partial: r.partial, bytesIn: r.bytesIn,
  });
}

