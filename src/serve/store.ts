/**
 * The sidecar's state database (SQLite, better-sqlite3): finalised verdicts, outbound
 * alerts, per endpoint-day facts, finalised windows with their late records, and the
 * files read. Every write is one transaction that applies one checkpoint's outbox and
 * records its sequence number, so replaying an outbox after a crash adds nothing twice.
 *
 * VerdictStore is the interface the sidecar and the HTTP API use; SqliteVerdictStore keeps
 * it in <state>/flowsieve.db, opened and brought to its schema version through flowsieve's
 * one SQLite layer (store/sqlite.ts, schema in store/state-schema.ts). Complete days go on
 * to the history database beside it (history-link.ts), which `history`, `export` and
 * `report` read.
 */
import { join } from 'node:path';
import type { Outbox, ScannerFacts } from './checkpoint.js';
import { isoTime, scanRecord } from '../output/verdicts.js';
import { alertRecord } from '../output/verdicts.js';
import { severityOf, type OutboundAlert } from '../detect/outbound.js';
import { isV4 } from '../net/address.js';
import type { EndpointDay, KeyVerdict } from '../engine/verdict.js';
import { dayOfWindow } from './windows.js';
import { migrate, openDatabase, type Database, type Statement } from '../store/sqlite.js';
import { STATE_SCHEMA } from '../store/state-schema.js';

type Row = Record<string, unknown>;

export const DB_FILE = 'flowsieve.db';

/**
 * One serve per state folder: an exclusive SQLite lock on <state>/serve.lock, held for the
 * life of the connection. The operating system drops it when the process dies, however
 * it dies, so a killed serve never leaves a stale lock behind.
 */
export function lockState(stateDir: string): () => void {
  const db = openDatabase(join(stateDir, 'serve.lock'));
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); DELETE FROM owner; INSERT INTO owner VALUES (' + process.pid + '); COMMIT;');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) {
      throw new StateLockedError(`another flowsieve serve is using the state folder ${stateDir}`);
    }
    throw err;
  }
  return () => db.close();
}

export class StateLockedError extends Error {}

/** Address text -> a key that sorts as detection.md §7 wants (numerically, IPv4 before IPv6). */
export function addressKey(words: ArrayLike<number>): string {
  let s = isV4(words) ? '4' : '6';
  for (let k = 0; k < 4; k++) s += (words[k]! >>> 0).toString(16).padStart(8, '0');
  return s;
}

export interface ScannerFilter {
  day: string;
  port?: number;
  protocol?: number;
  actor?: string;
  country?: string;
  limit: number;
  after?: string; // cursor: the address key of the last row of the previous page
}

export interface ScannerRow {
  src: string;
  key: string; // address key, the paging cursor
  scan_keys: number;
  ports: string[]; // "protocol/port"
  max_endpoints: number;
  flows: number;
  packets: number;
  bytes: number;
  first_seen: number;
  last_seen: number;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
}

export interface DayRow {
  day: string;
  scanner_ips: number;
  scan_keys: number;
}

/** Sizes the append-only output files had when the last outbox was applied. */
export interface AppendSizes {
  scans: number;
  outbound: number;
}

export interface VerdictStore {
  readonly appliedSeq: number;
  appendSizes(): AppendSizes;
  /** Rows an outbox will add (computed against the current state, before applying). */
  plan(outbox: Outbox, windowSeconds: number): AppliedPlan;
  /** Apply a planned outbox in one transaction with its sequence number and the new file sizes. */
  commit(plan: AppliedPlan, sizes: AppendSizes): void;
  days(): DayRow[];
  scanners(f: ScannerFilter): ScannerRow[];
  /** Every scan and alert of one source (by addressKey). */
  scannerHistory(srcKey: string): { scans: Record<string, unknown>[]; alerts: Record<string, unknown>[] };
  dayStats(day: string, top: number): Record<string, unknown> | null;
  hasEnrichment(): boolean;
  /** Across days: how many days each scanner IP was seen (detection.md §5 history figures). */
  daysSeen(): { scanner_ips: number; days_seen_histogram: Array<{ days: number; scanner_ips: number }>; one_day_share: number; every_day_share: number };
  filesForDay(day: string): string[];
  /** Late records so far, over every window (reprocessed days start again from 0). */
  lateRecords(): number;
  /** Spool files read so far (every batch, across restarts). */
  filesRead(): number;
  get stateId(): string;
  daysForHistory(finalizedUpTo: number, windowSeconds: number): string[];
  dayForHistory(day: string): ReturnType<SqliteVerdictStore['dayForHistory']>;
  markDayInHistory(day: string, seq: number): void;
  /** A file already read with this content (a second delivery of it), or null. */
  fileWithContent(fingerprint: string): { seq: number; name: string } | null;
  endpointPorts(days: string[]): EndpointDay[];
  close(): void;
}

