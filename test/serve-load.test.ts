/**
 * flowsieve serve under pressure: the spool is filled far faster than it drains (every
 * file at once, small batches), and while the batches run a bounded number of concurrent
 * API requests hit loopback. Checks: /metrics shows the backlog and its drain, memory
 * and accumulators stay bounded by the open windows (not by the backlog), no request
 * fails; the latency percentiles are printed.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { V2_HEADER, v2Line, type Flow } from './helpers/aws.js';
import { dropFile, getJson, startServe, stopServe } from './helpers/serve.js';
import { T0 } from './helpers/stream.js';

const HOURS = 24;
const FILES_PER_HOUR = 4;
const RECORDS_PER_FILE = 1500;
const CONCURRENCY = 16;

/** Mostly one-endpoint noise (many distinct keys) plus a few real scanners per file. */
function fileText(h: number, q: number): string {
  const flows: Flow[] = [];
  const base = T0 + h * 3600 + q * 900;
  let x = (h * 7919 + q * 104729) >>> 0;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < RECORDS_PER_FILE - 40; i++) {
    const s = next();
    flows.push({ src: `${45 + (s % 50)}.${(s >>> 8) & 255}.${(s >>> 16) & 255}.${(s >>> 24) | 1}`, dst: `10.1.${i & 255}.${(s & 127) + 1}`, dport: 1 + (next() % 60000), start: base + (i % 900) });
  }
  for (let k = 0; k < 4; k++) {
    for (let e = 0; e < 10; e++) flows.push({ src: `80.${h}.${q}.${k + 1}`, dst: `10.2.${k}.${e + 1}`, dport: 22 + k, start: base + 10 * e });
  }
  return [V2_HEADER, ...flows.map(v2Line)].join('\n') + '\n';
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('serve: backlog and concurrent API load', () => {
  it('drains a backlog with bounded memory, shows it in /metrics, and answers every request meanwhile', async () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    mkdirSync(spool);
    const serve = await startServe(['--spool', spool, '--state', join(dir, 'state'), '--window', '1h', '--settle', '0', '--poll', '50ms', '--batch-files', '4', '--workers', '2']);
    try {
      await serve.waitLog(/ready: batch/);
      const idle = (await getJson(`${serve.url}/metrics`)).text;
      const rssIdle = metric(idle, 'flowsieve_process_resident_memory_bytes');

      // the shipper dumps the whole backlog at once
      let bytes = 0;
      for (let h = 0; h < HOURS; h++) {
        for (let q = 0; q < FILES_PER_HOUR; q++) {
          const text = fileText(h, q);
          bytes += text.length;
          dropFile(spool, `h${String(h).padStart(3, '0')}q${q}.log`, text);
        }
      }
      const files = HOURS * FILES_PER_HOUR;

      // observer: the backlog and memory, every 100 ms
      const seen = { maxPending: 0, maxPendingBytes: 0, maxRss: 0, maxKeys: 0, maxWindows: 0 };
      let draining = true;
      const observer = (async () => {
        while (draining) {
          const m = (await getJson(`${serve.url}/metrics`)).text;
          seen.maxPending = Math.max(seen.maxPending, metric(m, 'flowsieve_files_pending'));
          seen.maxPendingBytes = Math.max(seen.maxPendingBytes, metric(m, 'flowsieve_bytes_pending'));
          seen.maxRss = Math.max(seen.maxRss, metric(m, 'flowsieve_process_resident_memory_bytes'));
          seen.maxKeys = Math.max(seen.maxKeys, metric(m, 'flowsieve_accumulator_keys'));
          seen.maxWindows = Math.max(seen.maxWindows, metric(m, 'flowsieve_windows_open'));
          const st = (await getJson(`${serve.url}/v1/status`)).body;
          if (st.files_done >= files && st.files_pending === 0) draining = false;
          else await new Promise((r) => setTimeout(r, 100));
        }
      })();

      // load: CONCURRENCY clients in a loop while the batches run
      const paths = ['/v1/scanners?day=2023-11-15&limit=50', '/v1/stats?day=2023-11-15', '/v1/stats', '/v1/status', '/metrics', '/healthz', '/v1/scanners?day=2023-11-15&port=22'];
      const latencies: number[] = [];
      const failures: string[] = [];
      const t0 = performance.now();
      const client = async (c: number) => {
        for (let i = c; draining; i++) {
          const path = paths[i % paths.length]!;
          const t = performance.now();
          try {
            const res = await fetch(`${serve.url}${path}`);
            await res.arrayBuffer();
            // a day's stats are 404 until its first window is final; everything else must answer 200
            if (res.status !== 200 && !(res.status === 404 && path.startsWith('/v1/stats?day='))) failures.push(`${path}: ${res.status}`);
          } catch (err) {
            failures.push(`${path}: ${(err as Error).message}`);
          }
          latencies.push(performance.now() - t);
        }
      };
      await Promise.all([observer, ...Array.from({ length: CONCURRENCY }, (_, c) => client(c))]);
      const seconds = (performance.now() - t0) / 1000;

      latencies.sort((a, b) => a - b);
      const ms = (x: number) => `${x.toFixed(1)} ms`;
      console.log(
        `backlog: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${files * RECORDS_PER_FILE} records drained in ${seconds.toFixed(1)} s; ` +
          `max pending ${seen.maxPending} files; RSS idle ${(rssIdle / 2 ** 20).toFixed(0)} MiB, max ${(seen.maxRss / 2 ** 20).toFixed(0)} MiB; ` +
          `max accumulator keys ${seen.maxKeys}, max open windows ${seen.maxWindows}\n` +
          `API under load (${CONCURRENCY} concurrent clients, loopback): ${latencies.length} requests, ${(latencies.length / seconds).toFixed(0)} req/s; ` +
          `p50 ${ms(percentile(latencies, 50))}, p90 ${ms(percentile(latencies, 90))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1)!)}`,
      );

      expect(failures).toEqual([]);
      expect(latencies.length).toBeGreaterThan(100);
      // the backlog was visible while it drained
      expect(seen.maxPending).toBeGreaterThan(files / 2);
      expect(seen.maxPendingBytes).toBeGreaterThan(bytes / 2);
      // memory follows the open windows, not the backlog: at most a few windows' keys live at once
      const keysPerHour = FILES_PER_HOUR * RECORDS_PER_FILE;
      expect(seen.maxWindows).toBeLessThanOrEqual(4);
      expect(seen.maxKeys).toBeLessThan(4 * keysPerHour);
      expect(seen.maxRss).toBeLessThan(rssIdle + 256 * 2 ** 20);
      const final = (await getJson(`${serve.url}/metrics`)).text;
      expect(metric(final, 'flowsieve_files_pending')).toBe(0);
      expect(final).toMatch(/flowsieve_http_request_seconds_count\{route="\/v1\/scanners",code="200"\} \d+/);
      expect(metric(final, 'flowsieve_batch_seconds_count')).toBeGreaterThanOrEqual(files / 4);
    } finally {
      expect(await stopServe(serve)).toBe(0);
    }
  });
});
