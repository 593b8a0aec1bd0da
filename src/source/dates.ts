/**
 * --from / --to: a UTC time range [from, to) in Unix seconds, and the times that a key's
 * folders name in the layouts the clouds write:
 *   AWS   AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]
 *   AWS Parquet (Hive-compatible)  .../year=YYYY/month=MM/day=DD/hour=HH/
 *   Azure .../y=YYYY/m=MM/d=DD/h=HH/m=00/...
 *   GCP (Cloud Logging export)  .../compute.googleapis.com/vpc_flows/YYYY/MM/DD/
 *   Security Lake  .../region=<region>/accountId=<account>/eventDay=YYYYMMDD/
 * A listing skips folders whose span misses the range before listing inside them.
 */

export interface TimeRange {
  from: number; // Unix seconds, inclusive
  to: number; // Unix seconds, exclusive
}

export const ALL_TIME: TimeRange = { from: 0, to: 2 ** 32 };

export class TimeRangeError extends Error {}

/**
 * A UTC day (2024-03-01), hour (2024-03-01T06) or time (2024-03-01T06:30:00Z, offsets
 * allowed) as Unix seconds. `end`: a day or hour given as --to covers all of it.
 */
export function parseTimeBound(text: string, option: string, end: boolean): number {
  const t = text.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (day) return Date.UTC(+day[1]!, +day[2]! - 1, +day[3]! + (end ? 1 : 0)) / 1000;
  const hour = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})$/.exec(t);
  if (hour) return Date.UTC(+hour[1]!, +hour[2]! - 1, +hour[3]!, +hour[4]! + (end ? 1 : 0)) / 1000;
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(t) ? t : `${t}Z`;
  const ms = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t) ? Date.parse(withZone.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw new TimeRangeError(`${option} ${text}: expected a UTC day (2024-03-01), hour (2024-03-01T06) or time (2024-03-01T06:30:00Z)`);
  return Math.floor(ms / 1000);
}

/** The range of --from and --to (either may be absent); undefined when neither is given. */
export function timeRangeOf(from: unknown, to: unknown): TimeRange | undefined {
  if (from === undefined && to === undefined) return undefined;
  const r: TimeRange = {
    from: from === undefined ? ALL_TIME.from : parseTimeBound(String(from), '--from', false),
    to: to === undefined ? ALL_TIME.to : parseTimeBound(String(to), '--to', true),
  };
  if (!(r.to > r.from)) throw new TimeRangeError(`--to ${String(to)} is not after --from ${String(from)}`);
  return r;
}

/** The span [start, end) in Unix seconds that a key's (or a folder's) date folders name, or null when they name none. */
export function spanOfKey(key: string): TimeRange | null {
  let y: number | undefined;
  let m: number | undefined;
  let d: number | undefined;
  let h: number | undefined;
  for (const part of key.replace(/\\/g, '/').split('/')) {
    let g: RegExpExecArray | null;
    if ((g = /^(?:dt|date)=(\d{4})-(\d{2})-(\d{2})$/i.exec(part) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(part) ?? /^eventDay=(\d{4})(\d{2})(\d{2})$/i.exec(part))) {
      [y, m, d, h] = [+g[1]!, +g[2]!, +g[3]!, undefined];
    } else if ((g = /^(?:y|year)=(\d{4})$/i.exec(part))) {
      [y, m, d, h] = [+g[1]!, undefined, undefined, undefined];
    } else if ((g = /^(?:m|month)=(\d{1,2})$/i.exec(part))) {
      if (y !== undefined && m === undefined) m = +g[1]!; // Azure's second m= (minute, after h=) names no new span
    } else if ((g = /^(?:d|day)=(\d{1,2})$/i.exec(part))) {
      if (m !== undefined) d = +g[1]!;
    } else if ((g = /^(?:h|hour)=(\d{1,2})$/i.exec(part))) {
      if (d !== undefined) h = +g[1]!;
    } else if (/^\d{4}$/.test(part) && y === undefined && +part >= 1990 && +part < 2200) {
      y = +part;
    } else if (/^\d{2}$/.test(part) && y !== undefined && h === undefined) {
      if (m === undefined) m = +part;
      else if (d === undefined) d = +part;
      else h = +part;
    }
  }
  if (y === undefined) return null;
  const at = (yy: number, mm: number, dd: number, hh: number) => Date.UTC(yy, mm - 1, dd, hh) / 1000;
  if (m === undefined) return { from: at(y, 1, 1, 0), to: at(y + 1, 1, 1, 0) };
  if (d === undefined) return { from: at(y, m, 1, 0), to: at(y, m + 1, 1, 0) };
  if (h === undefined) return { from: at(y, m, d, 0), to: at(y, m, d + 1, 0) };
  return { from: at(y, m, d, h), to: at(y, m, d, h + 1) };
}

/** Whether a key (or folder) may hold records in the range: its folders' span meets it, or it names no date. */
export function mayOverlap(key: string, range: TimeRange): boolean {
  const span = spanOfKey(key);
  return span === null || (span.to > range.from && span.from < range.to);
}

/** The UTC days (YYYY-MM-DD) a span covers. */
export function daysOf(span: TimeRange): string[] {
  const out: string[] = [];
  for (let t = Math.floor(span.from / 86400) * 86400; t < span.to; t += 86400) out.push(new Date(t * 1000).toISOString().slice(0, 10));
  return out;
}
