import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { smallInput } from '../dist/src/engine/small-input.js';
import { forgetListings, takeListing, takeSize } from '../dist/src/input/listing.js';
import { planInputs } from '../dist/src/input/plan.js';

const T0 = 1700006400;

describe("the small-input look's listings, kept for planning", () => {
  it('are taken once, by the folder and file they were read for', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeV2(join(dir, 'sub', 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    expect(smallInput([dir])).toBe(true);
    expect(takeListing(join(dir, 'sub'))?.map((e) => e.name)).toEqual(['a.log']);
    expect(takeListing(join(dir, 'sub'))).toBeUndefined();
    expect(takeSize(join(dir, 'sub', 'a.log'))).toBeGreaterThan(0);
    expect(takeListing(dir)?.map((e) => e.name)).toEqual(['sub']);
    smallInput([dir]);
    forgetListings();
    expect(takeListing(dir)).toBeUndefined();
  });

  it('plan what a fresh listing plans, and a later run lists afresh', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeV2(join(dir, 'sub', 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    writeV2(join(dir, 'b.log'), scanner('45.3.3.4', 12, { start: T0 }));
    const fresh = planInputs([dir], {});
    smallInput([dir]);
    expect(planInputs([dir], {})).toEqual(fresh);
    smallInput([dir]); // kept, and a file added after: the next run's own look lists again
    writeV2(join(dir, 'sub', 'c.log'), scanner('45.3.3.5', 13, { start: T0 }));
    const r = await runDetect([dir], { pipeline: 'auto', workers: 1 });
    expect(r.files.map((f) => f.path.slice(dir.length))).toEqual(['/b.log', '/sub/a.log', '/sub/c.log']);
    expect(r.scans.map((s) => s.src)).toEqual(['45.3.3.3', '45.3.3.4', '45.3.3.5']);
  });
});
