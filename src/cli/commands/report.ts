/** flowsieve report: the figures of a run and of the history as one HTML file (or Markdown). */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { buildReport, type Side } from '../../report/model.js';
import { loadScansDir, type ScansDir } from '../../report/scans.js';
import { renderHtml } from '../../report/html.js';
import { renderMarkdown } from '../../report/markdown.js';
import { writeFileAtomic } from '../../output/files.js';
import { openPeriod } from './history.js';

export const spec: CommandSpec = {
  name: 'report',
  summary: 'write a report (one self-contained HTML file with charts, or Markdown)',
  usage: 'flowsieve report [--state DIR] [--scans DIR] --out FILE [--format html|md] [--from DAY --to DAY]',
  options: [
    { name: 'state', type: 'string', help: 'history folder (written by detect --state): the figures across days', value: 'DIR' },
    { name: 'scans', type: 'string', help: 'output folder of a detect run (scans.ndjson, summary.json, stats/)', value: 'DIR' },
    { name: 'out', type: 'string', help: 'the report file (- for stdout)', value: 'FILE' },
    { name: 'format', type: 'string', help: 'html or md', default: 'html', value: 'FORMAT' },
    { name: 'from', type: 'string', help: 'first UTC day of the history period', value: 'DAY' },
    { name: 'to', type: 'string', help: 'last UTC day of the history period', value: 'DAY' },
    { name: 'title', type: 'string', help: 'title of the report', value: 'TEXT' },
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length) throw new UsageError(`report takes no paths (got '${args.positionals[0]}'; use --scans DIR)`);
  if (!v.out) throw new UsageError('report needs --out FILE');
  if (!v.state && !v.scans) throw new UsageError('report needs --state DIR, --scans DIR, or both');
  const format = String(v.format);
  if (format !== 'html' && format !== 'md') throw new UsageError(`--format must be html or md, got '${format}'`);
  if (!v.state && (v.from !== undefined || v.to !== undefined)) throw new UsageError('--from and --to select days of the history: they need --state');
  let state: Side | undefined;
  let scans: ScansDir | undefined;
  try {
    if (v.state) {
      const { store, period } = openPeriod(v);
      state = { store, period, name: `history ${String(v.state)}` };
    }
    if (v.scans) {
      try {
        scans = loadScansDir(String(v.scans));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const model = buildReport({ state, scans, title: v.title === undefined ? undefined : String(v.title) });
    const text = format === 'md' ? renderMarkdown(model) : renderHtml(model);
    const out = String(v.out);
    if (out === '-') process.stdout.write(text);
    else {
      mkdirSync(dirname(out), { recursive: true });
      writeFileAtomic(out, text);
      const empty = model.charts.filter((c) => c.noData).map((c) => c.id);
      process.stderr.write(
        `flowsieve report: ${out} (${format}, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB), ` +
          `${model.charts.length - empty.length} of ${model.charts.length} charts with data` +
          (empty.length ? ` (no data: ${empty.join(', ')})` : '') + '\n',
      );
      for (const n of model.notes) process.stderr.write(`  note: ${n}\n`);
    }
    return 0;
  } finally {
    state?.store.close();
    scans?.store.close();
  }
}
