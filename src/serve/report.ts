/**
 * GET /v1/report before any day is complete (the report module draws complete days from
 * the history store): a plain HTML page of what is final so far (days, top ports,
 * endpoint figures, the sidecar's state). No script; every value is escaped.
 */
import type { VerdictStore } from './store.js';

const esc = (x: unknown) =>
  String(x ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function table(head: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p><em>none yet</em></p>';
  return (
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

export function renderReport(store: VerdictStore, status: Record<string, unknown>): string {
  const days = store.days();
  const shown = days.at(-1)?.day;
  const stats = shown ? store.dayStats(shown, 15) : null;
  const seen = store.daysSeen();
  const parts: string[] = [];
  parts.push(`<h1>flowsieve: scanners</h1>`);
  parts.push('<p>No UTC day is complete yet: the full report (charts across days) starts with the first complete day. What is final so far:</p>');
  parts.push(
    `<p>State: ${esc(status.state)}; finalised through ${esc(status.finalized_through ?? 'nothing yet')}; ` +
      `watermark ${esc(status.watermark ?? '-')}; ${esc(status.files_pending)} file(s) pending; ${esc(status.late_records)} late record(s) since start.</p>`,
  );
  parts.push('<h2>Days</h2>');
  parts.push(table(['day', 'scanner IPs', 'scan keys'], days.map((d) => [d.day, d.scanner_ips, d.scan_keys])));
  parts.push('<h2>Days seen per scanner IP</h2>');
  parts.push(
    `<p>${seen.scanner_ips} scanner IP(s); seen on one day only: ${(seen.one_day_share * 100).toFixed(2)} %; on every day: ${(seen.every_day_share * 100).toFixed(2)} %.</p>`,
  );
  parts.push(table(['days seen', 'scanner IPs'], seen.days_seen_histogram.map((h) => [h.days, h.scanner_ips])));
  if (stats) {
    const s = stats as Record<string, any>;
    parts.push(`<h2>${esc(shown)}</h2>`);
    parts.push(
      `<p>${esc(s.scanner_ips)} scanner IP(s), ${esc(s.scan_keys)} scan key(s), ${esc(s.scanned_services)} scanned (protocol, port) pair(s); ` +
        `${esc(s.flows)} scanning flow(s), ${esc(s.packets)} packet(s), ${esc(s.bytes)} byte(s); ` +
        `TCP ${(s.share_of_flows.tcp * 100).toFixed(1)} %, UDP ${(s.share_of_flows.udp * 100).toFixed(1)} %, other ${(s.share_of_flows.other * 100).toFixed(1)} % of flows. ` +
        `${esc(s.late_records)} late record(s).</p>`,
    );
    parts.push('<h3>Top scanned ports (by distinct scanner IPs)</h3>');
    parts.push(table(['protocol', 'port', 'scanner IPs', 'flows'], s.top_ports_by_scanners.map((r: any) => [r.protocol, r.dst_port, r.scanner_ips, r.flows])));
    parts.push('<h3>Endpoints</h3>');
    const e = s.endpoints;
    parts.push(
      `<p>${esc(e.scanned)} endpoint(s) scanned; scanner IPs per endpoint: max ${esc(e.max_scanners)}, mean ${esc(e.mean_scanners)}; ` +
        `scanned ports per endpoint: max ${esc(e.max_ports)}, mean ${esc(e.mean_ports)}.</p>`,
    );
    parts.push('<h3>Windows</h3>');
    parts.push(table(['window', 'finalised', 'scans', 'late records', 'reprocessed'], s.windows.map((w: any) => [w.window_start, w.finalized, w.scans, w.late_records, w.reprocessed])));
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowsieve report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f4f4f4}</style></head>
<body>${parts.join('\n')}</body></html>
`;
}

/** What the report thread (workers/report.ts) renders: the state's history over [from, to]. */
export interface ReportTask {
  stateDir: string;
  from: string;
  to: string;
  title: string;
  name: string;
}
