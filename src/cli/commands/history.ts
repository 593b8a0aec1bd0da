/** flowsieve history: days observed per scanner IP across the recorded runs (detection.md §5 "across days"). */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { checkDay, HistoryStore, type Period } from '../../store/history.js';
import { historyFigures, type HistoryFigures } from '../../store/analysis.js';
import { writeHistory } from '../../store/output.js';

export const spec: CommandSpec = {
  name: 'history',
  summary: 'days observed per scanner IP across the runs recorded with --state',
  usage: 'flowsieve history --state DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out DIR]',
  options: [
    { name: 'state', type: 'string', help: 'history folder (written by detect --state)', value: 'DIR' },
    { name: 'from', type: 'string', help: 'first UTC day of the period (default: the first recorded day)', value: 'DAY' },
    { name: 'to', type: 'string', help: 'last UTC day of the period (default: the last recorded day)', value: 'DAY' },
    { name: 'out', type: 'string', help: 'also write history.json and CSV files here', value: 'DIR' },
  ],
};

/** Open the store and resolve --from/--to: shared by history, export and report. */
export function openPeriod(v: Parsed['values']): { store: HistoryStore; period: Period } {
  if (!v.state) throw new UsageError('needs --state DIR (the folder given to detect --state)');
  let from: string | undefined;
  let to: string | undefined;
  try {
    from = v.from === undefined ? undefined : checkDay(String(v.from), '--from');
    to = v.to === undefined ? undefined : checkDay(String(v.to), '--to');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  let store: HistoryStore;
  try {
    store = HistoryStore.open(String(v.state));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { store, period: store.period(from, to) };
}

export function pct(share: number): string {
  return `${(100 * share).toFixed(share > 0 && share < 0.01 ? 2 : 1)} %`;
}

export function humanHistory(f: HistoryFigures, dir: string): string {
  const p = f.period;
  const lines = [`flowsieve history: ${dir}, ${f.runs} recorded run(s)`];
  if (p.days_with_data === 0) {
    lines.push(p.from ? `  no scanner recorded between ${p.from} and ${p.to}` : '  no scanner recorded yet');
    return lines.join('\n');
  }
  lines.push(
    `  period ${p.from} .. ${p.to}: ${p.days_with_data} day(s) with data of ${p.calendar_days} calendar day(s)` +
      (p.days_without_data.length ? ` (no data: ${p.days_without_data.slice(0, 5).join(', ')}${p.days_without_data.length > 5 ? ', ...' : ''})` : ''),
    `  scanner IPs: ${f.scanner_ips.toLocaleString('en-US')}; days observed: mean ${f.days_observed.mean.toFixed(2)}, median ${f.days_observed.median}`,
    `  seen on one day only: ${f.days_observed.one_day.scanner_ips.toLocaleString('en-US')} (${pct(f.days_observed.one_day.share)})`,
    `  seen on every day (${p.days_with_data}): ${f.days_observed.every_day.scanner_ips.toLocaleString('en-US')} (${pct(f.days_observed.every_day.share)})`,
    '  days observed   scanner IPs   share',
  );
  const max = Math.max(1, ...f.days_observed.histogram.map((h) => h.scanner_ips));
  for (const h of f.days_observed.histogram) {
    const bar = '#'.repeat(Math.round((30 * h.scanner_ips) / max));
    lines.push(`  ${String(h.days).padStart(13)}   ${String(h.scanner_ips).padStart(11)}   ${pct(h.share).padStart(7)}  ${bar}`);
  }
  lines.push('  day           scanner IPs   new   ports   scan keys');
  for (const d of f.per_day) {
    lines.push(`  ${d.day}   ${String(d.scanner_ips).padStart(11)}   ${String(d.new_scanner_ips).padStart(3)}   ${String(d.ports).padStart(5)}   ${String(d.scan_keys).padStart(9)}`);
  }
  return lines.join('\n');
}

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length) throw new UsageError(`history takes no paths (got '${args.positionals[0]}')`);
  const { store, period } = openPeriod(v);
  try {
    const scanners = store.scanners(period);
    const figures = historyFigures(store, period, scanners);
    process.stdout.write(humanHistory(figures, String(v.state)) + '\n');
    if (v.out) {
      const files = writeHistory(String(v.out), figures, scanners);
      process.stdout.write(`  written: ${files.join(', ')}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
