/**
 * The time a flow-log file's own name or path gives, where the cloud's layout has one. A
 * record stamped far past it is wrong (a broken clock, a bad line), not early: the
 * ingest bound (FlowSink's notAfter) rejects it like any bad line.
 *
 * - AWS:   `<account>_vpcflowlogs_<region>_<id>_YYYYMMDDTHHMMZ_<hash>.log.gz` (the end of the
 *          delivery interval; our generator writes the hour's start)
 * - Azure: `.../y=YYYY/m=MM/d=DD/h=HH/m=00/.../PT1H.json` (the hour the blob is appended to)
 * - GCP:   `.../YYYY/MM/DD/HH:MM:SS_HH:MM:SS_S0.json` (Cloud Logging's sink to Cloud Storage;
 *          the hour's end is the second stamp)
 */

/** Records may end at most this long after their file's time (Azure's hour, AWS's aggregation, slack). */
export const FILE_TIME_SLACK_SECONDS = 86400;

const AWS_NAME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/\\]*$/;
const AZURE_PATH = /[/\\]y=(\d{4})[/\\]m=(\d{2})[/\\]d=(\d{2})[/\\]h=(\d{2})[/\\]m=(\d{2})[/\\]/;
const GCP_PATH = /[/\\](\d{4})[/\\](\d{2})[/\\](\d{2})[/\\]\d{2}:\d{2}:\d{2}_(\d{2}):(\d{2}):\d{2}_S\d+\.json/;

/** Unix seconds of the file's own time, or NaN when its name and path give none. */
export function fileTimeOf(path: string): number {
  const m = AWS_NAME.exec(path) ?? AZURE_PATH.exec(path) ?? GCP_PATH.exec(path);
  if (!m) return NaN;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // a name like 20231340T9999Z is not a time
  return Number.isFinite(t) && new Date(t).getUTCMonth() === Number(m[2]) - 1 ? t / 1000 : NaN;
}

/**
 * The latest record end a file may hold: the wall clock plus maxFuture, and its own time
 * plus FILE_TIME_SLACK_SECONDS where its path gives one. 0 = no bound (maxFuture < 0).
 */
export function notAfterFor(path: string, nowSeconds: number, maxFutureSeconds: number): number {
  if (!(maxFutureSeconds >= 0)) return 0;
  const own = fileTimeOf(path);
  const clock = Math.floor(nowSeconds) + maxFutureSeconds;
  return Number.isFinite(own) ? Math.min(clock, own + FILE_TIME_SLACK_SECONDS + maxFutureSeconds) : clock;
}
