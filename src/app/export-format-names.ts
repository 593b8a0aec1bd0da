/** `flowsieve export --format`'s names, apart from the writers (export-formats.ts), for the option rules every command loads. */
import { FINDING_FORMATS } from '../output/finding-names.js';
import { BLOCK_FORMATS } from '../output/blocklists.js';

export const EXPORT_FORMATS = ['lists', ...FINDING_FORMATS, ...BLOCK_FORMATS] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function exportFormats(list: readonly string[] | undefined): ExportFormat[] {
  const out: ExportFormat[] = [];
  for (const f of list?.length ? list : ['lists']) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown format '${f}' (expected ${EXPORT_FORMATS.join(', ')})`);
    if (!out.includes(f as ExportFormat)) out.push(f as ExportFormat);
  }
  return out;
}
