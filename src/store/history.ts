/**
 * The history store: an SQLite database (WAL) in the --state folder that keeps, per UTC day
 * and scanner IP, what every recorded detect run found. Each run is added in ONE immediate
 * transaction, so readers see a run wholly or not at all and concurrent writers queue.
 *
 * The same input never counts twice. Runs are keyed by the fingerprint of their input set
 * (see fingerprint.ts) and recording a run:
 * - replaces the recorded run with the same input set (re-running gives the same history,
 *   with the latest settings);
 * - replaces the recorded runs whose files are all among this run's files (a run over a
 *   folder supersedes earlier runs over some of its files);
 * - is skipped when one recorded run already read every file of this run and more;
 * - otherwise is added, naming the recorded runs that share some files with it: the
 *   shared files' flows count in both (days observed, being sets, are not affected).
 * Counts of runs that cover the same day from different inputs add up.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openDatabase, type Database } from './sqlite.js';
import { HISTORY_SCHEMA } from './schema.js';
import type { RunRows } from './rows.js';
import type { ListedRow } from '../output/findings.js';

export const DB_FILE = 'flowsieve-history.sqlite';

export interface RunFile {
  fingerprint: string;
  path: string;
  bytes: number;
}

export interface RunInput {
  fingerprint: string;
  files: RunFile[];
  inputs: string[];
  windowSeconds: number;
  records: number;
  partial: boolean;
  settings: Record<string, unknown>;
  recordedAt?: string; // ISO time; now when absent
}

export interface IpFacts {
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
}

export interface RecordOutcome {
  status: 'recorded' | 'replaced' | 'skipped';
  runId: number | null;
  replacedRuns: number[];
  coveredBy: number | null;
  overlaps: Array<{ runId: number; sharedFiles: number }>;
  days: string[];
  scannerDays: number;
  reason?: string;
}

export interface RunRow {
  run_id: number;
  fingerprint: string;
  recorded_at: string;
  window_seconds: number;
  inputs: string;
  files: number;
  records: number;
  scan_keys: number;
  scanner_ips: number;
  first_day: string | null;
  last_day: string | null;
  partial: number;
}

export interface Period {
  from: string;
  to: string;
  days: string[]; // days in [from, to] with at least one scanner recorded
  calendarDays: number;
  daysWithoutData: string[];
}

/** A scanner over a period: output/findings' ListedRow with its first and last day, its facts always present. */
export interface ScannerSummary extends ListedRow {
  first_day: string;
  last_day: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
}

export interface DaySeries {
  day: string;
  scanner_ips: number;
  scan_keys: number;
  flows: number;
  packets: number;
  bytes: number;
  ports: number;
  tcp_ports: number;
  udp_ports: number;
}

export interface PortRank {
  protocol: number;
  port: number;
  scanner_ips: number;
  scan_keys: number;
  flows: number;
  packets: number;
  bytes: number;
  days: number;
}

export interface EndpointDayFact {
  day: string;
  cloud: string;
  account: string;
  endpoint: string;
  scanner_ips: number;
  ports: number;
}

export interface ScannerPort {
  ip: string;
  protocol: number;
  port: number;
  flows: number;
  scan_keys: number;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function checkDay(d: string, what: string): string {
  if (!ISO_DAY.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) !== d) {
    throw new Error(`${what} must be a UTC day YYYY-MM-DD, got '${d}'`);
  }
  return d;
}