/** An outbox turned into rows, plus the lines it appends to scans.ndjson and outbound.ndjson. */
export interface AppliedPlan {
  outbox: Outbox;
  windowSeconds: number;
  scanLines: string[];
  alertLines: string[];
  upgrades: Array<{ akey: string; record: Record<string, unknown>; severity: string }>;
}

export class SqliteVerdictStore implements VerdictStore {
  private readonly db: Database;
  private readonly st: Record<string, Statement<Row>>;
  /** Read results by query: the data only changes when an outbox commits, which clears it. */
  private readonly memo = new Map<string, unknown>();

  private cached<T>(key: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = compute();
    if (this.memo.size > 1000) this.memo.clear(); // many distinct queries: keep the cache small
    this.memo.set(key, v);
    return v;
  }

  constructor(stateDir: string) {
    this.db = openDatabase(join(stateDir, DB_FILE));
    // WAL with full sync: a committed outbox must survive a power loss, because the
    // next checkpoint no longer carries it
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db, STATE_SCHEMA);
    this.st = this.statements();
  }

  private statements(): Record<string, Statement<Row>> {
    const p = (sql: string) => this.db.prepare<Row>(sql);
    return {
      insertScan: p(`INSERT OR REPLACE INTO scans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
      insertAlert: p(`INSERT OR REPLACE INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
      alertsOfHost: p(`SELECT akey, protocol, dst_port, targets, ports, record FROM alerts WHERE day = ? AND cloud = ? AND account = ? AND src = ? AND worm = 0 AND dst_port IS NOT NULL`),
      upgradeAlert: p(`UPDATE alerts SET worm = 1, severity = ?, record = ? WHERE akey = ?`),
      endpointDay: p(`SELECT scanners, ports FROM endpoint_days WHERE day = ? AND cloud = ? AND account = ? AND endpoint = ?`),
      putEndpointDay: p(`INSERT OR REPLACE INTO endpoint_days VALUES (?,?,?,?,?,?)`),
      addSource: p(`INSERT OR IGNORE INTO endpoint_day_sources VALUES (?,?,?,?,?)`),
      countSources: p(`SELECT COUNT(*) AS n FROM endpoint_day_sources WHERE day = ? AND cloud = ? AND account = ? AND endpoint = ?`),
      dropSourcesBefore: p(`DELETE FROM endpoint_day_sources WHERE day < ?`),
      finalizeWindow: p(`INSERT INTO windows (window, day, finalized_seq, scans) VALUES (?,?,?,?)
        ON CONFLICT(window) DO UPDATE SET finalized_seq = COALESCE(finalized_seq, excluded.finalized_seq), scans = excluded.scans`),
      addLate: p(`INSERT INTO windows (window, day, late) VALUES (?,?,?) ON CONFLICT(window) DO UPDATE SET late = late + excluded.late`),
      insertFile: p(`INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
      fileByContent: p(`SELECT seq, name FROM files WHERE fingerprint = ? LIMIT 1`),
      setMeta: p(`INSERT OR REPLACE INTO meta VALUES (?, ?)`),
      getMeta: p(`SELECT value FROM meta WHERE key = ?`),
    };
  }

  private meta(key: string): string | undefined {
    const row = this.db.prepare<Row>('SELECT value FROM meta WHERE key = ?').get(key);
    return row ? String(row.value) : undefined;
  }

  private setMeta(key: string, value: string): void {
    this.db.prepare<Row>('INSERT OR REPLACE INTO meta VALUES (?, ?)').run(key, value);
  }

  get appliedSeq(): number {
    return Number(this.meta('applied_seq') ?? 0);
  }

  appendSizes(): AppendSizes {
    return { scans: Number(this.meta('scans_ndjson_bytes') ?? 0), outbound: Number(this.meta('outbound_ndjson_bytes') ?? 0) };
  }

  plan(outbox: Outbox, windowSeconds: number): AppliedPlan {
    const scanLines = outbox.scans.map((v) => JSON.stringify({ ...scanRecord(v, windowSeconds), ...enrichmentOf(outbox.enrichment[v.src]) }));
    const alertLines = outbox.alerts.map((a) => JSON.stringify(alertRecord(a, windowSeconds)));
    // earlier alerts of a day become worm alerts when a later window shows their host being
    // scanned on the port it scans (detect sees the whole day at once; serve catches up here)
    const upgrades: AppliedPlan['upgrades'] = [];
    const replaced = new Set(outbox.replaceDays);
    const fresh = new Set(outbox.alerts.map(alertKey));
    for (const d of outbox.endpointDays) {
      if (replaced.has(d.day)) continue;
      const ports = new Set(d.ports);
      for (const row of this.st.alertsOfHost!.all(d.day, d.cloud, d.account, d.endpoint)) {
        const port = ((Number(row.protocol) << 16) | Number(row.dst_port)) >>> 0;
        if (!ports.has(port) || fresh.has(String(row.akey))) continue;
        const severity = severityOf(Number(row.targets), Number(row.ports), true);
        const record = { ...(JSON.parse(String(row.record)) as Record<string, unknown>), worm_signature: true, severity };
        upgrades.push({ akey: String(row.akey), record, severity });
        alertLines.push(JSON.stringify(record));
      }
    }
    return { outbox, windowSeconds, scanLines, alertLines, upgrades };
  }

  commit(plan: AppliedPlan, sizes: AppendSizes): void {
    const { outbox: o, windowSeconds: W } = plan;
    const tx = this.db.transaction(() => {
      for (const day of o.replaceDays) this.clearDay(day, o.seq);
      for (const v of o.scans) this.insertScan(v, W, o.seq, o.enrichment[v.src]);
      for (const a of o.alerts) this.insertAlert(a, W, o.seq);
      for (const u of plan.upgrades) this.st.upgradeAlert!.run(u.severity, JSON.stringify(u.record), u.akey);
      const replaced = new Set(o.replaceDays);
      for (const d of o.endpointDays) this.putEndpointDay(d, replaced.has(d.day));
      const perWindow = new Map<number, number>();
      for (const v of o.scans) perWindow.set(v.window, (perWindow.get(v.window) ?? 0) + 1);
      for (const w of o.finalized) this.st.finalizeWindow!.run(w, dayOfWindow(w, W), o.seq, perWindow.get(w) ?? 0);
      for (const [w, n] of o.late) this.st.addLate!.run(w, dayOfWindow(w, W), n);
      for (const f of o.files) this.insertFile(f, o.seq);
      // a day whose windows are all final keeps its scanner counts, not its source lists
      if (o.finalizedUpTo >= 0) this.st.dropSourcesBefore!.run(dayOfWindow(o.finalizedUpTo + 1, W));
      this.st.setMeta!.run('applied_seq', String(o.seq));
      this.st.setMeta!.run('scans_ndjson_bytes', String(sizes.scans));
      this.st.setMeta!.run('outbound_ndjson_bytes', String(sizes.outbound));
      this.st.setMeta!.run('finalized_up_to', String(o.finalizedUpTo));
      this.st.setMeta!.run('window_seconds', String(W));
    });
    tx();
    this.memo.clear();
  }

  private clearDay(day: string, seq: number): void {
    for (const t of ['scans', 'alerts', 'endpoint_days', 'endpoint_day_sources', 'history_days']) this.db.prepare<Row>(`DELETE FROM ${t} WHERE day = ?`).run(day);
    this.db.prepare<Row>('UPDATE windows SET late = 0, reprocessed_seq = ?, scans = 0 WHERE day = ?').run(seq, day);
  }

  private insertScan(v: KeyVerdict, W: number, seq: number, facts: ScannerFacts | undefined): void {
    this.st.insertScan!.run(
      v.window, dayOfWindow(v.window, W), v.src, addressKey(v.srcWords), v.protocol, v.dstPort,
      v.endpoints, v.clouds, v.accounts, v.regions, v.flows, v.packets, v.bytes,
      v.cvPackets, v.cvBytes, v.cvFlows, v.firstSeen, v.lastSeen,
      facts?.country ?? null, facts?.asn ?? null, facts?.as_org ?? null, facts?.actor ?? null, seq,
    );
  }

  private insertAlert(a: OutboundAlert, W: number, seq: number): void {
    this.st.insertAlert!.run(
      alertKey(a), a.window, dayOfWindow(a.window, W), a.cloud, a.account, a.src, addressKey(a.srcWords), a.protocol, a.dstPort,
      a.kind, a.wormSignature ? 1 : 0, a.severity, a.targets, a.ports, JSON.stringify(alertRecord(a, W)), seq,
    );
  }

  /**
   * Per endpoint-day facts: ports unite; scanners are counted from the day's source list
   * while the day is open (a source seen in two windows counts once), or taken as given
   * when the whole day was finalised at once (--reprocess).
   */
  private putEndpointDay(d: EndpointDay, wholeDay: boolean): void {
    const key = [d.day, d.cloud, d.account, d.endpoint] as const;
    const old = this.st.endpointDay!.get(...key);
    const ports = old ? unionPorts(JSON.parse(String(old.ports)) as number[], d.ports) : d.ports;
    let scanners = d.scanners;
    if (!wholeDay) {
      for (const src of d.sources ?? []) this.st.addSource!.run(...key, src);
      scanners = Number(this.st.countSources!.get(...key)!.n);
    }
    this.st.putEndpointDay!.run(...key, scanners, JSON.stringify(ports));
  }

  private insertFile(f: Outbox['files'][number], seq: number): void {
    const r = f.report;
    this.st.insertFile!.run(
      seq, f.name, f.stored, f.size, f.mtimeMs, r.format, r.gzip ? 1 : 0, r.counters.records, r.counters.rejected, r.counters.late,
      Number.isFinite(r.minStart) ? r.minStart : null, Number.isFinite(r.maxEnd) ? r.maxEnd : null, r.error ?? null, f.fingerprint,
    );
  }

  lateRecords(): number {
    return this.cached('late', () => Number(this.db.prepare<Row>('SELECT COALESCE(SUM(late), 0) AS n FROM windows').get()!.n));
  }

  filesRead(): number {
    return Number(this.db.prepare<Row>('SELECT COUNT(*) AS n FROM files').get()!.n);
  }

  fileWithContent(fingerprint: string): { seq: number; name: string } | null {
    const r = this.st.fileByContent!.get(fingerprint);
    return r ? { seq: Number(r.seq), name: String(r.name) } : null;
  }

  days(): DayRow[] {
    return this.cached('days', () => this.db
      .prepare<Row>('SELECT day, COUNT(DISTINCT src_key) AS scanner_ips, COUNT(*) AS scan_keys FROM scans GROUP BY day ORDER BY day')
      .all() as unknown as DayRow[]);
  }

  hasEnrichment(): boolean {
    return this.db.prepare<Row>('SELECT 1 FROM scans WHERE country IS NOT NULL OR actor IS NOT NULL LIMIT 1').get() !== undefined;
  }

  daysSeen() {
    return this.cached('daysSeen', () => this.computeDaysSeen());
  }

  private computeDaysSeen() {
    const hist = this.db
      .prepare<Row>('SELECT n AS days, COUNT(*) AS scanner_ips FROM (SELECT COUNT(DISTINCT day) AS n FROM scans GROUP BY src_key) GROUP BY n ORDER BY n')
      .all()
      .map((r) => ({ days: Number(r.days), scanner_ips: Number(r.scanner_ips) }));
    const total = hist.reduce((s, h) => s + h.scanner_ips, 0);
    const dayCount = Number(this.db.prepare<Row>('SELECT COUNT(DISTINCT day) AS n FROM scans').get()!.n);
    const share = (x: number) => (total > 0 ? Math.round((x / total) * 1e4) / 1e4 : 0);
    return {
      scanner_ips: total,
      days_seen_histogram: hist,
      one_day_share: share(hist.find((h) => h.days === 1)?.scanner_ips ?? 0),
      every_day_share: share(hist.find((h) => h.days === dayCount)?.scanner_ips ?? 0),
    };
  }

  scanners(f: ScannerFilter): ScannerRow[] {
    return this.cached(`scanners|${JSON.stringify(f)}`, () => this.queryScanners(f));
  }

  private queryScanners(f: ScannerFilter): ScannerRow[] {
    const where = ['day = ?'];
    const args: unknown[] = [f.day];
    if (f.port !== undefined) {
      where.push('dst_port = ?');
      args.push(f.port);
    }
    if (f.protocol !== undefined) {
      where.push('protocol = ?');
      args.push(f.protocol);
    }
    if (f.actor !== undefined) {
      where.push('actor = ? COLLATE NOCASE');
      args.push(f.actor);
    }
    if (f.country !== undefined) {
      where.push('country = ? COLLATE NOCASE');
      args.push(f.country);
    }
    if (f.after !== undefined) {
      where.push('src_key > ?');
      args.push(f.after);
    }
    const rows = this.db
      .prepare<Row>(
        `SELECT src, src_key, COUNT(*) AS scan_keys, group_concat(protocol || '/' || dst_port) AS ports, MAX(endpoints) AS max_endpoints,
          SUM(flows) AS flows, SUM(packets) AS packets, SUM(bytes) AS bytes, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen,
          MAX(country) AS country, MAX(asn) AS asn, MAX(as_org) AS as_org, MAX(actor) AS actor
         FROM scans WHERE ${where.join(' AND ')} GROUP BY src_key ORDER BY src_key LIMIT ?`,
      )
      .all(...args, f.limit);
    return rows.map((r) => ({
      src: String(r.src),
      key: String(r.src_key),
      scan_keys: Number(r.scan_keys),
      ports: [...new Set(String(r.ports).split(','))].sort(comparePortText),
      max_endpoints: Number(r.max_endpoints),
      flows: Number(r.flows),
      packets: Number(r.packets),
      bytes: Number(r.bytes),
      first_seen: Number(r.first_seen),
      last_seen: Number(r.last_seen),
      country: (r.country as string | null) ?? null,
      asn: (r.asn as number | null) ?? null,
      as_org: (r.as_org as string | null) ?? null,
      actor: (r.actor as string | null) ?? null,
    }));
  }

  scannerHistory(srcKey: string): { scans: Record<string, unknown>[]; alerts: Record<string, unknown>[] } {
    const scans = this.db.prepare<Row>('SELECT * FROM scans WHERE src_key = ? ORDER BY window, protocol, dst_port').all(srcKey);
    const alerts = this.db.prepare<Row>('SELECT record FROM alerts WHERE src_key = ? ORDER BY window, akey').all(srcKey);
    return { scans, alerts: alerts.map((a) => JSON.parse(String(a.record)) as Record<string, unknown>) };
  }

  dayStats(day: string, top: number): Record<string, unknown> | null {
    return this.cached(`dayStats|${day}|${top}`, () => this.computeDayStats(day, top));
  }

  private computeDayStats(day: string, top: number): Record<string, unknown> | null {
    const sum = this.db
      .prepare<Row>(
        `SELECT COUNT(DISTINCT src_key) AS scanner_ips, COUNT(*) AS scan_keys, COUNT(DISTINCT protocol || '/' || dst_port) AS scanned_services,
          COALESCE(SUM(flows), 0) AS flows, COALESCE(SUM(packets), 0) AS packets, COALESCE(SUM(bytes), 0) AS bytes,
          COALESCE(SUM(CASE WHEN protocol = 6 THEN flows END), 0) AS tcp_flows, COALESCE(SUM(CASE WHEN protocol = 17 THEN flows END), 0) AS udp_flows
         FROM scans WHERE day = ?`,
      )
      .get(day)!;
    const windows = this.db.prepare<Row>('SELECT window, finalized_seq, scans, late, reprocessed_seq FROM windows WHERE day = ? ORDER BY window').all(day);
    if (Number(sum.scan_keys) === 0 && windows.length === 0) return null;
    const flows = Number(sum.flows);
    const share = (x: number) => (flows > 0 ? Math.round((x / flows) * 1e4) / 1e4 : 0);
    const topBy = (order: string) =>
      this.db
        .prepare<Row>(
          `SELECT protocol, dst_port, COUNT(DISTINCT src_key) AS scanner_ips, SUM(flows) AS flows FROM scans WHERE day = ?
           GROUP BY protocol, dst_port ORDER BY ${order} DESC, protocol, dst_port LIMIT ?`,
        )
        .all(day, top);
    const ep = this.db
      .prepare<Row>(
        `SELECT COUNT(*) AS endpoints, COALESCE(MAX(scanners), 0) AS max_scanners, COALESCE(AVG(scanners), 0) AS mean_scanners,
          COALESCE(MAX(json_array_length(ports)), 0) AS max_ports, COALESCE(AVG(json_array_length(ports)), 0) AS mean_ports
         FROM endpoint_days WHERE day = ?`,
      )
      .get(day)!;
    const files = this.db.prepare<Row>('SELECT COUNT(*) AS files FROM files WHERE min_start < ? AND max_end >= ?').get(dayBounds(day).end, dayBounds(day).start)!;
    return {
      day,
      scanner_ips: Number(sum.scanner_ips),
      scan_keys: Number(sum.scan_keys),
      scanned_services: Number(sum.scanned_services),
      flows,
      packets: Number(sum.packets),
      bytes: Number(sum.bytes),
      share_of_flows: { tcp: share(Number(sum.tcp_flows)), udp: share(Number(sum.udp_flows)), other: share(flows - Number(sum.tcp_flows) - Number(sum.udp_flows)) },
      top_ports_by_scanners: topBy('scanner_ips'),
      top_ports_by_flows: topBy('flows'),
      endpoints: {
        scanned: Number(ep.endpoints),
        max_scanners: Number(ep.max_scanners),
        mean_scanners: round2(Number(ep.mean_scanners)),
        max_ports: Number(ep.max_ports),
        mean_ports: round2(Number(ep.mean_ports)),
      },
      late_records: windows.reduce((s, w) => s + Number(w.late), 0),
      windows: this.dayWindows(day, windows),
      files: Number(files.files),
    };
  }

  /** Every window of the day, final or not, with its scans and late records. */
  private dayWindows(day: string, rows: Record<string, unknown>[]) {
    const W = Number(this.meta('window_seconds') ?? 0);
    const upTo = Number(this.meta('finalized_up_to') ?? -1);
    if (!(W > 0)) return [];
    const byWindow = new Map(rows.map((r) => [Number(r.window), r]));
    const first = dayBounds(day).start / W;
    return Array.from({ length: 86400 / W }, (_, i) => {
      const w = first + i;
      const r = byWindow.get(w);
      return {
        window_start: isoTime(w * W),
        finalized: w <= upTo,
        scans: Number(r?.scans ?? 0),
        late_records: Number(r?.late ?? 0),
        reprocessed: r !== undefined && r.reprocessed_seq !== null,
      };
    });
  }

  /** Where the files that hold records of a day lie now (for --reprocess). */
  filesForDay(day: string): string[] {
    const { start, end } = dayBounds(day);
    return this.db
      .prepare<Row>('SELECT DISTINCT stored FROM files WHERE min_start < ? AND max_end >= ? ORDER BY stored')
      .all(end, start)
      .map((r) => String(r.stored));
  }

  get stateId(): string {
    return this.meta('state_id') ?? 'unknown';
  }

  /** Days whose windows are all final and that the history store does not have yet. */
  daysForHistory(finalizedUpTo: number, windowSeconds: number): string[] {
    if (finalizedUpTo < 0) return [];
    const open = dayOfWindow(finalizedUpTo + 1, windowSeconds); // the first day with a window not final
    return this.db
      .prepare<Row>('SELECT DISTINCT day FROM windows WHERE finalized_seq IS NOT NULL AND day < ? AND day NOT IN (SELECT day FROM history_days) ORDER BY day')
      .all(open)
      .map((r) => String(r.day));
  }

  /** A complete day as the history store takes it: verdicts, endpoint-days, files, enrichment. */
  dayForHistory(day: string): {
    scans: KeyVerdict[];
    endpointDays: EndpointDay[];
    files: Array<{ fingerprint: string; stored: string; size: number; records: number; error: string | null }>;
    facts: Map<string, ScannerFacts>;
  } {
    const scans: KeyVerdict[] = [];
    const facts = new Map<string, ScannerFacts>();
    for (const r of this.db.prepare<Row>('SELECT * FROM scans WHERE day = ? ORDER BY window, src_key, protocol, dst_port').all(day)) {
      const key = String(r.src_key);
      scans.push({
        window: Number(r.window), srcWords: [0, 1, 2, 3].map((k) => parseInt(key.slice(1 + 8 * k, 9 + 8 * k), 16)), src: String(r.src),
        protocol: Number(r.protocol), dstPort: Number(r.dst_port), endpoints: Number(r.endpoints), clouds: Number(r.clouds),
        accounts: Number(r.accounts), regions: Number(r.regions), flows: Number(r.flows), packets: Number(r.packets), bytes: Number(r.bytes),
        cvPackets: r.cv_packets as number | null, cvBytes: r.cv_bytes as number | null, cvFlows: Number(r.cv_flows),
        firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen), failed: [],
      });
      if (r.country !== null || r.actor !== null || r.asn !== null) {
        facts.set(String(r.src), { country: r.country as string | null, asn: r.asn as number | null, as_org: r.as_org as string | null, actor: r.actor as string | null });
      }
    }
    const endpointDays = this.db
      .prepare<Row>('SELECT cloud, account, endpoint, scanners, ports FROM endpoint_days WHERE day = ? ORDER BY cloud, account, endpoint')
      .all(day)
      .map((r) => ({ day, cloud: String(r.cloud), account: String(r.account), endpoint: String(r.endpoint), scanners: Number(r.scanners), ports: JSON.parse(String(r.ports)) as number[] }));
    const { start, end } = dayBounds(day);
    const files = this.db
      .prepare<Row>('SELECT fingerprint, stored, size, records, error FROM files WHERE min_start < ? AND max_end >= ? ORDER BY seq, name')
      .all(end, start)
      .map((r) => ({ fingerprint: String(r.fingerprint), stored: String(r.stored), size: Number(r.size), records: Number(r.records), error: (r.error as string | null) ?? null }));
    return { scans, endpointDays, files, facts };
  }

  markDayInHistory(day: string, seq: number): void {
    this.db.prepare<Row>('INSERT OR REPLACE INTO history_days VALUES (?, ?)').run(day, seq);
  }

  /** Endpoint-day ports already stored for these days (the worm signature of later alerts). */
  endpointPorts(days: string[]): EndpointDay[] {
    const out: EndpointDay[] = [];
    const q = this.db.prepare<Row>('SELECT day, cloud, account, endpoint, scanners, ports FROM endpoint_days WHERE day = ?');
    for (const day of days) {
      for (const r of q.all(day)) {
        out.push({ day, cloud: String(r.cloud), account: String(r.account), endpoint: String(r.endpoint), scanners: Number(r.scanners), ports: JSON.parse(String(r.ports)) as number[] });
      }
    }
    return out;
  }

  /** Everything, for tests and exports: scans in detection.md §7 order, endpoint-days, alerts. */
  dump(): { scans: Record<string, unknown>[]; endpointDays: Record<string, unknown>[]; alerts: Record<string, unknown>[] } {
    return {
      scans: this.db.prepare<Row>('SELECT * FROM scans ORDER BY window, src_key, protocol, dst_port').all(),
      endpointDays: this.db.prepare<Row>('SELECT * FROM endpoint_days ORDER BY day, cloud, account, endpoint').all(),
      alerts: this.db.prepare<Row>('SELECT record FROM alerts ORDER BY akey').all(),
    };
  }

  close(): void {
    this.db.close();
  }
}

function enrichmentOf(f: ScannerFacts | undefined): Partial<ScannerFacts> {
  return f ? { country: f.country, asn: f.asn, as_org: f.as_org, actor: f.actor } : {};
}

export function alertKey(a: OutboundAlert): string {
  return JSON.stringify([a.window, a.cloud, a.account, addressKey(a.srcWords), a.protocol, a.dstPort, a.kind, a.target]);
}

function unionPorts(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function comparePortText(a: string, b: string): number {
  const [pa, qa] = a.split('/').map(Number);
  const [pb, qb] = b.split('/').map(Number);
  return pa! - pb! || qa! - qb!;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function dayBounds(day: string): { start: number; end: number } {
  const start = Date.parse(`${day}T00:00:00Z`) / 1000;
  return { start, end: start + 86400 };
}
