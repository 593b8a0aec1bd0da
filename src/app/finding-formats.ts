/** `--findings` parsed apart from the writers (write-findings.ts), which a run loads only when asked for. */
import { FINDING_FORMATS, type FindingFormat } from '../output/finding-names.js';

/** Formats from `--findings a,b`; throws on an unknown one. */
export function findingFormats(list: readonly string[] | undefined): FindingFormat[] {
  const out: FindingFormat[] = [];
  for (const f of list ?? []) {
    if (!(FINDING_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown findings format '${f}' (expected ${FINDING_FORMATS.join(' or ')})`);
    if (!out.includes(f as FindingFormat)) out.push(f as FindingFormat);
  }
  return out;
}
