/**
 * The sidecar's HTTP API (node:http): health and readiness, Prometheus metrics, and the
 * finalised results as JSON. Loopback by default; any other address needs a bearer
 * token. Bad parameters are answered 400 with a message; an unexpected error is logged
 * and answered 500 without details.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseAddress, formatAddress, isV4 } from '../net/address.js';
import { isoTime } from '../output/verdicts.js';
import { addressKey, type ScannerRow } from './store.js';
import type { Sidecar } from './sidecar.js';
import { dayStart } from './windows.js';
import { renderReport, type ReportTask } from './report.js';
import { Worker } from 'node:worker_threads';

export interface ApiOptions {
  host: string;
  port: number;
  token: string | null;
  sidecar: Sidecar;
  log: (line: string) => void;
  /** Scanner IPs carry enrichment columns (country, actor, ...) to filter on. */
  enrichment: boolean;
  /** A client must send its request headers within this (default 10 s); slow ones are cut off. */
  headersTimeoutMs?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new HttpError(400, message);

/** --listen HOST:PORT, [IPV6]:PORT or PORT (host 127.0.0.1). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`--listen needs HOST:PORT, [IPV6]:PORT or PORT, got '${text}'`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** True for names and addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const w = parseAddress(host);
  if (!w) return false;
  if (isV4(w)) return w[3]! >>> 24 === 127;
  return w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 1;
}

type Handler = (url: URL, params: URLSearchParams) => { status?: number; type?: string; body: string } | Promise<{ status?: number; type?: string; body: string }>;

export class ApiServer {
  private readonly server: Server;
  private readonly tokenDigest: Buffer | null;
  private readonly routes: Array<{ name: string; match: RegExp; auth: boolean; handler: Handler }>;

  constructor(private readonly opts: ApiOptions) {
    this.tokenDigest = opts.token ? digest(opts.token) : null;
    this.routes = [
      { name: '/healthz', match: /^\/healthz$/, auth: false, handler: () => this.healthz() },
      { name: '/readyz', match: /^\/readyz$/, auth: false, handler: () => this.readyz() },
      { name: '/metrics', match: /^\/metrics$/, auth: true, handler: () => this.metrics() },
      { name: '/v1/status', match: /^\/v1\/status$/, auth: true, handler: (u) => this.statusRoute(u) },
      { name: '/v1/scanners', match: /^\/v1\/scanners$/, auth: true, handler: (u) => this.scanners(u) },
      { name: '/v1/scanners/{ip}', match: /^\/v1\/scanners\/[^/]+$/, auth: true, handler: (u) => this.scanner(u) },
      { name: '/v1/stats', match: /^\/v1\/stats$/, auth: true, handler: (u) => this.stats(u) },
      { name: '/v1/report', match: /^\/v1\/report$/, auth: true, handler: (u) => this.report(u) },
    ];
    const headersTimeout = opts.headersTimeoutMs ?? 10_000;
    // Node checks the timeouts every connectionsCheckingInterval (30 s by default): a slowloris
    // socket would outlive the header timeout by that much
    this.server = createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeout / 4) }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.headersTimeout = headersTimeout;
    this.server.requestTimeout = Math.max(30_000, headersTimeout);
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    void this.reportThread?.terminate();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    let route = 'unknown';
    let status = 500;
    try {
      let url: URL;
      try {
        // '//v1/stats' is a path, not a protocol-relative URL naming host 'v1'
        url = new URL(`http://flowsieve.invalid/${(req.url ?? '/').replace(/^\/+/, '')}`);
        url.pathname = url.pathname.replace(/\/{2,}/g, '/');
      } catch {
        throw bad('malformed request URL');
      }
      const r = this.routes.find((x) => x.match.test(url.pathname));
      if (!r) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
      route = r.name;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new HttpError(405, `${req.method} is not allowed; use GET`);
      }
      if (r.auth && !this.authorised(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="flowsieve"');
        throw new HttpError(401, 'missing or wrong bearer token');
      }
      const out = await r.handler(url, url.searchParams);
      status = out.status ?? 200;
      send(res, status, out.type ?? 'application/json; charset=utf-8', out.body, req.method === 'HEAD');
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
      } else {
        status = 500;
        this.opts.log(`http ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      }
      const message = err instanceof HttpError ? err.message : 'internal error (see the server log)';
      send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: message }) + '\n', req.method === 'HEAD');
    } finally {
      this.opts.sidecar.metrics.httpSeconds.observe({ route, code: String(status) }, (performance.now() - t0) / 1000);
    }
  }

  private authorised(req: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), this.tokenDigest);
  }

  private ready(): void {
    if (this.opts.sidecar.state !== 'ready') throw new HttpError(503, `not ready (${this.opts.sidecar.state})`);
  }

  private healthz() {
    return { body: JSON.stringify({ status: 'ok' }) + '\n' };
  }

  private readyz() {
    const state = this.opts.sidecar.state;
    return { status: state === 'ready' ? 200 : 503, body: JSON.stringify({ status: state }) + '\n' };
  }

  private async metrics() {
    const reg = this.opts.sidecar.metrics.registry;
    return { type: reg.contentType, body: await reg.metrics() };
  }

  private statusRoute(u: URL) {
    allowOnly(u.searchParams, []);
    return json(this.opts.sidecar.status());
  }

  private scanners(u: URL) {
    const p = u.searchParams;
    allowOnly(p, ['day', 'port', 'protocol', 'actor', 'country', 'limit', 'cursor']);
    this.ready();
    const store = this.opts.sidecar.store;
    const day = p.has('day') ? dayParam(p.get('day')!) : store.days().at(-1)?.day;
    const limit = intParam(p, 'limit', 1, 1000) ?? 100;
    const cursor = p.get('cursor') ?? undefined;
    if (cursor !== undefined && !/^[46][0-9a-f]{32}$/.test(cursor)) throw bad("cursor: not a cursor from an earlier page's next_cursor");
    const ignored: string[] = [];
    const filter = {
      port: intParam(p, 'port', 0, 65535),
      protocol: protocolParam(p),
      actor: textParam(p, 'actor'),
      country: textParam(p, 'country'),
    };
    if (!this.opts.enrichment) {
      for (const k of ['actor', 'country'] as const) {
        if (filter[k] !== undefined) {
          ignored.push(k);
          filter[k] = undefined;
        }
      }
    }
    if (!day) return json({ day: null, scanners: [], next_cursor: null });
    const rows = store.scanners({ day, ...filter, limit: limit + 1, after: cursor });
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return json({
      day,
      filters: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
      ...(ignored.length ? { ignored_filters: ignored, note: 'scanner enrichment (country, actor) is not configured on this server' } : {}),
      count: page.length,
      scanners: page.map(scannerOut),
      next_cursor: more ? page.at(-1)!.key : null,
    });
  }

  private scanner(u: URL) {
    allowOnly(u.searchParams, []);
    this.ready();
    let text: string;
    try {
      text = decodeURIComponent(u.pathname.slice('/v1/scanners/'.length));
    } catch {
      throw bad('malformed address in the path');
    }
    const words = parseAddress(text);
    if (!words) throw bad(`'${text.slice(0, 64)}' is not an IPv4 or IPv6 address`);
    const ip = formatAddress(words);
    const h = this.opts.sidecar.store.scannerHistory(addressKey(words));
    if (h.scans.length === 0 && h.alerts.length === 0) throw new HttpError(404, `no finalised scans or alerts for ${ip}`);
    const W = this.opts.sidecar.status().window_seconds as number;
    const days = new Map<string, { day: string; scan_keys: number; ports: Set<string> }>();
    const ports = new Set<string>();
    for (const s of h.scans) {
      const d = String(s.day);
      let x = days.get(d);
      if (!x) days.set(d, (x = { day: d, scan_keys: 0, ports: new Set() }));
      x.scan_keys++;
      x.ports.add(`${s.protocol}/${s.dst_port}`);
      ports.add(`${s.protocol}/${s.dst_port}`);
    }
    const last = h.scans.at(-1);
    return json({
      ip,
      days_seen: days.size,
      days: [...days.values()].map((d) => ({ day: d.day, scan_keys: d.scan_keys, ports: portList(d.ports) })),
      ports: portList(ports),
      enrichment: last
        ? { country: last.country ?? null, asn: last.asn ?? null, as_org: last.as_org ?? null, actor: last.actor ?? null }
        : null,
      scans: h.scans.map((s) => ({
        window_start: isoTime(Number(s.window) * W),
        window_end: isoTime((Number(s.window) + 1) * W),
        protocol: s.protocol,
        dst_port: s.dst_port,
        endpoints: s.endpoints,
        clouds: s.clouds,
        accounts: s.accounts,
        regions: s.regions,
        flows: s.flows,
        packets: s.packets,
        bytes: s.bytes,
        cv_packets: s.cv_packets,
        cv_bytes: s.cv_bytes,
        cv_flows: s.cv_flows,
        first_seen: isoTime(Number(s.first_seen)),
        last_seen: isoTime(Number(s.last_seen)),
      })),
      outbound_alerts: h.alerts,
    });
  }

  private stats(u: URL) {
    const p = u.searchParams;
    allowOnly(p, ['day', 'top']);
    this.ready();
    const top = intParam(p, 'top', 1, 100) ?? 10;
    const store = this.opts.sidecar.store;
    if (p.has('day')) {
      const day = dayParam(p.get('day')!);
      const s = store.dayStats(day, top);
      if (!s) throw new HttpError(404, `no finalised data for ${day}`);
      return json(s);
    }
    return json({ days: store.days(), ...store.daysSeen() });
  }

  /**
   * The report module's HTML over the complete days (the history store of the state),
   * `from`/`to` selecting the period, clamped to the days recorded; before the first day is
   * complete, a plain page of what is final so far. Rendered in the report thread (at most
   * one at a time, REPORT_QUEUE waiting, more answered 503), once per data version (the
   * batch) and clamped period: the same report asked for again, or while it renders, is
   * rendered once.
   */
  private async report(u: URL) {
    const p = u.searchParams;
    allowOnly(p, ['from', 'to']);
    this.ready();
    let from = p.has('from') ? dayParam(p.get('from')!) : undefined;
    let to = p.has('to') ? dayParam(p.get('to')!) : undefined;
    if (from && to && from > to) throw bad(`from ${from} is after to ${to}`);
    const sc = this.opts.sidecar;
    const history = sc.historyStore;
    const bounds = history?.period();
    const html = (body: string) => ({ type: 'text/html; charset=utf-8', body });
    if (!history || !bounds || bounds.days.length === 0) return html(renderReport(sc.store, sc.status()));
    // a period past the data says nothing more than the data: clamp it (9999-12-31 is not 3 million days of work)
    from = from === undefined || from < bounds.from ? bounds.from : from > bounds.to ? bounds.to : from;
    to = to === undefined || to > bounds.to ? bounds.to : to < bounds.from ? bounds.from : to;
    const key = `${sc.status().batch}|${from}|${to}`;
    const cached = this.reports.get(key);
    if (cached) return html(await cached);
    const rendering = this.renderInThread(from, to);
    this.reports.set(key, rendering);
    rendering.catch(() => this.reports.delete(key));
    for (const k of this.reports.keys()) if (this.reports.size > REPORT_CACHE && k !== key) this.reports.delete(k);
    return html(await rendering);
  }

  /** One report thread at a time; REPORT_QUEUE more wait their turn, the rest are answered 503. */
  private async renderInThread(from: string, to: string): Promise<string> {
    if (this.reportsWaiting.length >= REPORT_QUEUE) throw new HttpError(503, 'busy rendering other reports; try again shortly');
    if (this.reportRunning) await new Promise<void>((resolve) => this.reportsWaiting.push(resolve));
    this.reportRunning = true;
    try {
      const task: ReportTask = {
        stateDir: this.opts.sidecar.stateDir, from, to, title: 'flowsieve serve: scanners', name: 'the complete days of this serve state',
      };
      return await new Promise<string>((resolve, reject) => {
        const w = new Worker(REPORT_THREAD, { workerData: { reportTask: task } });
        this.reportThread = w;
        w.once('message', (m: { html?: string; error?: string }) => (m.html !== undefined ? resolve(m.html) : reject(new Error(m.error))));
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`the report thread stopped (exit ${code})`)));
      });
    } finally {
      this.reportThread = null;
      this.reportRunning = false;
      this.reportsWaiting.shift()?.();
    }
  }

  /** Rendered (or rendering) reports by data version and period; a few kept. */
  private readonly reports = new Map<string, Promise<string>>();
  private reportRunning = false;
  private readonly reportsWaiting: Array<() => void> = [];
  private reportThread: Worker | null = null;
}

