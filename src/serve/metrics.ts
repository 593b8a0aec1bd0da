/** The sidecar's Prometheus metrics (prom-client), on a registry of its own. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly records: Counter<'format'>;
  readonly bytes: Counter<'format'>;
  readonly rejects: Counter<'format'>;
  readonly lateRecords: Counter;
  readonly files: Counter<'result'>;
  readonly filesPending: Gauge;
  readonly filesSettling: Gauge;
  readonly bytesPending: Gauge;
  readonly batchSeconds: Histogram;
  readonly checkpointSeconds: Histogram;
  readonly checkpointBytes: Gauge;
  readonly accumulatorEntries: Gauge;
  readonly accumulatorBytes: Gauge;
  readonly windowsOpen: Gauge;
  readonly scannersPerDay: Gauge<'day'>;
  readonly lastFinalizedWindowEnd: Gauge;
  readonly watermark: Gauge;
  readonly ready: Gauge;
  readonly httpSeconds: Histogram<'route' | 'code'>;

  constructor() {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'flowsieve_' });
    this.records = new Counter({ name: 'flowsieve_records_read_total', help: 'flow records read, by input format', labelNames: ['format'], registers: r });
    this.bytes = new Counter({ name: 'flowsieve_bytes_read_total', help: 'bytes read from spool files, by input format', labelNames: ['format'], registers: r });
    this.rejects = new Counter({ name: 'flowsieve_rejected_lines_total', help: 'lines or objects that could not be parsed, by input format', labelNames: ['format'], registers: r });
    this.lateRecords = new Counter({ name: 'flowsieve_late_records_total', help: 'records for windows already finalised (counted, not accumulated)', registers: r });
    this.files = new Counter({ name: 'flowsieve_files_total', help: 'spool files processed, by result (ok or failed)', labelNames: ['result'], registers: r });
    this.filesPending = new Gauge({ name: 'flowsieve_files_pending', help: 'spool files waiting to be processed (ready or settling)', registers: r });
    this.filesSettling = new Gauge({ name: 'flowsieve_files_settling', help: 'spool files not yet complete (changed within the settle time)', registers: r });
    this.bytesPending = new Gauge({ name: 'flowsieve_bytes_pending', help: 'bytes of the pending spool files', registers: r });
    this.batchSeconds = new Histogram({
      name: 'flowsieve_batch_seconds',
      help: 'time of one batch: read, accumulate, finalise, checkpoint, write',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: r,
    });
    this.checkpointSeconds = new Histogram({
      name: 'flowsieve_checkpoint_seconds',
      help: 'time to export the accumulators and commit the checkpoint',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.checkpointBytes = new Gauge({ name: 'flowsieve_checkpoint_bytes', help: 'size of the last checkpoint', registers: r });
    this.accumulatorEntries = new Gauge({ name: 'flowsieve_accumulator_keys', help: 'live accumulator entries (scan key x endpoint) in the open windows', registers: r });
    this.accumulatorBytes = new Gauge({ name: 'flowsieve_accumulator_bytes', help: 'memory of the live accumulators', registers: r });
    this.windowsOpen = new Gauge({ name: 'flowsieve_windows_open', help: 'windows with data that are not finalised yet', registers: r });
    this.scannersPerDay = new Gauge({ name: 'flowsieve_scanners', help: 'distinct scanner IPs per UTC day (the last 7 days with data)', labelNames: ['day'], registers: r });
    this.lastFinalizedWindowEnd = new Gauge({ name: 'flowsieve_last_finalized_window_end_seconds', help: 'end (Unix seconds) of the last finalised window', registers: r });
    this.watermark = new Gauge({ name: 'flowsieve_watermark_seconds', help: 'newest flow time seen minus the allowed lateness (Unix seconds)', registers: r });
    this.ready = new Gauge({ name: 'flowsieve_ready', help: '1 once the state is loaded', registers: r });
    this.httpSeconds = new Histogram({
      name: 'flowsieve_http_request_seconds',
      help: 'HTTP API latency by route and status code',
      labelNames: ['route', 'code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    });
  }

  /** Scanner counts of the last days with data (older days leave the gauge). */
  setScannersPerDay(days: Array<{ day: string; scanner_ips: number }>): void {
    this.scannersPerDay.reset();
    for (const d of days.slice(-7)) this.scannersPerDay.set({ day: d.day }, d.scanner_ips);
  }
}
