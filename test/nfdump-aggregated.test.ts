/** nfdump's aggregated output (-A) is refused with the reason, not read as flows (issue 15). */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { aggregatedReason } from '../dist/src/formats/nfdump.js';

const HEADER = 'firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows';

describe('nfdump -A', () => {
  it('refuses aggregated output (da 0.0.0.0, sp 0) and names it; reads the other files', async () => {
    const dir = tempDir();
    // nfdump -A srcip,dstport -o csv: one line per (source, port), the other columns zeroed
    const agg = [HEADER];
    for (let k = 0; k < 30; k++) agg.push(`2024-03-01 10:00:0${k % 10}.000,300.000,TCP,45.1.2.${k + 1},0,0.0.0.0,${[22, 23, 445][k % 3]},${k + 5},${40 * (k + 5)},${k + 5}`);
    writeFileSync(join(dir, 'agg.csv'), agg.join('\n') + '\n');
    const flows = [HEADER, '2024-03-01 10:00:01.000,0.000,TCP,45.1.2.3,40000,10.0.0.1,22,1,40,1', '2024-03-01 10:00:02.000,0.000,UDP,0.0.0.0,68,255.255.255.255,67,1,300,1'];
    writeFileSync(join(dir, 'flows.csv'), flows.join('\n') + '\n');
    const r = await runDetect([dir]);
    const byName = new Map(r.files.map((f: any) => [f.path.split('/').pop(), f]));
    expect(byName.get('agg.csv').error).toMatch(/^nfdump aggregated output \(-A, -a or -b\): 30 of the first 30 records have no source or destination address/);
    expect(byName.get('flows.csv').error).toBeUndefined();
    expect(r.totals.records).toBe(2);
    expect(r.partial).toBe(true);
    // a DHCP discover from 0.0.0.0 among flows is not aggregated output
    expect(aggregatedReason(flows.join('\n'))).toBeNull();
    // headerless (-q) aggregated output too
    expect(aggregatedReason(agg.slice(1).join('\n'))).toMatch(/aggregated/);
  });
});