// named from the folder above: also right from a bundle's chunk in dist/src/bundle/ (scripts/bundle.mjs)
const REPORT_THREAD = new URL('../serve/report-thread.js', import.meta.url);

const REPORT_QUEUE = 4; // reports waiting for the report thread; more are answered 503
const REPORT_CACHE = 8;

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(head ? undefined : body);
}

function json(x: unknown) {
  return { body: JSON.stringify(x) + '\n' };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function allowOnly(p: URLSearchParams, names: string[]): void {
  const seen = new Set<string>();
  for (const k of p.keys()) {
    if (!names.includes(k)) throw bad(`unknown parameter '${k.slice(0, 40)}'` + (names.length ? ` (expected ${names.join(', ')})` : ' (this endpoint takes none)'));
    if (seen.has(k)) throw bad(`parameter '${k}' is given twice`);
    seen.add(k);
  }
}

function dayParam(v: string): string {
  if (!Number.isFinite(dayStart(v))) throw bad(`day: expected a date YYYY-MM-DD, got '${v.slice(0, 40)}'`);
  return v;
}

function intParam(p: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = p.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${name}: expected a whole number from ${min} to ${max}, got '${v.slice(0, 40)}'`);
  return Number(v);
}

// a Map: a plain object would answer '__proto__' or 'constructor' with what Object.prototype holds
const PROTOCOLS = new Map<string, number>(Object.entries({ tcp: 6, udp: 17, icmp: 1, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, gre: 47 }));

function protocolParam(p: URLSearchParams): number | undefined {
  const v = p.get('protocol');
  if (v === null) return undefined;
  const named = PROTOCOLS.get(v.toLowerCase());
  if (named !== undefined) return named;
  if (!/^\d{1,3}$/.test(v) || Number(v) > 255) throw bad(`protocol: expected a number 0..255 or tcp, udp, icmp, icmpv6; got '${v.slice(0, 40)}'`);
  return Number(v);
}

function textParam(p: URLSearchParams, name: string): string | undefined {
  const v = p.get(name);
  if (v === null) return undefined;
  if (v.length === 0 || v.length > 100) throw bad(`${name}: expected 1 to 100 characters`);
  return v;
}

function portList(ports: Set<string> | string[]): Array<{ protocol: number; port: number }> {
  return [...ports]
    .map((s) => s.split('/').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([protocol, port]) => ({ protocol, port }));
}

function scannerOut(r: ScannerRow) {
  return {
    src: r.src,
    scan_keys: r.scan_keys,
    ports: portList(r.ports),
    max_endpoints: r.max_endpoints,
    flows: r.flows,
    packets: r.packets,
    bytes: r.bytes,
    first_seen: isoTime(r.first_seen),
    last_seen: isoTime(r.last_seen),
    country: r.country,
    asn: r.asn,
    as_org: r.as_org,
    actor: r.actor,
  };
}
