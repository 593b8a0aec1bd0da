/**
 * az:// inputs against Azurite (Azure's blob emulator, npm azurite) on loopback, through
 * @azure/storage-blob with a connection string: NSG and VNet flow logs in their own
 * containers and key layout give the scans.ndjson of the same files on disk; --from/--to
 * walk only the y=/m=/d=/h= folders in range (GETs counted); the Azure region comes from
 * the key's NETWORKWATCHER_<REGION>.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { tempDir } from './helpers/tmp.js';
import { expectBucketScansAsOnDisk, generatedLogs } from './helpers/buckets.js';
import { startAzurite, AZURITE_ACCOUNT, type Azurite } from './helpers/azurite.js';
import { runDetect } from './helpers/run.js';

const dir = tempDir('flowsieve-src-az-');
let azurite: Azurite;
let keys: string[] = [];
let root = '';
const CONTAINERS = ['insights-logs-networksecuritygroupflowevent', 'insights-logs-flowlogflowevent'];
const urls = () => CONTAINERS.map((c) => `az://${AZURITE_ACCOUNT}/${c}/`);
const env = () => ({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString });

beforeAll(async () => {
  azurite = await startAzurite(dir);
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  ({ root, keys } = await generatedLogs(dir, 'azure', 1, 6));
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  for (const c of CONTAINERS) await service.getContainerClient(c).create();
  for (const k of keys) {
    const [container, ...name] = k.split('/');
    const body = readFileSync(join(root, k));
    await service.getContainerClient(container!).getBlockBlobClient(name.join('/')).upload(body, body.length);
  }
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

describe('az:// inputs (Azurite)', () => {
  it('detect on the NSG and VNet containers writes the scans.ndjson of detect on the same files on disk', async () => {
    await expectBucketScansAsOnDisk(dir, root, urls(), env(), 'blobs', keys.length);
  }, 60_000);

  it('--from/--to walks only the hour folders in range and GETs only their blobs', async () => {
    const gets: string[] = [];
    const inRange = keys.filter((k) => /\/h=(0[6-9]|1[0-7])\//.test(k));
    expect(inRange.length).toBeGreaterThan(0);
    expect(inRange.length).toBeLessThan(keys.length);
    const r = await runDetect(urls(), {
      timeRange: { from: Date.UTC(2024, 2, 1, 6) / 1000, to: Date.UTC(2024, 2, 1, 18) / 1000 },
      source: { onGet: (u: string) => gets.push(u) },
    });
    expect(gets.sort()).toEqual(inRange.map((k) => `az://${AZURITE_ACCOUNT}/${k}`).sort());
    expect(r.partial).toBe(false);
    expect(r.totals.records).toBeGreaterThan(0);
  }, 60_000);

  it('the https://ACCOUNT.blob.core.windows.net/ form names the same container (parsed, not fetched: Azurite is not on that host)', async () => {
    const { parseSourceUrl } = await import('../dist/src/source/url.js');
    expect(parseSourceUrl('https://acme.blob.core.windows.net/insights-logs-flowlogflowevent/flowLogResourceID=/X?sv=2024&sig=abc')).toMatchObject({
      scheme: 'az', account: 'acme', bucket: 'insights-logs-flowlogflowevent', prefix: 'flowLogResourceID=/X',
    });
  });
});
