/**
 * Recording a detect run in the history (--state DIR): fingerprint its inputs, group its
 * verdicts by day and scanner IP, take the scanner IPs' enrichment from the written
 * scans.ndjson when it carries one, and add it all in one transaction.
 */
import { existsSync } from 'node:fs';
import type { DetectResult } from '../engine/types.js';
import { contentFingerprint, fileFingerprint, setFingerprint } from './fingerprint.js';
import { HistoryStore, type IpFacts, type RecordOutcome, type RunFile, type RunInput } from './history.js';
import { readObjects } from './ndjson.js';
import { runRows } from './rows.js';

export const STDIN_DISPLAY = '<stdin>';

/**
 * The files a run read, fingerprinted. Files that gave no line (missing, unreadable) are left
 * out: they added nothing. Standard input cannot be read twice, so its fingerprint is a
 * digest of what the run found in it (its counters and verdicts): the same data piped again
 * gives the same fingerprint.
 */
export function runFiles(result: Pick<DetectResult, 'files' | 'scans'>): RunFile[] {
  const files: RunFile[] = [];
  for (const f of result.files) {
    if (f.counters.lines === 0 && f.error) continue;
    if (f.path === STDIN_DISPLAY) {
      const parts = [JSON.stringify(f.counters), ...result.scans.map((v) => `${v.window} ${v.src} ${v.protocol} ${v.dstPort} ${v.endpoints} ${v.flows} ${v.packets} ${v.bytes}`)];
      files.push({ fingerprint: contentFingerprint('stdin', parts), path: STDIN_DISPLAY, bytes: f.bytes });
      continue;
    }
    try {
      const fp = fileFingerprint(f.path);
      files.push({ fingerprint: fp.fingerprint, path: f.path, bytes: fp.bytes });
    } catch (err) {
      // read by the run but gone now: identify it by its path (it cannot be recognised elsewhere)
      files.push({ fingerprint: contentFingerprint('unreadable', [f.path, (err as Error).message]), path: f.path, bytes: f.bytes });
    }
  }
  return files;
}

/** The enrichment columns of a scans.ndjson (country, asn, as_org, actor), when it has them. */
export function ipFactsFromScans(path: string): Map<string, IpFacts> | undefined {
  if (!existsSync(path)) return undefined;
  const facts = new Map<string, IpFacts>();
  let enriched = false;
  readObjects(path, (o) => {
    if (typeof o.src !== 'string' || facts.has(o.src)) return;
    if (!('country' in o || 'asn' in o || 'as_org' in o || 'actor' in o)) return;
    enriched = true;
    facts.set(o.src, {
      country: str(o.country),
      asn: typeof o.asn === 'number' ? o.asn : o.asn != null && /^\d+$/.test(String(o.asn)) ? Number(o.asn) : null,
      as_org: str(o.as_org),
      actor: str(o.actor),
    });
  }, []);
  return enriched ? facts : undefined;
}

function str(x: unknown): string | null {
  return typeof x === 'string' && x !== '' ? x : null;
}

export interface RecordOptions {
  windowSeconds: number;
  inputs: string[];
  settings: Record<string, unknown>;
  /** The folder the run's results were written to (its scans.ndjson gives the enrichment). */
  outDir?: string;
}

export function recordDetectRun(store: HistoryStore, result: DetectResult, opts: RecordOptions): RecordOutcome {
  const files = runFiles(result);
  const run: RunInput = {
    fingerprint: setFingerprint(files.map((f) => f.fingerprint)),
    files,
    inputs: opts.inputs,
    windowSeconds: opts.windowSeconds,
    records: result.totals.records,
    partial: result.partial,
    settings: opts.settings,
  };
  const facts = opts.outDir ? ipFactsFromScans(`${opts.outDir}/scans.ndjson`) : undefined;
  return store.record(run, runRows(result, opts.windowSeconds), facts);
}

/** One or two lines for the terminal about what the history did with the run. */
export function describeOutcome(o: RecordOutcome, stateDir: string): string {
  const span = o.days.length ? `${o.days[0]}${o.days.length > 1 ? ` .. ${o.days[o.days.length - 1]}` : ''}` : 'no scanner days';
  const lines: string[] = [];
  if (o.status === 'skipped') lines.push(`  history ${stateDir}: run not recorded: ${o.reason}`);
  else {
    const replaced = o.replacedRuns.length ? ` (replaces run${o.replacedRuns.length > 1 ? 's' : ''} ${o.replacedRuns.join(', ')}: the same input or part of it)` : '';
    lines.push(`  history ${stateDir}: run ${o.runId} recorded, ${o.scannerDays} scanner-days, ${span}${replaced}`);
  }
  for (const ov of o.overlaps) {
    lines.push(`  history: warning: run ${ov.runId} read ${ov.sharedFiles} of the same file(s); their flows now count in both runs`);
  }
  return lines.join('\n');
}
