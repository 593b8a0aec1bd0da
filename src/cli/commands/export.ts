/** flowsieve export: lists of scanner IPs to publish or block, from the history. */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { checkDay } from '../../store/history.js';
import { actorScanners, dayScanners, persistentScanners, type ScannerList } from '../../store/analysis.js';
import { writeList } from '../../store/output.js';
import { writeFileAtomic } from '../../output/files.js';
import { openPeriod } from './history.js';
import { EXPORT_FORMATS, exportFormats, writeListFormats, type ExportFormat } from '../../app/export-formats.js';
import { DEFAULT_EXPIRY } from '../../output/blocklists.js';

export const spec: CommandSpec = {
  name: 'export',
  summary: 'write scanner lists (persistent, one day, one actor) as text, CSV and JSON',
  usage: 'flowsieve export --state DIR --out DIR [--from DAY --to DAY] [--min-days N] [--day DAY] [--actor NAME]',
  options: [
    { name: 'state', type: 'string', help: 'history folder (written by detect --state)', value: 'DIR' },
    { name: 'out', type: 'string', help: 'folder for the lists', value: 'DIR' },
    { name: 'from', type: 'string', help: 'first UTC day of the period (default: the first recorded day)', value: 'DAY' },
    { name: 'to', type: 'string', help: 'last UTC day of the period (default: the last recorded day)', value: 'DAY' },
    { name: 'min-days', type: 'number', help: 'persistent = seen on at least N days (default: every day of the period with data)', value: 'N' },
    { name: 'day', type: 'string', help: 'the day of the one-day list (default: the last day of the period with data)', value: 'DAY' },
    { name: 'actor', type: 'string', help: 'only this known actor\'s list (default: one list per actor in the history)', value: 'NAME' },
    { name: 'format', type: 'list', help: `what to write per list: ${EXPORT_FORMATS.join(', ')} (comma separated; default lists)`, value: 'FORMATS' },
    { name: 'block-ttl-days', type: 'number', help: 'block lists: an IP stays listed this many days per day it was seen, after its last sighting', default: DEFAULT_EXPIRY.ttlDays },
    { name: 'block-max-days', type: 'number', help: 'block lists: at most this many days after its last sighting', default: DEFAULT_EXPIRY.maxDays },
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length) throw new UsageError(`export takes no paths (got '${args.positionals[0]}')`);
  if (!v.out) throw new UsageError('export needs --out DIR');
  const minDays = v['min-days'] === undefined ? undefined : Number(v['min-days']);
  if (minDays !== undefined && !(Number.isInteger(minDays) && minDays >= 1)) throw new UsageError('--min-days must be a whole number >= 1');
  let day: string | undefined;
  try {
    day = v.day === undefined ? undefined : checkDay(String(v.day), '--day');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let formats: ExportFormat[];
  try {
    formats = exportFormats(v.format as string[] | undefined);
  } catch (err) {
    throw new UsageError(`--format: ${(err as Error).message}`);
  }
  const ttlDays = Number(v['block-ttl-days'] ?? DEFAULT_EXPIRY.ttlDays);
  const maxDays = Number(v['block-max-days'] ?? DEFAULT_EXPIRY.maxDays);
  if (!(ttlDays > 0 && maxDays > 0)) throw new UsageError('--block-ttl-days and --block-max-days must be above 0');
  const out = String(v.out);
  const { store, period } = openPeriod(v);
  try {
    const known = store.actors(period);
    const actor = v.actor === undefined ? undefined : String(v.actor);
    if (actor !== undefined && !known.some((a) => a.actor === actor)) {
      throw new UsageError(
        known.length
          ? `no scanner of actor '${actor}' in ${period.from} .. ${period.to}; known: ${known.map((a) => a.actor).join(', ')}`
          : `no actor labels in the history (detect records them when its scans.ndjson has an actor column)`,
      );
    }
    const lists: ScannerList[] = [persistentScanners(store, period, minDays)];
    const listDay = day ?? period.days[period.days.length - 1];
    if (listDay) lists.push(dayScanners(store, listDay));
    for (const a of actor !== undefined ? [actor] : known.map((k) => k.actor)) lists.push(actorScanners(store, period, a));
    // block lists expire from the end of the period (its last day's end), not from the time the command runs
    const asOf = period.to ? Date.parse(`${period.to}T00:00:00Z`) / 1000 + 86400 : 0;
    const manifest = lists.map((l) => ({
      list: l.list, title: l.title, criteria: l.criteria, count: l.scanners.length,
      files: [...(formats.includes('lists') ? writeList(out, l) : []), ...writeListFormats(out, l, formats, { ttlDays, maxDays, asOf })],
    }));
    writeFileAtomic(`${out}/export.json`, JSON.stringify({ period: { from: period.from, to: period.to, days_with_data: period.days.length }, lists: manifest }, null, 2) + '\n');
    process.stdout.write(
      [
        `flowsieve export: ${period.days.length ? `${period.from} .. ${period.to}, ${period.days.length} day(s) with data` : 'no scanner in the history for this period'}`,
        ...manifest.map((m) => `  ${m.list}: ${m.count} scanner IP(s)  (${m.title})`),
        ...(known.length === 0 ? ['  no actor labels in the history: no actor lists'] : []),
        `  lists in ${out}/ (.txt one IP a line, .csv, .json; index export.json)`,
      ].join('\n') + '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}
