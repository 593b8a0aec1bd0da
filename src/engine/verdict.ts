/**
 * What finalisation hands out (detection.md §3): a scan key's verdict and the per-endpoint-day
 * facts, and the options and result of one finalisation. A leaf module: the many readers
 * of verdicts (stats, reports, stores, the sidecar) import these types without the
 * accumulator that makes them.
 */
import type { Thresholds } from '../detect/rules.js';

/** One scan key's result, as the shard hands it to the merger. */
/** The traffic figures a scan key and an outbound finding both report (SPEC §3, §4). */
export interface TrafficFigures {
  flows: number;
  packets: number;
  bytes: number;
  cvPackets: number | null;
  cvBytes: number | null;
  cvFlows: number;
}

export interface KeyVerdict extends TrafficFigures {
  window: number;
  srcWords: number[]; // four words, for sorting
  src: string;
  protocol: number;
  dstPort: number;
  endpoints: number;
  clouds: number;
  accounts: number;
  regions: number;
  firstSeen: number;
  lastSeen: number;
  failed: string[]; // [] for a scan
}

export interface FinalizeOptions {
  thresholds: Thresholds;
  windowSeconds: number;
  nearMisses: boolean;
  /** Only finalise (and then drop) entries whose window is <= this; undefined = all. */
  uptoWindow?: number;
  /** Drop the finalised entries from the table (incremental finalisation). */
  drop?: boolean;
  /**
   * Also list each endpoint-day's scanner sources, so that a caller finalising a day
   * window by window can count the day's distinct scanners exactly (the sidecar).
   */
  endpointSources?: boolean;
}

/** Per endpoint per UTC day: the distinct scanners and scanned ports of scan keys that touched it. */
export interface EndpointDay {
  day: string; // YYYY-MM-DD
  cloud: string;
  account: string;
  endpoint: string; // dst address text
  scanners: number; // distinct scanner sources (sources are disjoint across shards, so counts add)
  ports: number[]; // distinct protocol << 16 | port, sorted
  sources?: string[]; // the scanner sources, sorted (only with FinalizeOptions.endpointSources)
}

export interface FinalizeResult {
  verdicts: KeyVerdict[];
  endpointDays: EndpointDay[];
  keys: number; // distinct scan keys finalised
  entries: number; // distinct (key, endpoint, region) entries finalised
}
