/**
 * Three days of hand-written AWS flow logs with a known days-observed histogram:
 * 45.10.0.1 scans every day (tcp/22, and tcp/23 on day 2), 45.10.0.2 on days 1 and 2
 * (tcp/445), 45.10.0.3 (tcp/23), 45.10.0.4 (udp/5060) on day 1 only, 45.10.0.5 on day 3
 * only (tcp/3389); 45.10.0.9 touches too few endpoints to be a scanner.
 * Histogram: 1 day: 3 IPs, 2 days: 1, 3 days: 1.
 */
import { join } from 'node:path';
import { scanner, writeV2, type Flow } from './aws.js';

export const DAY0 = Date.UTC(2024, 2, 1) / 1000; // 2024-03-01T00:00:00Z
export const DAYS = ['2024-03-01', '2024-03-02', '2024-03-03'];

export function dayFlows(d: number): Flow[] {
  const t = DAY0 + d * 86400 + 3600;
  const flows: Flow[] = [...scanner('45.10.0.1', 12, { start: t, dport: 22 })];
  if (d === 1) flows.push(...scanner('45.10.0.1', 10, { start: t + 60, dport: 23 }));
  if (d <= 1) flows.push(...scanner('45.10.0.2', 15, { start: t + 120, dport: 445, packets: 2, bytes: 80 }));
  if (d === 0) {
    flows.push(...scanner('45.10.0.3', 11, { start: t + 7200, dport: 23 }));
    flows.push(...scanner('45.10.0.4', 20, { start: t + 9000, dport: 5060, proto: 17, bytes: 400 }));
  }
  if (d === 2) flows.push(...scanner('45.10.0.5', 13, { start: t + 30000, dport: 3389 }));
  if (d === 1) flows.push(...scanner('45.10.0.9', 5, { start: t, dport: 8080 }));
  return flows;
}

/** Writes day-1.log, day-2.log, day-3.log in dir; returns their paths. */
export function writeThreeDays(dir: string): string[] {
  return [0, 1, 2].map((d) => {
    const path = join(dir, `day-${d + 1}.log`);
    writeV2(path, dayFlows(d));
    return path;
  });
}
