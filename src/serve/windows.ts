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
