/**
 * Progress of a long run on stderr. On a terminal: one line rewritten in place. Elsewhere
 * (CI, Kubernetes, systemd, a pipe): a whole line every FLOWSIEVE_PROGRESS_SECONDS seconds
 * (default 10; 0 for none), or with --log-format json a record with the figures as fields.
 */
import type { Progress } from '../engine/run.js';
import { log, logFormat } from './log.js';

export interface ProgressFigures {
  files_done: number | null;
  files_total: number | null;
  bytes_done: number;
  bytes_total: number;
  records: number;
  records_per_second: number;
  megabytes_per_second: number;
  eta_seconds: number | null;
  elapsed_seconds: number;
}

export function figures(p: Progress): ProgressFigures {
  const t = Math.max(p.elapsed, 1e-3);
  const eta = p.bytesTotal > 0 && p.bytesDone > 0 ? ((p.bytesTotal - p.bytesDone) / p.bytesDone) * p.elapsed : NaN;
  return {
    files_done: p.filesDone ?? null,
    files_total: p.filesTotal ?? null,
    bytes_done: p.bytesDone,
    bytes_total: p.bytesTotal,
    records: p.records,
    records_per_second: Math.round(p.records / t),
    megabytes_per_second: Math.round((p.bytesDone / 1e6 / t) * 10) / 10,
    eta_seconds: Number.isFinite(eta) ? Math.round(eta) : null,
    elapsed_seconds: Math.round(p.elapsed),
  };
}

const mb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);

/** The line a person reads: files, bytes, records, rate and ETA. */
export function progressText(f: ProgressFigures): string {
  const pct = f.bytes_total > 0 ? ` (${((100 * f.bytes_done) / f.bytes_total).toFixed(0)} %)` : '';
  return (
    (f.files_total !== null ? `${f.files_done}/${f.files_total} files, ` : '') +
    `${mb(f.bytes_done)} of ${mb(f.bytes_total)}${pct}, ${(f.records / 1e6).toFixed(2)} M records, ` +
    `${(f.records_per_second / 1e6).toFixed(2)} M records/s, ${f.megabytes_per_second} MB/s` +
    (f.eta_seconds !== null ? `, ETA ${f.eta_seconds} s` : '')
  );
}

/** Seconds between progress lines when stderr is not a terminal. */
export function progressInterval(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.FLOWSIEVE_PROGRESS_SECONDS ?? 10);
  return Number.isFinite(n) && n >= 0 ? n : 10;
}

/**
 * A progress callback for a run, and `done` to clear a terminal's line. `undefined` when
 * nothing is to be shown (quiet, or an interval of 0 off a terminal).
 */
export function progressReporter(command: string, quiet: boolean): { onProgress: (p: Progress) => void; done: () => void } | undefined {
  if (quiet) return undefined;
  if (process.stderr.isTTY && logFormat() === 'text') {
    return {
      onProgress: (p) => process.stderr.write(`\r\x1b[K ${progressText(figures(p))}`),
      done: () => process.stderr.write('\r\x1b[K'),
    };
  }
  const every = progressInterval() * 1000;
  if (every === 0) return undefined;
  let next = performance.now() + every;
  return {
    onProgress: (p) => {
      const now = performance.now();
      if (now < next) return;
      next = now + every;
      const f = figures(p);
      log('info', logFormat() === 'json' ? 'progress' : `flowsieve ${command}: progress: ${progressText(f)}`, { progress: f });
    },
    done: () => {},
  };
}
