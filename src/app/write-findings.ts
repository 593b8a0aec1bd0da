/** findings.ocsf.ndjson / findings.ecs.ndjson of a detect run (--findings). */
import type { DetectResult } from '../engine/types.js';
import { enrichColumns, type IpFacts } from '../enrich/index.js';
import { AtomicLineWriter } from '../output/files.js';
import { findingLines, FINDING_FORMATS, type AlertRow, type FindingFormat, type ScanRow } from '../output/findings.js';
import { alertRecord, scanRecord } from '../output/verdicts.js';

/** Formats from `--findings a,b`; throws on an unknown one. */
export function findingFormats(list: readonly string[] | undefined): FindingFormat[] {
  const out: FindingFormat[] = [];
  for (const f of list ?? []) {
    if (!(FINDING_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown findings format '${f}' (expected ${FINDING_FORMATS.join(' or ')})`);
    if (!out.includes(f as FindingFormat)) out.push(f as FindingFormat);
  }
  return out;
}

/** Write one file per format; returns the file names. */
export function writeFindings(out: string, formats: FindingFormat[], result: DetectResult, windowSeconds: number, facts?: Map<string, IpFacts>): string[] {
  const scans = result.scans.map((v) => ({ ...scanRecord(v, windowSeconds), ...enrichColumns(facts?.get(v.src)) }) as ScanRow);
  const alerts = result.alerts.map((a) => alertRecord(a, windowSeconds) as unknown as AlertRow);
  return formats.map((f) => {
    const name = `findings.${f}.ndjson`;
    const w = new AtomicLineWriter(`${out}/${name}`);
    for (const line of findingLines(f, scans, alerts)) w.line(line);
    w.close();
    return name;
  });
}
