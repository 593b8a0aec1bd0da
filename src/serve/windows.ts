/**
 * Event time for the sidecar: the watermark, which windows it closes, and the UTC days
 * the windows fall in. A window is finalised once the watermark (the newest flow time
 * seen, minus the allowed lateness) passes its end; records that arrive for it later
 * are late (counted, reported, not accumulated).
 */
import { isoTime } from '../output/verdicts.js';

export const DAY = 86400;

/**
 * The watermark in Unix seconds, or -Infinity before any record. The newest flow time is
 * capped at the wall clock: one record stamped in the future (a broken clock, a bad
 * line) must not close every window at once and make the real traffic late.
 */
export function watermark(maxEnd: number, nowSeconds: number, latenessSeconds: number): number {
  if (!Number.isFinite(maxEnd)) return -Infinity;
  return Math.min(maxEnd, nowSeconds) - latenessSeconds;
}

/** The last window whose end the watermark has reached (-1 when none). */
export function closableUpTo(wm: number, windowSeconds: number): number {
  if (!Number.isFinite(wm) || wm < windowSeconds) return -1;
  return Math.floor(wm / windowSeconds) - 1; // window w ends at (w + 1) * W
}

/** Records starting before this second belong to finalised windows. */
export function lateBefore(finalizedUpTo: number, windowSeconds: number): number {
  return finalizedUpTo < 0 ? 0 : (finalizedUpTo + 1) * windowSeconds;
}

export function dayOfWindow(window: number, windowSeconds: number): string {
  return isoTime(window * windowSeconds).slice(0, 10);
}

/** First and last window of a UTC day (YYYY-MM-DD). */
export function windowsOfDay(day: string, windowSeconds: number): { first: number; last: number } {
  const start = dayStart(day);
  return { first: start / windowSeconds, last: (start + DAY) / windowSeconds - 1 };
}

/** Unix seconds of a day's 00:00 UTC; NaN when the text is not a real YYYY-MM-DD date. */
export function dayStart(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return NaN;
  const t = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== day) return NaN;
  return t / 1000;
}

/** True when every window of the day is finalised. */
export function dayComplete(day: string, finalizedUpTo: number, windowSeconds: number): boolean {
  return windowsOfDay(day, windowSeconds).last <= finalizedUpTo;
}

export function windowStartText(window: number, windowSeconds: number): string {
  return isoTime(window * windowSeconds);
}

// ---------------------------------------------------------------------------------------
// per-stream watermarks

/**
 * Default lateness per cloud (seconds), from how each delivers its flow logs:
 * - aws: 5- or 10-minute objects, published some minutes after their interval ends (and
 *   hourly objects from many shippers' re-batching): a stream's next object may hold
 *   records up to an hour older than the newest it sent.
 * - azure: `PT1H.json` blobs are appended to for the whole hour; one is complete (and taken)
 *   only after its hour ends, holding records from the hour's first minute: one hour plus
 *   the blob's delivery delay.
 * - gcp: exported continuously, but aggregated up to 15 minutes and cut into hourly files
 *   by Cloud Storage sinks: one hour.
 * - other (NetFlow/IPFIX): an exporter's active timeout (30 minutes by default) bounds how
 *   long a flow's start can precede its export.
 */
export const DEFAULT_LATENESS: Readonly<Record<string, number>> = {
  aws: 3600,
  azure: 2 * 3600,
  gcp: 3600,
  other: 1800,
};

/** A stream goes idle (stops holding the watermark) after this long without a file. */
export const DEFAULT_IDLE_SECONDS = 3600;

/** The cloud a format's files come from (for DEFAULT_LATENESS). */
export function cloudOfFormat(format: string | null | undefined): string {
  if (!format) return 'other';
  if (format.startsWith('aws')) return 'aws';
  if (format.startsWith('azure')) return 'azure';
  if (format.startsWith('gcp')) return 'gcp';
  return 'other';
}

