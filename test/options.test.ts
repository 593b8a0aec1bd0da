/**
 * Every option of every command against its rule (src/app/option-rules.ts): a bad value is
 * refused with a message naming the option and what it allows; a good one passes. Then the
 * layers under the flags (--config file, FLOWSIEVE_* variables) and the refusals the
 * command line must give as typed (exit 1, one line).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { writeV2, scanner } from './helpers/aws.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

const { parseArgs, UsageError } = await import('../dist/src/app/args.js');
const { checkOptions, ruleOf } = await import('../dist/src/app/option-rules.js');
const { COMMAND_INDEX } = await import('../dist/src/cli/command-index.js');
const { thresholdsFrom } = await import('../dist/src/app/settings.js');

type Spec = { name: string; options: Array<{ name: string; type: string }> };
const specs: Spec[] = [];
for (const c of COMMAND_INDEX) {
  const cmd = await c.load();
  for (const s of cmd.subcommands ?? [cmd]) specs.push(s.spec);
}

const dir = tempDir('flowsieve-options-');
const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, '10.0.0.0/8\n');
const missing = join(dir, 'no', 'such');

/** Values a rule must refuse. */
function badValues(rule: any, type: string): string[] {
  switch (rule.kind) {
    case 'int':
      // a size of 1.5 bytes is 1 (sizes such as 1.5G are fractional): only counts refuse a fraction
      return [String(rule.min - 1), ...(type === 'size' ? [] : [String(rule.min + 0.5)]), ...(rule.max < Number.MAX_SAFE_INTEGER ? [String(rule.max + 1)] : [])];
    case 'number':
      return [String(rule.aboveMin ? rule.min : rule.min - 1), String(rule.max * 2)];
    case 'choice':
      return ['no-such-choice'];
    case 'text':
    case 'path':
      return [''];
    case 'file':
      return [missing, dir];
    case 'dir':
      return [missing, aFile];
    case 'check':
      return ['not valid!'];
    default:
      return [];
  }
}

/** A value a rule must accept (checks: one each, by what they describe). */
function goodValue(rule: any): string | undefined {
  switch (rule.kind) {
    case 'int':
      return String(rule.min);
    case 'number':
      return String(rule.max);
    case 'choice':
      return rule.of()[0];
    case 'text':
      return 'x';
    case 'path':
      return join(dir, 'out');
    case 'file':
      return aFile;
    case 'dir':
      return dir;
    case 'check': {
      const samples = ['6h', '2024-03-01', '512M', '127.0.0.1:9310', '3/8', 'redis://127.0.0.1:6379', 'http://127.0.0.1:9000', 'run-1'];
      return samples.find((s) => rule.ok(s));
    }
    default:
      return undefined;
  }
}

const parseFor = (spec: Spec, argv: string[], layers = {}) => {
  const p = parseArgs(spec as never, argv, layers);
  checkOptions(spec as never, p);
  return p;
};

