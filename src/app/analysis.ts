/**
 * The analyst's part of a detection run (detection.md §5): enrichment of the scanner IPs and the
 * statistics, with their command-line options. Used by `detect` (and by any command that
 * writes a run's results through writeResults).
 */
import type { OptionSpec, Parsed } from './args.js';
import { UsageError } from './args.js';
import type { DetectResult } from '../engine/types.js';
import { Enricher, ENRICH_COLUMNS, enrichColumns, type Enrichment } from '../enrich/index.js';
import { analyse, type Analysis } from '../stats/index.js';
import type { ExtraColumns } from '../output/verdicts.js';
import { protocolName, services } from '../stats/services.js';
import { homeNetFrom } from './settings.js';

export const ANALYSIS_OPTIONS: OptionSpec[] = [
  { name: 'geoip-db', type: 'string', help: 'MaxMind-format country database (GeoLite2-Country/City, ...) instead of the bundled one', value: 'FILE' },
  { name: 'asn-db', type: 'string', help: 'MaxMind-format ASN database (GeoLite2-ASN, ...) instead of the bundled one', value: 'FILE' },
  { name: 'actors', type: 'list', help: 'known scanners: CIDR list or MISP warninglist JSON (repeatable)', value: 'FILE' },
  { name: 'no-builtin-actors', type: 'boolean', help: 'do not use the bundled list of known scanning services' },
  { name: 'rdns', type: 'boolean', help: 'look up forward-confirmed reverse DNS of scanner IPs (uses the network)' },
  { name: 'no-enrich', type: 'boolean', help: 'no country / network / actor columns (statistics are still written)' },
  { name: 'top', type: 'number', help: 'length of the top lists in summary.json', default: 20 },
];

export interface AnalysisPlan {
  enricher: Enricher | null;
  topN: number;
  settings: Record<string, unknown>;
}

/** Validates the options and opens the databases before any detection work. */
export function analysisPlan(v: Parsed['values']): AnalysisPlan {
  const topN = Number(v.top ?? 20);
  if (!(Number.isInteger(topN) && topN >= 1 && topN <= 10000)) throw new UsageError('--top must be an integer between 1 and 10000');
  const actors = (v.actors as string[] | undefined) ?? [];
  const settings = {
    enrich: !v['no-enrich'],
    geoip_db: (v['geoip-db'] as string | undefined) ?? null,
    asn_db: (v['asn-db'] as string | undefined) ?? null,
    actors,
    builtin_actors: !v['no-builtin-actors'],
    rdns: Boolean(v.rdns),
    top: topN,
  };
  if (v['no-enrich']) return { enricher: null, topN, settings };
  try {
    const enricher = new Enricher({
      geoipDb: settings.geoip_db ?? undefined,
      asnDb: settings.asn_db ?? undefined,
      actors,
      builtinActors: settings.builtin_actors,
      rdns: settings.rdns,
      homeNet: homeNetFrom(v),
    });
    return { enricher, topN, settings };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** What the analysis reads of a run's result: its inbound verdicts. */
type AnalysedResult = Pick<DetectResult, 'scans' | 'nearMisses' | 'endpointDays'>;

/** Enrich the run's scanner IPs (scans and near misses) and compute the statistics. */
export async function runAnalysis(result: AnalysedResult, windowSeconds: number, plan: AnalysisPlan): Promise<Analysis> {
  if (!plan.enricher) return analysedWith(result, windowSeconds, plan, null);
  const addresses = [...result.scans, ...result.nearMisses].map((v) => ({ text: v.src, words: v.srcWords }));
  return analysedWith(result, windowSeconds, plan, await plan.enricher.enrich(addresses));
}

function analysedWith(result: AnalysedResult, windowSeconds: number, plan: AnalysisPlan, enrichment: Enrichment | null): Analysis {
  return analyse({ scans: result.scans, endpointDays: result.endpointDays, windowSeconds, enrichment, topN: plan.topN });
}

/**
 * What the analysis reads on its first use, read now: the port names' table (~2.5 ms of a
 * run's serial end). detect calls it while the shard threads finalise, when this thread
 * would wait (bench/RESULTS.md, session 17 textwall).
 */
export function prepareAnalysis(): void {
  services();
}

/** runAnalysis at once where the plan enriches nothing (nothing to wait for); null where it enriches. */
export function analysisNow(result: AnalysedResult, windowSeconds: number, plan: AnalysisPlan): Analysis | null {
  return plan.enricher ? null : analysedWith(result, windowSeconds, plan, null);
}

/** The enrichment columns of scans.ndjson / scans.csv. */
export function enrichmentColumns(a: Analysis): ExtraColumns | undefined {
  const facts = a.enrichment?.facts;
  if (!facts) return undefined;
  return { names: ENRICH_COLUMNS, values: (v) => enrichColumns(facts.get(v.src)) };
}

/** A few lines for the terminal: the most scanned ports and the known scanners seen. */
export function humanAnalysis(a: Analysis): string {
  const lines: string[] = [];
  const top = [...a.ports.ports].slice(0, 5).map((p) => `${protocolName(p.protocol)}/${p.port}${p.service ? ` ${p.service}` : ''} (${p.scanner_ips})`);
  if (top.length) lines.push(`  most scanned (scanner IPs): ${top.join(', ')}`);
  if (a.endpoints && a.endpoints.all.endpoints > 0) {
    const e = a.endpoints.all;
    lines.push(`  per endpoint-day: median ${e.scanner_ips.median} scanner IPs on ${e.ports.median} ports (p95 ${e.scanner_ips.p95} / ${e.ports.p95})`);
  }
  if (a.sources.actors.length) {
    lines.push(`  known scanners: ${a.sources.actors.map((r) => `${r.actor} ${r.scanner_ips}`).join(', ')}`);
  }
  for (const w of a.enrichment?.warnings.slice(0, 5) ?? []) lines.push(`  enrichment: ${w}`);
  return lines.join('\n');
}
