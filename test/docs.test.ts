/**
 * Every `flowsieve` command in a fenced block of README.md and docs/*.md, so the docs cannot
 * drift from the tool:
 *   - every one names a real command and only its real options (synopses with <...>, [...]
 *     and UPPER-CASE placeholders too);
 *   - every concrete one is run, at small scale, in a folder holding a small generated sample
 *     as `logs/`, with the docs' absolute paths mapped into that folder (/var/lib/flowsieve ->
 *     state, /var/spool/flowlogs -> spool, /mnt/flowsieve -> store, /tmp/ -> tmp/), `generate`
 *     at --scale 0.01 --days 1, with FLOWSIEVE_WORKERS=1 and FLOWSIEVE_NO_ENRICH=1; it must exit 0.
 * Not run here (named in the test below): `serve` (long-running: .ci/smoke.sh runs it from
 * the installed package), `cluster` (needs Redis: test/cluster.test.ts), bucket inputs
 * (s3://, az://, gs://: test/source-*.test.ts against local emulators), and npm lines (CI).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli/main.js');
const { COMMAND_INDEX } = await import('../dist/src/cli/command-index.js');

interface DocCommand {
  file: string;
  line: string;
}

/** The `flowsieve ...` lines of the fenced blocks (continuations joined, trailing comments cut). */
export function docCommands(): DocCommand[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: DocCommand[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const block of text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```/gm)) {
      if (!['', 'sh', 'bash', 'shell', 'console'].includes(block[1]!)) continue; // text (output), yaml, json, ...
      const body = block[2]!.replace(/\\\n\s*/g, ' ');
      for (const raw of body.split('\n')) {
        const line = raw.replace(/\s+#\s.*$/, '').replace(/^\$ /, '').trim();
        if (/(^|;\s*do\s+|&&\s*)flowsieve\s/.test(line)) out.push({ file, line });
      }
    }
  }
  return out;
}

const specs = new Map<string, { options: Array<{ name: string }> }>();
for (const c of COMMAND_INDEX) {
  const cmd = await c.load();
  for (const s of cmd.subcommands ?? [cmd]) specs.set(s.spec.name, s.spec);
  if (cmd.subcommands) specs.set(cmd.spec.name, { options: [] });
}
const GLOBAL = ['config', 'log-format', 'help', 'version'];

/** Each `flowsieve` invocation in a line: its command and the options it names. */
function invocations(line: string): Array<{ command: string; options: string[] }> {
  return line
    .split(/(?:^|\s)flowsieve\s+/)
    .slice(1)
    .map((rest) => {
      const words = rest.split(/\s+/);
      const command = words[0] === 'cluster' ? `cluster ${words[1]}` : words[0]!;
      const options = [...rest.matchAll(/(?:^|[\s[])--([a-z0-9-]+)/g)].map((m) => m[1]!);
      return { command, options };
    });
}

const placeholder = (line: string) => /<[^>]*>|\[|\.\.\.|\b(DIR|OUT|FILE|STATE|RUN_DIR|DAY|NAME|ID|N|S|D)\b/.test(line);
// serve runs until stopped; cluster needs Redis; bucket inputs need a cloud account (test/source-*.test.ts run them against local emulators)
const notRun = (line: string) => /\bflowsieve (serve|cluster)\b/.test(line) || /^(npm|node) /.test(line) || /\b(s3|az|gs):\/\//.test(line);

describe('deploy/k8s/sidecar.yaml', () => {
  it("its ConfigMap holds valid serve settings, and the docs show the same manifest", async () => {
    const { parseAllDocuments } = await import('yaml');
    const { parseArgs } = await import('../dist/src/app/args.js');
    const { checkOptions } = await import('../dist/src/app/option-rules.js');
    const { readConfigFile, settingsFor } = await import('../dist/src/app/config.js');
    const text = readFileSync(join(ROOT, 'deploy/k8s/sidecar.yaml'), 'utf8');
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    const settings = docs.find((d) => d.kind === 'ConfigMap').data['flowsieve.yaml'] as string;
    const dir = tempDir('flowsieve-k8s-');
    // the pod's paths mapped to folders that exist here, the rest as written
    const local = settings.replace(/\/spool/g, join(dir, 'spool')).replace(/\/state/g, join(dir, 'state')).replace(/\/secrets\/token/g, join(dir, 'token'));
    for (const d of ['spool', 'state']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'token'), 'a-token-of-at-least-16-chars\n');
    writeFileSync(join(dir, 'flowsieve.yaml'), local);
    const serve = specs.get('serve')!;
    const parsed = parseArgs(serve as never, [], { file: { path: 'flowsieve.yaml', values: settingsFor('serve', readConfigFile(join(dir, 'flowsieve.yaml'))) } });
    checkOptions(serve as never, parsed);
    expect(parsed.values).toMatchObject({ listen: '0.0.0.0:9310', window: '6h', workers: 4 });
    const pod = docs.find((d) => d.kind === 'StatefulSet').spec.template.spec.containers.find((c: any) => c.name === 'flowsieve');
    expect(pod.args).toEqual(['serve', '--config', '/etc/flowsieve/flowsieve.yaml']);
    for (const doc of ['README.md', 'docs/SIDECAR.md']) expect(readFileSync(join(ROOT, doc), 'utf8'), doc).toContain(text.slice(text.indexOf('apiVersion')));
  });
});

describe('docs: fenced commands', () => {
  const commands = docCommands();

  it('finds the documented commands', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.filter((c) => !placeholder(c.line) && !notRun(c.line)).length).toBeGreaterThan(5);
  });

  it('every documented command is a real command with real options', () => {
    const wrong: string[] = [];
    for (const c of commands) {
      for (const inv of invocations(c.line)) {
        if (inv.command === '--version' || inv.command === '--help') continue;
        const spec = specs.get(inv.command);
        if (!spec) {
          wrong.push(`${c.file}: unknown command '${inv.command}' in: ${c.line}`);
          continue;
        }
        for (const o of inv.options) {
          if (!GLOBAL.includes(o) && !spec.options.some((s) => s.name === o)) wrong.push(`${c.file}: ${inv.command} has no --${o}: ${c.line}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('runs every concrete command at small scale (exit 0)', () => {
    const dir = tempDir('flowsieve-docs-');
    for (const d of ['tmp', 'spool', 'store', 'bin']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'bin', 'flowsieve'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(dir, 'bin', 'flowsieve'), 0o755);
    // small and quick: one worker, no enrichment databases to open (set as variables, so the lines stay as documented)
    const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, FLOWSIEVE_WORKERS: '1', FLOWSIEVE_NO_ENRICH: '1', FLOWSIEVE_QUIET: '1' };
    const sh = (line: string) => spawnSync('bash', ['-c', line], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    // the folders the docs assume: logs (a sample), a history in state
    for (const setup of [
      'flowsieve generate --out logs --scale 0.01 --days 1 --clouds aws --quiet',
      'flowsieve detect logs --out tmp/setup-run --state state --no-enrich --quiet',
    ]) {
      const r = sh(setup);
      expect(r.status, `${setup}\n${r.stderr}`).toBe(0);
    }
    const ran: string[] = [];
    for (const c of commands) {
      if (placeholder(c.line) || notRun(c.line)) continue;
      const line = c.line
        .replace(/\/var\/lib\/flowsieve/g, 'state')
        .replace(/\/var\/spool\/flowlogs/g, 'spool')
        .replace(/\/mnt\/flowsieve/g, 'store')
        .replace(/(^|\s)\/tmp\//g, '$1tmp/')
        .replace(/(flowsieve generate .*)--scale \S+/, '$1--scale 0.01')
        .replace(/(flowsieve generate .*)--days \S+/, '$1--days 1');
      const r = sh(`${line} 2>&1`);
      expect(r.status, `${c.file}: ${line}\n${r.stdout}`).toBe(0);
      ran.push(line);
    }
    expect(ran.length).toBeGreaterThan(5);
  }, 300_000);
});
