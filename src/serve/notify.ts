/**
 * Alerts pushed, not only pulled (issue 15): `serve` sends every new scan key and every
 * outbound / internal alert to a webhook (JSON, POST) and/or as RFC 5424 syslog (UDP, or
 * TCP with octet counting, RFC 6587).
 *
 * The outbox is the state folder's own scans.ndjson and outbound.ndjson: the sidecar
 * appends a batch's verdicts to them when it commits, and says how many bytes of each
 * are committed. Each destination keeps a cursor (bytes of each file delivered) in
 * notify-<destination>.json, written atomically after each delivered batch. After a
 * crash (SIGKILL included) a restart sends from the cursor: nothing committed is lost,
 * and only a batch that was delivered in the instant before its cursor was written can
 * come again. Each event's `id` is a hash of its line, the same on every delivery, so a
 * receiver drops such a repeat (the webhook's Idempotency-Key header names the batch).
 * Failures are retried with exponential backoff (0.5 s doubling to 30 s), for as long as
 * serve runs; what is not delivered at a stop is sent after the restart.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../output/files.js';

export interface CommittedSizes {
  scans: number;
  outbound: number;
}

export interface NotifyEvent {
  id: string;
  type: 'scan' | 'alert';
  [field: string]: unknown;
}

/** A destination: delivers one batch of events or throws. */
export interface Destination {
  name: string; // the cursor file's name part
  describe: string;
  send(events: NotifyEvent[]): Promise<void>;
  close(): void;
}

const FILES = [
  { key: 'scans', file: 'scans.ndjson', type: 'scan' },
  { key: 'outbound', file: 'outbound.ndjson', type: 'alert' },
] as const;

const BATCH = 100;

/** Delivers to every destination, each on its own (a failing webhook does not hold syslog back). */
export class Notifier {
  private readonly pumps: Pump[];

  constructor(stateDir: string, destinations: Destination[], log: (line: string) => void, backoff = { minMs: 500, maxMs: 30_000 }) {
    this.pumps = destinations.map((d) => new Pump(stateDir, d, log, backoff));
  }

  /** The sidecar committed up to these sizes: deliver what is new. */
  committed(sizes: CommittedSizes): void {
    for (const p of this.pumps) p.committed(sizes);
  }

  /** Stop retrying; wait for the deliveries in flight (their cursors are written or not: both are safe). */
  async stop(): Promise<void> {
    await Promise.all(this.pumps.map((p) => p.stop()));
  }
}

class Pump {
  private pending: CommittedSizes = { scans: 0, outbound: 0 };
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly d: Destination,
    private readonly log: (line: string) => void,
    private readonly backoff: { minMs: number; maxMs: number },
  ) {}

  committed(sizes: CommittedSizes): void {
    this.pending = sizes;
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump()
      .catch((err) => this.log(`${this.d.describe}: ${(err as Error).message}`))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopping) {
          this.again = false;
          this.committed(this.pending);
        }
      });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.d.close();
  }

  private get cursorFile(): string {
    return join(this.stateDir, `notify-${this.d.name}.json`);
  }

  private cursor(): CommittedSizes {
    if (!existsSync(this.cursorFile)) return { scans: 0, outbound: 0 };
    const c = JSON.parse(readFileSync(this.cursorFile, 'utf8')) as CommittedSizes;
    return { scans: Number(c.scans) || 0, outbound: Number(c.outbound) || 0 };
  }

  private async pump(): Promise<void> {
    const cur = this.cursor();
    for (const f of FILES) {
      const upto = this.pending[f.key];
      while (cur[f.key] < upto && !this.stopping) {
        const { events, end } = readEvents(join(this.stateDir, f.file), cur[f.key], upto, f.type, BATCH);
        if (end === cur[f.key]) break; // nothing whole to read (never: committed sizes end on a newline)
        if (!(await this.deliver(events))) return;
        cur[f.key] = end;
        writeFileAtomic(this.cursorFile, JSON.stringify(cur) + '\n');
      }
    }
  }

  /** Send with retries until it is delivered (true) or serve stops (false). */
  private async deliver(events: NotifyEvent[]): Promise<boolean> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.d.send(events);
        if (attempt > 0) this.log(`${this.d.describe}: delivered after ${attempt} retr${attempt === 1 ? 'y' : 'ies'}`);
        return true;
      } catch (err) {
        const wait = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** attempt);
        if (attempt === 0 || wait === this.backoff.maxMs) this.log(`${this.d.describe}: cannot deliver ${events.length} event(s): ${(err as Error).message} (retrying)`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
    }
    return false;
  }
}

