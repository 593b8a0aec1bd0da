/**
 * The verdict rules of detection.md §3: every threshold is an option with the spec's default,
 * and a named profile can change several at once.
 */

export interface Thresholds {
  minEndpoints: number;
  minAccounts: number;
  minRegions: number;
  minClouds: number;
  maxCvPackets: number;
  maxCvBytes: number;
  maxCvFlows: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  minEndpoints: 10,
  minAccounts: 1,
  minRegions: 1,
  minClouds: 1,
  maxCvPackets: 0.5,
  maxCvBytes: 0.5,
  maxCvFlows: 1.0,
});

/** The original study's setting: multi-cloud, multi-tenant data. */
export const PROFILES: Record<string, Partial<Thresholds>> = {
  default: {},
  'multi-cloud': { minAccounts: 2, minRegions: 2, minClouds: 2 },
};

/** The features of one scan key (detection.md §3). A CV is null when no endpoint had the counts. */
export interface KeyFeatures {
  endpoints: number;
  clouds: number;
  accounts: number;
  regions: number;
  cvPackets: number | null;
  cvBytes: number | null;
  cvFlows: number;
}

/** Names of the conditions a key fails, in the spec's order ([] = it is a scan). */
export function failedConditions(f: KeyFeatures, t: Thresholds): string[] {
  const failed: string[] = [];
  if (f.endpoints < t.minEndpoints) failed.push('min_endpoints');
  if (f.accounts < t.minAccounts) failed.push('min_accounts');
  if (f.regions < t.minRegions) failed.push('min_regions');
  if (f.clouds < t.minClouds) failed.push('min_clouds');
  if (f.cvPackets !== null && !(f.cvPackets <= t.maxCvPackets)) failed.push('max_cv_packets');
  if (f.cvBytes !== null && !(f.cvBytes <= t.maxCvBytes)) failed.push('max_cv_bytes');
  if (!(f.cvFlows <= t.maxCvFlows)) failed.push('max_cv_flows');
  return failed;
}

/**
 * Coefficient of variation (population standard deviation / mean) of values[0, n).
 * The values are sorted first and folded with Welford's method, so the result depends
 * only on the multiset of values, never on the order endpoints were seen in: that is
 * what makes the CVs (and so the verdicts) bit-identical across worker counts.
 */
export function coefficientOfVariation(values: Float64Array, n: number): number {
  if (n === 0) return 0;
  values.subarray(0, n).sort();
  return welfordCv(values, n);
}

/** The CV of values[0, n) folded in the order they lie in (Welford's method). */
function welfordCv(v: Float64Array, n: number): number {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  if (mean === 0) return 0;
  const variance = m2 / n;
  return Math.sqrt(variance > 0 ? variance : 0) / mean;
}

/**
 * Whether coefficientOfVariation(values, n) <= max (values[0, n) non-negative; they may be
 * left sorted), mostly without its sort: folded in the order given the CV differs from the
 * sorted values' by rounding only (relatively ~n × 2^-52 over the CV squared), so a CV
 * farther than CV_MARGIN from `max` decides alike, and only one that near is sorted and
 * computed exactly. For the outbound finalisation's test of each group's traffic
 * (outbound-table.ts evenTraffic), where most groups fail far from the threshold and the
 * sorts were ~3/4 of the test's time on the issue's 7 M-record bucket (tail.ts). The inbound
 * finalise module decides a scans-only run's keys the same way (assembly/shared/scan-finalise.ts
 * cvFar, its margin widened where a CV is tiny).
 */
export function cvAtMost(values: Float64Array, n: number, max: number): boolean {
  if (n === 0) return 0 <= max;
  const cv = welfordCv(values, n);
  if (Number.isFinite(cv) && cv > 0 && Math.abs(cv - max) > CV_MARGIN * (1 + max)) return cv <= max;
  return coefficientOfVariation(values, n) <= max;
}

/** cvAtMost's margin: many orders above the fold's rounding (~1e-10 for a million values near a CV of 0.5). */
const CV_MARGIN = 1e-6;

/** Parse a duration like 6h, 30m, 3600 or 3600s into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`bad duration '${text}' (expected e.g. 6h, 30m, 3600s)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : 86400);
}

/** detection.md §3: W must divide 24 h so that every window lies inside one UTC day. */
export function checkWindow(seconds: number): void {
  if (!(seconds > 0) || 86400 % seconds !== 0) {
    throw new Error(`window must divide 24h evenly (got ${seconds}s)`);
  }
}
