import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { comparable, folder, writeScaleOutInput } from './helpers/scaleout.js';
import { decodePartial, mergePartials, toPartial } from '../dist/src/app/partial.js';
import { detect, DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { readListFile } from '../dist/src/net/cidr.js';
import { hashAddress, partitionOf } from '../dist/src/flow/hash.js';
import { parseAddress } from '../dist/src/net/address.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const P = 8;


const partitionOfIp = (ip: string) => partitionOf(hashAddress(parseAddress(ip)!, 0), P);

describe('partitions and merge (issue 8)', () => {
  const root = tempDir();
  const data = writeScaleOutInput(root);
  const common = [...data.inputs, '--workers', '1', '--near-misses', '--allow', data.allow, '--own-cidrs', data.own, '--quiet'];
  const parts = join(root, 'parts');

  it('merging the P = 8 partitions gives byte-identical files to a single detect', () => {
    const single = join(root, 'single');
    expect(run(['detect', ...common, '--out', single]).status).toBe(2); // a missing input: partial run
    for (let p = 0; p < P; p++) {
      const r = run(['detect', ...common, '--partition', `${p}/${P}`, '--partials', parts]);
      expect(r.status, r.stderr).toBe(2);
    }
    expect(readdirSync(parts).sort()).toEqual(Array.from({ length: P }, (_, p) => `partial-${p}-of-${P}.fsp`).sort());
    const merged = join(root, 'merged');
    const m = run(['merge', parts, '--out', merged]);
    expect(m.status, m.stderr).toBe(2);
    expect(m.stderr).toMatch(/8 partitions/);

    const a = folder(single);
    const b = folder(merged);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(Object.keys(a).filter((n) => n.startsWith('stats/')).length).toBeGreaterThan(2); // statistics, made at the merge
    expect(comparable(b)).toEqual(comparable(a));
    for (const name of Object.keys(a)) if (name !== 'summary.json') expect(b[name], name).toBe(a[name]); // bytes, not just values

    // the test is only worth something if the data spreads over partitions and exercises the global parts
    const scans = a['scans.ndjson']!.trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(scans.map((s) => partitionOfIp(s.src))).size).toBe(P);
    expect(scans.length).toBeGreaterThan(60);
    const alerts = a['outbound.ndjson']!.trim().split('\n').map((l) => JSON.parse(l));
    const worm = alerts.find((x) => x.src === '10.0.0.5');
    expect(worm.worm_signature).toBe(true);
    expect(partitionOfIp('10.0.0.5')).not.toBe(partitionOfIp('45.9.9.4')); // the scanner of the worm host lives elsewhere
    expect(alerts.some((x) => x.kind === 'own-range-scanner' && x.src === '52.1.2.3')).toBe(true);
    expect(alerts.some((x) => x.src === '10.0.0.8')).toBe(false); // allow-listed
    expect(a['near_misses.ndjson']!.length).toBeGreaterThan(0);
    expect(a['rejects.ndjson']).toMatch(/notaport/);
    const summary = JSON.parse(a['summary.json']!);
    expect(summary.totals.records).toBe(data.records);
    expect(summary.totals.other_partition).toBe(0);
    const merged0 = JSON.parse(b['summary.json']!);
    expect(merged0.performance.workers).toBe(P);
  });

  it('merge --state records the same history as detect --state', () => {
    const s1 = join(root, 'state-single');
    const s2 = join(root, 'state-merged');
    expect(run(['detect', ...common, '--out', join(root, 'single2'), '--state', s1]).status).toBe(2);
    expect(run(['merge', parts, '--out', join(root, 'merged2'), '--state', s2, '--quiet']).status).toBe(2);
    const h1 = join(root, 'h1');
    const h2 = join(root, 'h2');
    expect(run(['history', '--state', s1, '--out', h1]).status).toBe(0);
    expect(run(['history', '--state', s2, '--out', h2]).status).toBe(0);
    const a = folder(h1);
    const b = folder(h2);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(Object.keys(a).length).toBeGreaterThan(0);
    for (const name of Object.keys(a)) expect(b[name], name).toBe(a[name]);
    expect(run(['detect', ...common, '--partition', '0/8', '--partials', parts, '--state', s1]).stderr).toMatch(/--state records whole runs/);
  });

  it('a partition run twice writes the same partial (a retried step is harmless)', () => {
    const file = join(parts, `partial-3-of-${P}.fsp`);
    const before = decodePartial(readFileSync(file), file);
    expect(run(['detect', ...common, '--partition', `3/${P}`, '--partials', parts]).status).toBe(2);
    const after = decodePartial(readFileSync(file), file);
    const strip = (p: any) => JSON.stringify({ ...p, performance: null });
    expect(strip(after)).toBe(strip(before));
    expect(readdirSync(parts).filter((n) => n.startsWith('.'))).toEqual([]); // no temporary files left
  });

  it('names the missing partitions, and refuses partials of different runs', () => {
    const some = join(root, 'some');
    const r = run(['merge', join(parts, `partial-0-of-${P}.fsp`), join(parts, `partial-5-of-${P}.fsp`), '--out', some]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing 6 of 8 partitions: 1, 2, 3, 4, 6, 7/);

    const other = join(root, 'other');
    expect(run(['detect', ...common, '--min-endpoints', '12', '--partition', `1/${P}`, '--partials', other]).status).toBe(2);
    const mixed = join(root, 'mixed');
    for (let p = 0; p < P; p++) if (p !== 1) writeFileSync(join(other, `partial-${p}-of-${P}.fsp`), readFileSync(join(parts, `partial-${p}-of-${P}.fsp`)));
    const x = run(['merge', other, '--out', mixed]);
    expect(x.status).toBe(1);
    expect(x.stderr).toMatch(/other inputs or settings.*thresholds/);

    const dup = join(root, 'dup');
    renameSync(join(other, `partial-1-of-${P}.fsp`), join(root, 'x.fsp'));
    writeFileSync(join(root, 'bad.fsp'), 'not a partial');
    expect(run(['merge', parts, join(parts, `partial-2-of-${P}.fsp`), '--out', dup]).stderr).toMatch(/partition 2\/8 is given twice/);
    expect(run(['merge', join(root, 'bad.fsp'), '--out', dup]).stderr).toMatch(/bad\.fsp: not a flowsieve partial result/);
  });

  it('detect --partials needs --partition', () => {
    const r = run(['detect', ...common, '--partials', join(root, 'p2')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--partials needs --partition/);
  });

  it('input already split by partition (as replay files are): the same verdicts and alerts, file reports concatenated', async () => {
    const split = join(root, 'split');
    mkdirSync(split);
    const lines = [join(root, 'logs', 'a.log'), join(root, 'logs', 'AWSLogs', '210987654321', 'vpcflowlogs', 'eu-west-1', '2023', '11', '15', 'c.log')]
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').slice(1));
    const header = readFileSync(join(root, 'logs', 'a.log'), 'utf8').split('\n')[0]!;
    const per: string[][] = Array.from({ length: P }, () => [header]);
    for (const l of lines) {
      const src = l.split(' ')[4]!;
      per[parseAddress(src) ? partitionOfIp(src) : 0]!.push(l);
    }
    per.forEach((ls, p) => writeFileSync(join(split, `p${p}.log`), ls.join('\n') + '\n'));
    const optsFor = (inputs: string[], partition?: { index: number; count: number }) => ({
      inputs, workers: 1, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND },
      ...DEFAULT_RUN, allow: readListFile(data.allow), ownCidrs: readListFile(data.own).cidrs, partition,
    });
    const whole = await detect(optsFor([split]));
    const parts = [];
    for (let p = 0; p < P; p++) {
      const opts = optsFor([join(split, `p${p}.log`)], { index: p, count: P });
      parts.push(toPartial(await detect(opts), opts, [split], {}));
    }
    const m = mergePartials(parts).result;
    expect(m.files.map((f: any) => f.path)).toEqual(whole.files.map((f: any) => f.path));
    expect(m.totals).toEqual(whole.totals);
    expect(JSON.stringify(m.scans)).toBe(JSON.stringify(whole.scans));
    expect(JSON.stringify(m.nearMisses)).toBe(JSON.stringify(whole.nearMisses));
    expect(JSON.stringify(m.alerts)).toBe(JSON.stringify(whole.alerts));
    expect(m.alerts.find((a: any) => a.src === '10.0.0.5')?.wormSignature).toBe(true);
    expect(m.scans.length).toBeGreaterThan(30);
  });
});