describe('option rules', () => {
  it('every option of every command has a rule', () => {
    const without = specs.flatMap((s) => s.options.filter((o) => !ruleOf(s.name, o as never)).map((o) => `${s.name} --${o.name}`));
    expect(without).toEqual([]);
  });

  for (const spec of specs) {
    it(`${spec.name}: each option refuses bad values by name and takes good ones`, () => {
      let checked = 0;
      for (const o of spec.options) {
        const rule = ruleOf(spec.name, o as never);
        if (o.type === 'boolean') {
          // a flag cannot be given a bad value on the command line; a variable can
          expect(() => parseFor(spec, [], { env: { [`FLOWSIEVE_${o.name.toUpperCase().replace(/-/g, '_')}`]: 'maybe' } }), o.name).toThrow(/must be true or false/);
          continue;
        }
        for (const bad of badValues(rule, o.type)) {
          let err: unknown;
          try {
            parseFor(spec, [`--${o.name}=${bad}`]);
          } catch (e) {
            err = e;
          }
          expect(err, `${spec.name} --${o.name} ${bad}`).toBeInstanceOf(UsageError);
          expect((err as Error).message, `${spec.name} --${o.name} ${bad}`).toMatch(new RegExp(`^(option )?--${o.name}( must be | needs a number|: bad size)`));
          checked++;
        }
        const good = goodValue(rule);
        if (good !== undefined) expect(() => parseFor(spec, [`--${o.name}`, good]), `${spec.name} --${o.name} ${good}`).not.toThrow();
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('settings under the flags', () => {
  const detect = specs.find((s) => s.name === 'detect')!;
  const cfg = join(dir, 'flowsieve.yaml');
  writeFileSync(cfg, 'workers: 3\nmin-endpoints: 20\nprofile: multi-cloud\ndetect:\n  min-endpoints: 30\n  window: 1h\nserve:\n  listen: 127.0.0.1:9999\n');

  it('flags > FLOWSIEVE_* variables > file > defaults; a section wins over the top level', () => {
    const layers = (env = {}) => ({ file: { path: cfg, values: { workers: 3, 'min-endpoints': 30, window: '1h' } }, env });
    const p = parseFor(detect, [], layers());
    expect([p.values.workers, p.values['min-endpoints'], p.values.window, p.values['batch-size']]).toEqual([3, 30, '1h', 32768]);
    expect(p.sources.workers).toEqual({ kind: 'file', where: cfg });
    const e = parseFor(detect, [], layers({ FLOWSIEVE_WORKERS: '5', FLOWSIEVE_WINDOW: '2h' }));
    expect([e.values.workers, e.values.window]).toEqual([5, '2h']);
    const f = parseFor(detect, ['--workers', '7'], layers({ FLOWSIEVE_WORKERS: '5' }));
    expect(f.values.workers).toBe(7);
    expect(f.sources.workers).toEqual({ kind: 'flag' });
  });

  it('a threshold given equal to its default still wins over the profile', () => {
    const p = parseFor(detect, ['--profile', 'multi-cloud', '--min-clouds', '1']);
    expect(thresholdsFrom(p.values)).toMatchObject({ minClouds: 1, minAccounts: 2, minRegions: 2 });
    expect(thresholdsFrom(parseFor(detect, ['--profile', 'multi-cloud']).values)).toMatchObject({ minClouds: 2 });
  });

  it('config --print shows the effective settings and where each came from', () => {
    const r = run(['config', '--print', '--config', cfg, '--json'], { FLOWSIEVE_MIN_TARGETS: '50' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.detect.values).toMatchObject({ workers: 3, 'min-endpoints': 30, window: '1h', 'min-targets': 50, profile: 'multi-cloud' });
    expect(out.detect.sources).toMatchObject({ workers: `file ${cfg}`, 'min-targets': 'env FLOWSIEVE_MIN_TARGETS', 'batch-size': 'default', out: 'not set' });
    expect(out.serve.values).toMatchObject({ listen: '127.0.0.1:9999', 'min-endpoints': 20 });
    const yaml = run(['config', '--print', '--config', cfg, '--command', 'serve']);
    expect(yaml.stdout).toMatch(/^ {2}listen: 127\.0\.0\.1:9999 +# file /m);
  });

  it('refuses a config file with an unknown key, a bad value in it, or a missing file', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'min-endpoint: 5\n');
    expect(run(['config', '--print', '--config', bad]).stderr).toMatch(/unknown setting 'min-endpoint'/);
    writeFileSync(bad, '{"min-endpoints": -1}');
    const json = join(dir, 'bad.json');
    writeFileSync(json, '{"detect": {"min-endpoints": -1}}');
    const r = run(['config', '--print', '--config', json]);
    expect([r.status, r.stderr.trim()]).toEqual([1, `flowsieve config: ${json}: 'min-endpoints' must be a whole number from 1 to 1000000000, got '-1'`]);
    expect(run(['detect', 'x', '--out', dir, '--config', missing]).stderr).toMatch(/--config .*ENOENT/);
  });
});

describe('refusals as typed (exit 1, one line)', () => {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  writeV2(join(logs, 'a.log'), scanner('45.1.1.1', 12, { dport: 23, start: 1700006400 } as never));

  it.each([
    [['detect', logs, '--out', join(dir, 'o'), '--min-endpoints', '-5'], {}, /^flowsieve detect: --min-endpoints must be a whole number from 1 to \d+, got '-5'$/],
    [['serve', '--spool', missing, '--state', join(dir, 'st')], {}, /^flowsieve serve: --spool must be an existing folder, got '.*' \(ENOENT\)$/],
    [['detect', logs, '--out', join(dir, 'o')], { FLOWSIEVE_WORKERS: 'many' }, /^flowsieve detect: FLOWSIEVE_WORKERS \(--workers\) must be a number, got 'many'$/],
    [['generate', '--out', join(dir, 'g'), '--gzip-level', '0'], {}, /^flowsieve generate: --gzip-level must be a whole number from 1 to 9, got '0'$/],
    [['detect', logs, '--out', join(dir, 'o'), '--log-format', 'xml'], {}, /^flowsieve detect: --log-format must be one of text, json, got 'xml'$/],
  ] as const)('%j', (args, env, message) => {
    const r = run([...args], env);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('--log-format json: every stderr line is a record; off a terminal, progress comes as records with its figures', () => {
    const r = run(['detect', logs, '--out', join(dir, 'json'), '--no-enrich', '--log-format', 'json'], { FLOWSIEVE_PROGRESS_SECONDS: '0.000001' });
    expect(r.status, r.stderr).toBe(0);
    const records = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    for (const rec of records) expect(rec).toMatchObject({ time: expect.any(Number), level: expect.any(Number), cmd: 'detect', msg: expect.any(String) });
    const progress = records.find((rec) => rec.msg === 'progress');
    expect(progress.progress).toMatchObject({ files_total: 1, bytes_total: expect.any(Number), records: expect.any(Number) });
    expect(records.some((rec) => /flow records from 1 file/.test(rec.msg))).toBe(true);
  });

  it('--profile multi-cloud --min-clouds 1 runs with 1 (summary.json settings)', () => {
    const out = join(dir, 'mc');
    const r = run(['detect', logs, '--out', out, '--profile', 'multi-cloud', '--min-clouds', '1', '--no-enrich', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.settings.thresholds).toMatchObject({ minClouds: 1, minAccounts: 2 });
  });
});
