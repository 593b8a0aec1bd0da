/**
 * Per endpoint per day (detection.md §5): how many distinct scanner IPs reached a monitored
 * endpoint, and on how many distinct (protocol, port)s, summarised across endpoints (the
 * study's "1,500 scanner IPs targeting 1,900 ports per endpoint per day"). Only endpoints
 * touched by at least one scan key appear; the engine computes the per-endpoint facts
 * (DetectResult.endpointDays), this module summarises them.
 */
import type { EndpointDay } from '../engine/verdict.js';
import { distribution, type Distribution } from './distribution.js';

export interface EndpointDayRow {
  day: string;
  cloud: string;
  account: string;
  endpoint: string;
  scanner_ips: number;
  ports: number; // distinct (protocol, port)s scanned on it that day
}

export interface EndpointSummary {
  day: string | 'all';
  endpoints: number; // endpoints with at least one scan that day (for 'all': endpoint-days)
  scanner_ips: Distribution; // distinct scanner IPs per endpoint
  ports: Distribution; // distinct scanned (protocol, port)s per endpoint
}

export function endpointRows(days: readonly EndpointDay[]): EndpointDayRow[] {
  return days.map((d) => ({ day: d.day, cloud: d.cloud, account: d.account, endpoint: d.endpoint, scanner_ips: d.scanners, ports: d.ports.length }));
}

/** The distribution per day, and over all endpoint-days of the run. */
export function endpointStats(days: readonly EndpointDay[]): { per_day: EndpointSummary[]; all: EndpointSummary } {
  const byDay = new Map<string, EndpointDay[]>();
  for (const d of days) {
    let list = byDay.get(d.day);
    if (!list) byDay.set(d.day, (list = []));
    list.push(d);
  }
  const summarise = (day: string, list: readonly EndpointDay[]): EndpointSummary => ({
    day,
    endpoints: list.length,
    scanner_ips: distribution(list.map((d) => d.scanners)),
    ports: distribution(list.map((d) => d.ports.length)),
  });
  const per_day = [...byDay.keys()].sort().map((day) => summarise(day, byDay.get(day)!));
  return { per_day, all: summarise('all', days) };
}