/** Up to `max` whole lines of path in [from, upto), as events; `end` is where they stop. */
export function readEvents(path: string, from: number, upto: number, type: NotifyEvent['type'], max: number): { events: NotifyEvent[]; end: number } {
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(upto, fstatSync(fd).size);
    const chunk = Buffer.alloc(Math.min(size - from, 4 << 20));
    const n = readSync(fd, chunk, 0, chunk.length, from);
    const events: NotifyEvent[] = [];
    let pos = 0;
    while (events.length < max) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0 || nl >= n) break;
      const line = chunk.subarray(pos, nl).toString('utf8');
      pos = nl + 1;
      if (!line.trim()) continue;
      events.push({ id: createHash('sha256').update(line).digest('hex').slice(0, 32), type, ...(JSON.parse(line) as object) });
    }
    return { events, end: from + pos };
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// destinations

export function webhook(url: string, timeoutMs = 10_000): Destination {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--webhook: '${url}' is not an http(s) URL`);
  return {
    name: 'webhook',
    describe: `webhook ${u.origin}${u.pathname}`,
    async send(events) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${events[0]!.id}-${events[events.length - 1]!.id}` },
        body: JSON.stringify({ source: 'flowsieve', events }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
    close() {},
  };
}

const SEVERITY: Record<string, number> = { critical: 2, high: 3, medium: 4, low: 5 };
const FACILITY_LOCAL0 = 16;

/** One RFC 5424 message: facility local0, severity from the alert (scans: informational). */
export function syslogMessage(e: NotifyEvent, host: string, pid: number): string {
  const sev = e.type === 'scan' ? 6 : (SEVERITY[String(e.severity)] ?? 5);
  const time = typeof e.last_seen === 'string' ? e.last_seen : new Date().toISOString();
  const sdValue = (v: unknown) => String(v ?? '').replace(/["\\\]]/g, (c) => `\\${c}`);
  const params = ['id', 'src', 'protocol', 'dst_port', 'kind', 'cloud', 'account', 'instance', 'targets', 'endpoints']
    .filter((k) => e[k] !== undefined && e[k] !== null && e[k] !== '')
    .map((k) => `${k}="${sdValue(e[k])}"`)
    .join(' ');
  // 32473: the private enterprise number reserved for examples (RFC 5612); the JSON is the message
  return `<${FACILITY_LOCAL0 * 8 + sev}>1 ${time} ${host} flowsieve ${pid} ${e.type} [flowsieve@32473 ${params}] ${JSON.stringify(e)}`;
}

export function syslog(target: string): Destination {
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(target);
  if (!m) throw new Error(`--syslog: '${target}' is not udp://HOST:PORT or tcp://HOST:PORT`);
  const proto = m[1]!;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  const me = hostname() || '-';
  let udp: UdpSocket | null = null;
  let tcp: Socket | null = null;
  const tcpSocket = (): Promise<Socket> =>
    tcp && !tcp.destroyed
      ? Promise.resolve(tcp)
      : new Promise((resolve, reject) => {
          const s = connect({ host, port }, () => {
            s.off('error', reject);
            s.on('error', () => s.destroy());
            tcp = s;
            resolve(s);
          });
          s.once('error', reject);
        });
  return {
    name: 'syslog',
    describe: `syslog ${target}`,
    async send(events) {
      const lines = events.map((e) => syslogMessage(e, me, process.pid));
      if (proto === 'udp') {
        udp ??= createSocket(host.includes(':') ? 'udp6' : 'udp4');
        for (const l of lines) await new Promise<void>((resolve, reject) => udp!.send(Buffer.from(l), port, host, (err) => (err ? reject(err) : resolve())));
        return;
      }
      const s = await tcpSocket();
      // RFC 6587 octet counting: "LEN SP MSG"
      const frames = lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
      await new Promise<void>((resolve, reject) => s.write(frames, (err) => (err ? (s.destroy(), reject(err)) : resolve())));
    },
    close() {
      udp?.close();
      tcp?.end();
    },
  };
}