/**
 * The stream a spool file belongs to: `aws:<account>/<region>` for the AWSLogs key layout,
 * else its folder relative to the spool with the dated part of the path left out
 * (`y=2023/...`, `2023/11/15/...`), so that one shipper's daily folders are one stream.
 */
export function streamOfPath(relative: string): string {
  const parts = relative.split(/[/\\]/).slice(0, -1);
  const aws = parts.indexOf('vpcflowlogs');
  if (aws >= 1 && parts.length > aws + 1 && /^\d{12}$/.test(parts[aws - 1]!)) return `aws:${parts[aws - 1]}/${parts[aws + 1]}`;
  const dated = parts.findIndex((p) => /^(y=)?\d{4}$/.test(p));
  return (dated < 0 ? parts : parts.slice(0, dated)).join('/');
}

export interface StreamMark {
  maxEnd: number; // newest record end of the stream (Unix s)
  seenAt: number; // wall clock (Unix s) of the stream's last file
  lateness: number; // seconds
}

export interface WatermarkOptions {
  /** Lateness of a stream of this cloud (seconds). */
  latenessOf: (cloud: string) => number;
  idleSeconds: number;
}

/**
 * The event time of many streams (accounts and regions, spool folders, a cloud source's
 * prefixes: callers name them). The watermark is the slowest active stream's newest flow
 * time, capped at the wall clock, minus that stream's lateness: one stream that runs ahead
 * (a backfill, a clock gone wrong) cannot push the others' records into "late". A stream
 * with no file for idleSeconds stops holding the watermark back; so does every stream once
 * all are idle, when the newest one decides (the feed stopped: close what it can).
 */
export class Watermarks {
  private readonly streams = new Map<string, StreamMark>();

  constructor(private readonly opts: WatermarkOptions) {}

  /** A stream delivered records ending at maxEnd (-Infinity: none) of the given cloud. */
  observe(stream: string, maxEnd: number, cloud: string, nowSeconds: number): void {
    const m = this.streams.get(stream);
    const lateness = this.opts.latenessOf(cloud);
    if (m) {
      m.maxEnd = Math.max(m.maxEnd, maxEnd);
      m.seenAt = Math.max(m.seenAt, nowSeconds);
      m.lateness = Math.max(m.lateness, lateness);
    } else {
      this.streams.set(stream, { maxEnd, seenAt: nowSeconds, lateness });
    }
  }

  /**
   * The watermark in Unix seconds (-Infinity: close nothing). `waiting`: streams with files
   * not read yet; they count as active, and a stream never read holds everything until it is.
   */
  value(nowSeconds: number, waiting: Iterable<string> = []): number {
    const held = new Set(waiting);
    for (const s of held) if (!this.streams.has(s)) return -Infinity;
    let active = Infinity;
    let newest = -Infinity;
    for (const [name, m] of this.streams) {
      if (!Number.isFinite(m.maxEnd)) continue; // a stream of no records says nothing about time
      const mark = Math.min(m.maxEnd, nowSeconds) - m.lateness;
      newest = Math.max(newest, mark);
      if (held.has(name) || nowSeconds - m.seenAt < this.opts.idleSeconds) active = Math.min(active, mark);
    }
    return Number.isFinite(active) ? active : newest;
  }

  /** The newest flow time of any stream (-Infinity before any record). */
  newest(): number {
    let t = -Infinity;
    for (const m of this.streams.values()) t = Math.max(t, m.maxEnd);
    return t;
  }

  /** For the checkpoint. */
  toJSON(): Array<[string, StreamMark]> {
    return [...this.streams].map(([k, m]) => [k, { ...m }]);
  }

  load(saved: Array<[string, StreamMark]>): void {
    this.streams.clear();
    for (const [k, m] of saved) this.streams.set(k, { ...m });
  }

  get size(): number {
    return this.streams.size;
  }
}
