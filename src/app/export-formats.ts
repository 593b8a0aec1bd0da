/** What `flowsieve export --format` writes besides the plain lists: findings and block lists (issue 15). */
import { writeFileAtomic, AtomicLineWriter } from '../output/files.js';
import { ecsListed, ocsfListed, FINDING_FORMATS, type FindingFormat } from '../output/findings.js';
import { BLOCK_FORMATS, blockFile, unexpired, type BlockFormat, type Expiry } from '../output/blocklists.js';
import type { ScannerList } from '../store/analysis.js';

// the names and their check live apart (export-format-names.ts: the option rules load them); re-exported here
export { EXPORT_FORMATS, exportFormats, type ExportFormat } from './export-format-names.js';
import type { ExportFormat } from './export-format-names.js';

/** The files of one list in the non-list formats; returns their paths. */
export function writeListFormats(out: string, list: ScannerList, formats: ExportFormat[], expiry: Expiry): string[] {
  const files: string[] = [];
  const base = `${out}/${list.list}`;
  for (const f of formats) {
    if ((FINDING_FORMATS as readonly string[]).includes(f)) {
      const path = `${base}.${f}.ndjson`;
      const w = new AtomicLineWriter(path);
      for (const s of list.scanners) w.line(JSON.stringify(f === 'ocsf' ? ocsfListed(s, list.list) : ecsListed(s, list.list)));
      w.close();
      files.push(path);
    } else if ((BLOCK_FORMATS as readonly string[]).includes(f)) {
      const entries = unexpired(list.scanners.map((s) => ({ ip: s.ip, days: s.days, last_seen: s.last_seen })), expiry);
      const file = blockFile(f as BlockFormat, list.list, list.title, entries, expiry.asOf);
      writeFileAtomic(`${base}.${file.suffix}`, file.text);
      files.push(`${base}.${file.suffix}`);
    }
  }
  return files;
}

export type { FindingFormat };
