/**
 * A JSON blob whose path names its format (an Azure PT1H.json under its category's folder,
 * a GCP export under vpc_flows/) is not read by the main thread's planning: it is planned
 * from its name, and the parse thread that reads it checks that on its head
 * (input/plan.ts planFromHead); a blob of other content, or whose head cannot be read, is
 * handed back and planned on the main thread as every file was before. Whatever a blob
 * holds, its report and the verdicts must be those of the same bytes under a path that
 * names no format.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { expectReportsAlike, expectVerdictsAlike } from './helpers/planned-alike.js';
import { detect } from '../dist/src/engine/run.js';
import { planInputs } from '../dist/src/input/plan.js';

const dir = tempDir('flowsieve-json-by-name-');
const byName = join(dir, 'named'); // paths that name a format: planned by the parse threads
const byHead = join(dir, 'plain'); // the same bytes under paths that name none: planned on the main thread
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const NSG = 'insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
const VNET = 'insights-logs-flowlogflowevent/flowLogResourceID=/S1/RG/FLOWLOG';

/** An NSG blob in which one source probes port 22 of many addresses (a scan to find). */
function scanBlob(): Buffer {
  const tuples = Array.from({ length: 40 }, (_, k) => `"${1709287200 + k},45.9.1.1,10.0.${k >> 4}.${(k & 15) + 4},5${k},22,T,I,D,B,1,60,0,0"`);
  const flows = `[{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"00-0d-3a-f8-78-56","flowTuples":[${tuples.join(',')}]}]}]`;
  return Buffer.from(`{"records":[{"time":"2024-03-01T10:00:00.0000000Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":${flows}}}]}`);
}

/** Every blob of the test: its path below the root (its name naming a format) and its bytes. */
function blobs(): Array<[string, Buffer]> {
  const fixture = (f: string) => readFileSync(join(FIXTURES, f));
  const nsg = fixture('azure-nsg-states.json');
  const damagedGzip = gzipSync(nsg);
  damagedGzip.fill(0xff, 12, 40);
  return [
    [`${NSG}/h=00/PT1H.json`, scanBlob()],
    [`${NSG}/h=01/PT1H.json`, nsg],
    [`${NSG}/h=02/PT1H.json.gz`, gzipSync(nsg)],
    [`${VNET}/h=01/PT1H.json`, fixture('azure-vnet-states.json')],
    // not what the name says
    [`${NSG}/h=03/PT1H.json`, fixture('azure-vnet-states.json')],
    [`${VNET}/h=02/PT1H.json`, nsg],
    [`${NSG}/h=04/PT1H.json`, fixture('gcp-cases.ndjson')],
    [`${NSG}/h=05/PT1H.json`, Buffer.from('this is no flow log\n')],
    [`${NSG}/h=06/PT1H.json`, gzipSync(nsg)], // gzip, named plain
    // damaged: a head that does not inflate, a blob that stops in its middle, bad UTF-8, empty
    [`${NSG}/h=07/PT1H.json.gz`, damagedGzip],
    [`${NSG}/h=08/PT1H.json`, fixture('azure-truncated.json')],
    [`${NSG}/h=09/PT1H.json`, fixture('azure-bad-utf8.json')],
    [`${NSG}/h=10/PT1H.json`, Buffer.alloc(0)], // never planned by name (size 0)
    [`${NSG}/h=11/PT1H.json.gz`, gzipSync('')],
    // GCP exports: NDJSON, and an array (gcp-json, not what the name says)
    ['gcp/p1/compute.googleapis.com/vpc_flows/2024/03/01/00:00:00_00:59:59_S0.json', fixture('gcp-cases.ndjson')],
    ['gcp/p1/compute.googleapis.com/vpc_flows/2024/03/01/01:00:00_01:59:59_S0.json', fixture('gcp-array.json')],
    ['gcp/p1/compute.googleapis.com/vpc_flows/2024/03/01/02:00:00_02:59:59_S0.json', fixture('gcp-array-truncated.json')],
    ['gcp/p1/compute.googleapis.com/vpc_flows/2024/03/01/03:00:00_03:59:59_S0.json', fixture('aws-firehose.ndjson')],
  ];
}

/** The path of the same blob under byHead: no PT1H.json, no vpc_flows folder. */
const plainPath = (p: string): string => p.replace('PT1H.json', 'pt1h.json').replace('/vpc_flows/', '/vpc-flows/');

/** A report as files.ndjson has it, its path as under byName. */
const comparable = <R extends { path: string }>(r: R): R => ({
  ...r,
  path: r.path.replace(byHead, byName).replace('pt1h.json', 'PT1H.json').replace('/vpc-flows/', '/vpc_flows/'),
});

let viaThread: Awaited<ReturnType<typeof detect>>;
let viaMain: Awaited<ReturnType<typeof detect>>;

beforeAll(async () => {
  for (const [path, bytes] of blobs()) {
    for (const [root, p] of [[byName, path], [byHead, plainPath(path)]] as const) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), bytes);
    }
  }
  viaThread = await detect(detectOpts([byName], { workers: 2 }));
  viaMain = await detect(detectOpts([byHead], { workers: 2 }));
}, 60_000);

describe('JSON blobs planned from their names by the parse threads', () => {
  it('plan only the blobs whose path names their format, and not past the size read whole', () => {
    const plan = (below: number) => planInputs([byName], { sniffInThread: true, jsonByNameBelow: below, quickHeadBelow: 8 << 20 });
    const named = plan(8 << 20).filter((f) => f.sniffInThread && f.format !== 'aws-text');
    expect(named.map((f) => f.format).sort()).toEqual([...Array(11).fill('azure-nsg'), 'azure-vnet', 'azure-vnet', 'gcp', 'gcp', 'gcp', 'gcp']);
    expect(planInputs([byHead], { sniffInThread: true, jsonByNameBelow: 8 << 20, quickHeadBelow: 8 << 20 }).filter((f) => f.sniffInThread && f.format !== 'aws-text')).toEqual([]);
    expect(plan(1).filter((f) => f.sniffInThread && f.format !== 'aws-text')).toEqual([]);
  });

  it('read blobs of every kind, and report the damaged ones', () => {
    const formats = new Set(viaThread.files.map((f) => f.format));
    expect([...formats]).toEqual(expect.arrayContaining(['azure-nsg', 'azure-vnet', 'gcp', 'gcp-json', 'aws-json']));
    expect(viaThread.files.filter((f) => f.error).length).toBeGreaterThan(3);
    expect(viaThread.totals.records).toBeGreaterThan(20);
  });

  it('report every blob as planning it on the main thread does, errors with their file and line', () => expectReportsAlike(viaThread, viaMain, comparable));

  it('give the same verdicts', () => expectVerdictsAlike(viaThread, viaMain));
});
