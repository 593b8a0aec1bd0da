/**
 * A generated Zeek sample (issue 15): `generate --zeek` writes every AWS flow log again as a
 * Zeek sensor's conn.log (TSV: direction as local_orig/local_resp, backscatter as SHR); the
 * sensor of the log that holds the internal scanner must give the same scan keys and alerts
 * as the AWS files themselves.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { generate, DEFAULT_START, metaDirFor } from '../dist/src/generate/index.js';

describe('a generated Zeek sample (generate --zeek)', () => {
  it('gives the verdicts of the AWS flow log it mirrors, internal scan included', async () => {
    const dir = tempDir();
    await generate({ out: dir, seed: 5, scale: 0.03, days: 1, start: DEFAULT_START, clouds: ['aws'], windowSeconds: 21600, gzipLevel: 1, zeek: true });
    // the account and region whose log holds the internal scanner's sweep (ground truth)
    const truth = JSON.parse(readFileSync(join(metaDirFor(dir), 'ground-truth.json'), 'utf8'));
    const sweep = truth.outbound.alerts.find((a: any) => a.kind === 'internal');
    const awsDir = join(dir, 'aws', 'AWSLogs', sweep.account, 'vpcflowlogs', sweep.region);
    const zeekDir = join(dir, 'zeek', sweep.account, sweep.region);
    const zeekFiles = readdirSync(zeekDir);
    expect(zeekFiles.length).toBe(24); // one a hour
    const head = gunzipSync(readFileSync(join(zeekDir, zeekFiles[0]!))).toString('utf8').split('\n');
    expect(head.slice(0, 5)).toEqual(['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn']);
    const aws = await runDetect([awsDir]);
    const z = await runDetect([zeekDir], { account: sweep.account, region: sweep.region, cloud: 'aws' });
    expect(z.files.every((f: any) => f.format === 'zeek')).toBe(true);
    expect(z.rejects).toEqual([]);
    const key = (v: any) => [v.window, v.src, v.protocol, v.dstPort, v.endpoints, v.flows, v.packets, v.bytes, v.cvPackets, v.cvBytes, v.cvFlows, v.firstSeen, v.lastSeen];
    expect(aws.scans.length).toBeGreaterThan(5);
    expect(z.scans.map(key)).toEqual(aws.scans.map(key));
    const alert = (a: any) => [a.kind, a.window, a.src, a.protocol, a.dstPort, a.target, a.targets, a.flows, a.packets, a.bytes];
    expect(aws.alerts.map((a: any) => [a.kind, a.src, a.dstPort])).toContainEqual(['internal', sweep.src, 22]);
    expect(z.alerts.map(alert)).toEqual(aws.alerts.map(alert));
    expect(z.totals.backscatter).toBe(aws.totals.backscatter);
  }, 60_000);
});