/** Days from a to b inclusive (YYYY-MM-DD). */
export function calendarDays(a: string, b: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${a}T00:00:00Z`), end = Date.parse(`${b}T00:00:00Z`); t <= end; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export class HistoryStore {
  private constructor(readonly db: Database, readonly path: string, readonly dir: string) {}

  /**
   * Open the store in dir (creating it when `create`; otherwise it must exist) and bring it
   * to the current schema. Readers open it the same way: WAL lets them read while a run writes.
   */
  static open(dir: string, opts: { create?: boolean } = {}): HistoryStore {
    const path = join(dir, DB_FILE);
    if (opts.create) mkdirSync(dir, { recursive: true });
    else if (!existsSync(path)) throw new Error(`no flowsieve history in ${dir} (record runs with 'flowsieve detect ... --state ${dir}')`);
    let db: Database;
    try {
      db = openDatabase(path, { timeout: 30_000 });
    } catch (err) {
      throw new Error(`cannot open the history database ${path}: ${(err as Error).message}`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // with WAL: durable at checkpoints, never corrupt
      migrate(db, HISTORY_SCHEMA);
    } catch (err) {
      db.close();
      throw new Error(`history database ${path}: ${(err as Error).message}`);
    }
    return new HistoryStore(db, path, dir);
  }

  /** A store in memory (the report uses one to query a run's scans.ndjson like a history). */
  static inMemory(): HistoryStore {
    const db = openDatabase(':memory:');
    migrate(db, HISTORY_SCHEMA);
    return new HistoryStore(db, ':memory:', ':memory:');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Add one run's rows (one transaction), replacing or skipping as the input set says. */
  record(run: RunInput, rows: RunRows, facts?: ReadonlyMap<string, IpFacts>): RecordOutcome {
    const days = [...new Set(rows.scannerDays.map((r) => r.day))].sort();
    const span = [...days, ...rows.endpointDays.map((e) => e.day)].sort();
    const outcome: RecordOutcome = { status: 'recorded', runId: null, replacedRuns: [], coveredBy: null, overlaps: [], days, scannerDays: rows.scannerDays.length };
    if (run.files.length === 0) return { ...outcome, status: 'skipped', reason: 'no input file was read' };
    const fps = [...new Set(run.files.map((f) => f.fingerprint))];
    const tx = this.db.transaction(() => {
      const shared = this.db
        .prepare<{ run_id: number; fingerprint: string; shared: number; total: number }>(
          `SELECT r.run_id, r.fingerprint, COUNT(*) AS shared,
                  (SELECT COUNT(*) FROM run_files x WHERE x.run_id = r.run_id) AS total
           FROM run_files f JOIN runs r ON r.run_id = f.run_id
           WHERE f.file_fp IN (SELECT value FROM json_each(?))
           GROUP BY r.run_id ORDER BY r.run_id`,
        )
        .all(JSON.stringify(fps));
      const exact = shared.find((s) => s.fingerprint === run.fingerprint);
      const cover = shared.find((s) => s !== exact && s.shared === fps.length && s.total > fps.length);
      if (!exact && cover) {
        outcome.status = 'skipped';
        outcome.coveredBy = cover.run_id;
        outcome.reason = `run ${cover.run_id} already recorded every one of these files (and more)`;
        return;
      }
      for (const s of shared) {
        if (s === exact || s.shared === s.total) outcome.replacedRuns.push(s.run_id);
        else outcome.overlaps.push({ runId: s.run_id, sharedFiles: s.shared });
      }
      for (const id of outcome.replacedRuns) this.deleteRun(id);
      if (exact) outcome.status = 'replaced';
      outcome.runId = this.insertRun(run, rows, span);
      const ids = this.ipIds(rows);
      this.insertRows(outcome.runId, rows, ids);
      if (facts) this.upsertFacts(outcome.runId, ids, facts);
    });
    tx.immediate();
    return outcome;
  }

  /** A run and its rows (found through its day range: days lead the keys). */
  private deleteRun(runId: number): void {
    const r = this.db.prepare<{ first_day: string | null; last_day: string | null }>('SELECT first_day, last_day FROM runs WHERE run_id = ?').get(runId);
    if (r?.first_day && r.last_day) {
      for (const t of ['scanner_days', 'scanner_day_ports', 'endpoint_days']) {
        this.db.prepare(`DELETE FROM ${t} WHERE day BETWEEN ? AND ? AND run_id = ?`).run(r.first_day, r.last_day, runId);
      }
    }
    this.db.prepare('DELETE FROM run_files WHERE run_id = ?').run(runId);
    this.db.prepare('DELETE FROM runs WHERE run_id = ?').run(runId);
  }

  private insertRun(run: RunInput, rows: RunRows, days: string[]): number {
    const res = this.db
      .prepare(
        `INSERT INTO runs(fingerprint, recorded_at, window_seconds, inputs, files, records, scan_keys, scanner_ips, first_day, last_day, partial, settings)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.fingerprint,
        run.recordedAt ?? new Date().toISOString(),
        run.windowSeconds,
        JSON.stringify(run.inputs),
        run.files.length,
        run.records,
        rows.scannerDays.reduce((s, r) => s + r.scanKeys, 0),
        new Set(rows.scannerDays.map((r) => r.ip)).size,
        days[0] ?? null,
        days[days.length - 1] ?? null,
        run.partial ? 1 : 0,
        JSON.stringify(run.settings),
      );
    const runId = Number(res.lastInsertRowid);
    const file = this.db.prepare('INSERT OR IGNORE INTO run_files(run_id, file_fp, path, bytes) VALUES (?, ?, ?, ?)');
    for (const f of run.files) file.run(runId, f.fingerprint, f.path, f.bytes);
    return runId;
  }

  /** The ip_id of every scanner IP of the run (adding the new ones). */
  private ipIds(rows: RunRows): Map<string, number> {
    const ids = new Map<string, number>();
    const add = this.db.prepare('INSERT OR IGNORE INTO ips(ip, ip_key) VALUES (?, ?)');
    const get = this.db.prepare<number>('SELECT ip_id FROM ips WHERE ip = ?').pluck();
    for (const r of rows.scannerDays) {
      if (ids.has(r.ip)) continue;
      add.run(r.ip, r.ipKey);
      ids.set(r.ip, get.get(r.ip)!);
    }
    return ids;
  }

  private insertRows(runId: number, rows: RunRows, ids: Map<string, number>): void {
    const sd = this.db.prepare(
      `INSERT INTO scanner_days(day, ip_id, run_id, scan_keys, flows, packets, bytes, ports, max_endpoints, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const r of rows.scannerDays) {
      sd.run(r.day, ids.get(r.ip), runId, r.scanKeys, r.flows, r.packets, r.bytes, r.ports, r.maxEndpoints, r.firstSeen, r.lastSeen);
    }
    const sp = this.db.prepare(
      `INSERT INTO scanner_day_ports(day, ip_id, protocol, port, run_id, scan_keys, flows, packets, bytes, max_endpoints)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const p of rows.scannerDayPorts) sp.run(p.day, ids.get(p.ip), p.protocol, p.port, runId, p.scanKeys, p.flows, p.packets, p.bytes, p.maxEndpoints);
    const ed = this.db.prepare(
      `INSERT INTO endpoint_days(day, cloud, account, endpoint, run_id, scanner_ips, ports) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of rows.endpointDays) ed.run(e.day, e.cloud, e.account, e.endpoint, runId, e.scannerIps, e.ports);
  }

  private upsertFacts(runId: number, ids: Map<string, number>, facts: ReadonlyMap<string, IpFacts>): void {
    const up = this.db.prepare(
      `INSERT INTO ip_facts(ip_id, country, asn, as_org, actor, run_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(ip_id) DO UPDATE SET country = excluded.country, asn = excluded.asn, as_org = excluded.as_org,
         actor = excluded.actor, run_id = excluded.run_id`,
    );
    for (const [ip, id] of ids) {
      const f = facts.get(ip);
      if (f) up.run(id, f.country, f.asn, f.as_org, f.actor, runId);
    }
  }

  // ---------------------------------------------------------------- queries

  runs(): RunRow[] {
    return this.db.prepare<RunRow>('SELECT * FROM runs ORDER BY run_id').all();
  }

  /** The period [from, to] (defaults: the first and last recorded day) and its days with data. */
  period(from?: string, to?: string): Period {
    const b = this.db.prepare<{ lo: string | null; hi: string | null }>('SELECT MIN(day) AS lo, MAX(day) AS hi FROM scanner_days').get()!;
    const lo = from ?? b.lo;
    const hi = to ?? b.hi;
    if (!lo || !hi || lo > hi) return { from: lo ?? '', to: hi ?? '', days: [], calendarDays: 0, daysWithoutData: [] };
    const days = this.db.prepare<string>('SELECT DISTINCT day FROM scanner_days WHERE day BETWEEN ? AND ? ORDER BY day').pluck().all(lo, hi);
    const all = calendarDays(lo, hi);
    const have = new Set(days);
    return { from: lo, to: hi, days, calendarDays: all.length, daysWithoutData: all.filter((d) => !have.has(d)) };
  }

  /** Per scanner IP over the period, sorted by address (IPv4 first). */
  scanners(p: Period, where: { actor?: string; ips?: readonly string[]; minDays?: number } = {}): ScannerSummary[] {
    const cond: string[] = [];
    const args: unknown[] = [p.from, p.to, p.from, p.to];
    if (where.actor !== undefined) {
      cond.push('f.actor = ?');
      args.push(where.actor);
    }
    if (where.ips) {
      cond.push('i.ip IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(where.ips));
    }
    if (where.minDays !== undefined) {
      cond.push('d.days >= ?');
      args.push(where.minDays);
    }
    return this.db
      .prepare<ScannerSummary>(
        `WITH d AS (
           SELECT ip_id, COUNT(DISTINCT day) AS days, MIN(day) AS first_day, MAX(day) AS last_day,
                  MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen, SUM(scan_keys) AS scan_keys,
                  SUM(flows) AS flows, SUM(packets) AS packets, SUM(bytes) AS bytes, MAX(max_endpoints) AS max_endpoints
           FROM scanner_days WHERE day BETWEEN ? AND ? GROUP BY ip_id),
         p AS (SELECT ip_id, COUNT(DISTINCT protocol * 65536 + port) AS ports FROM scanner_day_ports WHERE day BETWEEN ? AND ? GROUP BY ip_id)
         SELECT i.ip, d.days, d.first_day, d.last_day, d.first_seen, d.last_seen, d.scan_keys, COALESCE(p.ports, 0) AS ports,
                d.flows, d.packets, d.bytes, d.max_endpoints, f.country, f.asn, f.as_org, f.actor
         FROM d JOIN ips i ON i.ip_id = d.ip_id LEFT JOIN p ON p.ip_id = d.ip_id LEFT JOIN ip_facts f ON f.ip_id = d.ip_id
         ${cond.length ? `WHERE ${cond.join(' AND ')}` : ''}
         ORDER BY i.ip_key`,
      )
      .all(...args);
  }

  /** Per day of the period: scanner IPs, keys, flows, packets, bytes and distinct ports. */
  daySeries(p: Period): DaySeries[] {
    const ports = new Map(
      this.db
        .prepare<{ day: string; ports: number; tcp_ports: number; udp_ports: number }>(
          `SELECT day, COUNT(DISTINCT protocol * 65536 + port) AS ports,
                  COUNT(DISTINCT CASE WHEN protocol = 6 THEN port END) AS tcp_ports,
                  COUNT(DISTINCT CASE WHEN protocol = 17 THEN port END) AS udp_ports
           FROM scanner_day_ports WHERE day BETWEEN ? AND ? GROUP BY day`,
        )
        .all(p.from, p.to)
        .map((r) => [r.day, r]),
    );
    return this.db
      .prepare<Omit<DaySeries, 'ports' | 'tcp_ports' | 'udp_ports'>>(
        `SELECT day, COUNT(DISTINCT ip_id) AS scanner_ips, SUM(scan_keys) AS scan_keys, SUM(flows) AS flows,
                SUM(packets) AS packets, SUM(bytes) AS bytes
         FROM scanner_days WHERE day BETWEEN ? AND ? GROUP BY day ORDER BY day`,
      )
      .all(p.from, p.to)
      .map((r) => ({ ...r, ports: ports.get(r.day)?.ports ?? 0, tcp_ports: ports.get(r.day)?.tcp_ports ?? 0, udp_ports: ports.get(r.day)?.udp_ports ?? 0 }));
  }

  /** Every scanned (protocol, port) of the period, most scanner IPs first (then flows, protocol, port). */
  portRanking(p: Period): PortRank[] {
    return this.db
      .prepare<PortRank>(
        `SELECT protocol, port, COUNT(DISTINCT ip_id) AS scanner_ips, SUM(scan_keys) AS scan_keys, SUM(flows) AS flows,
                SUM(packets) AS packets, SUM(bytes) AS bytes, COUNT(DISTINCT day) AS days
         FROM scanner_day_ports WHERE day BETWEEN ? AND ?
         GROUP BY protocol, port ORDER BY scanner_ips DESC, flows DESC, protocol, port`,
      )
      .all(p.from, p.to);
  }

  /** The IPs of the period that scanned any of the given (protocol, port) pairs. */
  ipsScanning(p: Period, pairs: ReadonlyArray<{ protocol: number; port: number }>): Set<string> {
    if (pairs.length === 0) return new Set();
    return new Set(
      this.db
        .prepare<string>(
          `SELECT i.ip FROM ips i WHERE i.ip_id IN (SELECT ip_id FROM scanner_day_ports WHERE day BETWEEN ? AND ?
           AND protocol * 65536 + port IN (SELECT value FROM json_each(?)))`,
        )
        .pluck()
        .all(p.from, p.to, JSON.stringify(pairs.map((x) => x.protocol * 65536 + x.port))),
    );
  }

  /** Per IP, its (protocol, port)s of the period (or of one day), most flows first. */
  portsOf(p: Period, ips?: readonly string[]): Map<string, ScannerPort[]> {
    const rows = this.db
      .prepare<ScannerPort>(
        `SELECT i.ip, s.protocol, s.port, SUM(s.flows) AS flows, SUM(s.scan_keys) AS scan_keys
         FROM scanner_day_ports s JOIN ips i ON i.ip_id = s.ip_id
         WHERE s.day BETWEEN ? AND ? ${ips ? 'AND s.ip_id IN (SELECT ip_id FROM ips WHERE ip IN (SELECT value FROM json_each(?)))' : ''}
         GROUP BY s.ip_id, s.protocol, s.port ORDER BY s.ip_id, flows DESC, s.protocol, s.port`,
      )
      .all(...[p.from, p.to, ...(ips ? [JSON.stringify(ips)] : [])]);
    const out = new Map<string, ScannerPort[]>();
    for (const r of rows) {
      let l = out.get(r.ip);
      if (!l) out.set(r.ip, (l = []));
      l.push(r);
    }
    return out;
  }

  /**
   * Endpoint-days of the period. Runs that cover the same endpoint-day from different inputs:
   * their scanner counts add (exact when their scanners differ) and the larger port count is kept.
   */
  endpointDays(p: Period): EndpointDayFact[] {
    return this.db
      .prepare<EndpointDayFact>(
        `SELECT day, cloud, account, endpoint, SUM(scanner_ips) AS scanner_ips, MAX(ports) AS ports
         FROM endpoint_days WHERE day BETWEEN ? AND ? GROUP BY day, cloud, account, endpoint ORDER BY day, cloud, account, endpoint`,
      )
      .all(p.from, p.to);
  }

  /** Actors known in ip_facts with the number of scanner IPs of the period. */
  actors(p: Period): Array<{ actor: string; scanner_ips: number }> {
    return this.db
      .prepare<{ actor: string; scanner_ips: number }>(
        `SELECT f.actor AS actor, COUNT(DISTINCT d.ip_id) AS scanner_ips FROM scanner_days d JOIN ip_facts f ON f.ip_id = d.ip_id
         WHERE d.day BETWEEN ? AND ? AND f.actor IS NOT NULL AND f.actor <> '' GROUP BY f.actor ORDER BY scanner_ips DESC, actor`,
      )
      .all(p.from, p.to);
  }

  /**
   * Scanner IPs of the period grouped by their country or network (ip_facts); IPs with no
   * facts group under null. Most scanner IPs first.
   */
  groupByFacts(p: Period, by: 'country' | 'network'): Array<{ country: string | null; asn: number | null; as_org: string | null; scanner_ips: number; flows: number }> {
    const cols = by === 'country' ? 'f.country AS country, NULL AS asn, NULL AS as_org' : 'NULL AS country, f.asn AS asn, MAX(f.as_org) AS as_org';
    const group = by === 'country' ? 'f.country' : 'f.asn';
    return this.db
      .prepare<{ country: string | null; asn: number | null; as_org: string | null; scanner_ips: number; flows: number }>(
        `SELECT ${cols}, COUNT(DISTINCT d.ip_id) AS scanner_ips, SUM(d.flows) AS flows
         FROM scanner_days d LEFT JOIN ip_facts f ON f.ip_id = d.ip_id WHERE d.day BETWEEN ? AND ?
         GROUP BY ${group} ORDER BY scanner_ips DESC, flows DESC, ${group}`,
      )
      .all(p.from, p.to);
  }

  /** TCP, UDP and other protocols: scanner IPs, scan keys and flows of the period. */
  protocolShare(p: Period): Array<{ class: 'tcp' | 'udp' | 'other'; scanner_ips: number; scan_keys: number; flows: number }> {
    const rows = this.db
      .prepare<{ class: 'tcp' | 'udp' | 'other'; scanner_ips: number; scan_keys: number; flows: number }>(
        `SELECT CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' ELSE 'other' END AS class,
                COUNT(DISTINCT ip_id) AS scanner_ips, SUM(scan_keys) AS scan_keys, SUM(flows) AS flows
         FROM scanner_day_ports WHERE day BETWEEN ? AND ? GROUP BY class`,
      )
      .all(p.from, p.to);
    return (['tcp', 'udp', 'other'] as const).map((c) => rows.find((r) => r.class === c) ?? { class: c, scanner_ips: 0, scan_keys: 0, flows: 0 });
  }

  /** The recorded facts of these IPs. */
  factsOf(ips: readonly string[]): Map<string, IpFacts> {
    const rows = this.db
      .prepare<IpFacts & { ip: string }>('SELECT i.ip, f.country, f.asn, f.as_org, f.actor FROM ip_facts f JOIN ips i ON i.ip_id = f.ip_id WHERE i.ip IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ips));
    return new Map(rows.map(({ ip, ...f }) => [ip, f]));
  }

  hasFacts(): boolean {
    return this.db.prepare('SELECT 1 FROM ip_facts LIMIT 1').get() !== undefined;
  }
}
