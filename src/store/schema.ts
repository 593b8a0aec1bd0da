/**
 * The history database's schema, versioned with SQLite's `user_version`. MIGRATIONS[i]
 * takes a database from version i to i + 1; opening a database runs the missing ones in one
 * transaction, so a database is always at one known version. A database written by a newer
 * flowsieve (a version above SCHEMA_VERSION) is refused rather than misread.
 *
 * Tables (every history row names its run, so a run can be replaced as a whole):
 * - runs: one row per recorded detect run, keyed by the fingerprint of its input set
 * - run_files: the content fingerprints of the files a run read (to find runs it supersedes)
 * - ips: scanner addresses as small integers (ip_id); ip_key is a 17-byte sortable key
 *   (family byte 4 or 6, then the 16 address bytes): ORDER BY ip_key is the output order
 * - scanner_days: per UTC day, scanner IP and run: scan keys, flows, packets, bytes,
 *   distinct (protocol, port) pairs, the most endpoints of one of its keys, first/last seen
 * - scanner_day_ports: per day, IP, (protocol, port) and run: the same counts
 * - endpoint_days: per day, endpoint (cloud, account, address) and run: scanner IPs, ports
 * - ip_facts: the latest enrichment of a scanner IP (country, ASN, organisation, actor)
 * Days are 'YYYY-MM-DD' (UTC) and lead the keys, since every question is about a period;
 * times are Unix seconds. A run's rows are deleted through its day range (runs.first_day ..
 * last_day), so no foreign-key index on run_id is needed.
 */
import type { Database, Schema } from './sqlite.js';

export const SCHEMA_VERSION = 1;

export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // 0 -> 1: the first schema
  (db) =>
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a replaced run's number stays retired
        fingerprint TEXT NOT NULL UNIQUE,
        recorded_at TEXT NOT NULL,
        window_seconds INTEGER NOT NULL,
        inputs TEXT NOT NULL,
        files INTEGER NOT NULL,
        records INTEGER NOT NULL,
        scan_keys INTEGER NOT NULL,
        scanner_ips INTEGER NOT NULL,
        first_day TEXT,
        last_day TEXT,
        partial INTEGER NOT NULL,
        settings TEXT NOT NULL
      );
      CREATE TABLE run_files (
        run_id INTEGER NOT NULL,
        file_fp TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (run_id, file_fp)
      ) WITHOUT ROWID;
      CREATE INDEX run_files_by_fp ON run_files(file_fp);
      CREATE TABLE ips (
        ip_id INTEGER PRIMARY KEY,
        ip TEXT NOT NULL UNIQUE,
        ip_key BLOB NOT NULL UNIQUE
      );
      CREATE TABLE scanner_days (
        day TEXT NOT NULL,
        ip_id INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        scan_keys INTEGER NOT NULL,
        flows INTEGER NOT NULL,
        packets INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        ports INTEGER NOT NULL,
        max_endpoints INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        PRIMARY KEY (day, ip_id, run_id)
      ) WITHOUT ROWID;
      CREATE INDEX scanner_days_by_ip ON scanner_days(ip_id, day);
      CREATE TABLE scanner_day_ports (
        day TEXT NOT NULL,
        ip_id INTEGER NOT NULL,
        protocol INTEGER NOT NULL,
        port INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        scan_keys INTEGER NOT NULL,
        flows INTEGER NOT NULL,
        packets INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        max_endpoints INTEGER NOT NULL,
        PRIMARY KEY (day, ip_id, protocol, port, run_id)
      ) WITHOUT ROWID;
      CREATE TABLE endpoint_days (
        day TEXT NOT NULL,
        cloud TEXT NOT NULL,
        account TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        scanner_ips INTEGER NOT NULL,
        ports INTEGER NOT NULL,
        PRIMARY KEY (day, cloud, account, endpoint, run_id)
      ) WITHOUT ROWID;
      CREATE TABLE ip_facts (
        ip_id INTEGER PRIMARY KEY,
        country TEXT,
        asn INTEGER,
        as_org TEXT,
        actor TEXT,
        run_id INTEGER NOT NULL
      );
      CREATE INDEX ip_facts_by_actor ON ip_facts(actor);
    `),
];

/** The history's schema, brought up to date by migrate() (sqlite.ts) when a store opens. */
export const HISTORY_SCHEMA: Schema = {
  what: 'history database',
  migrations: MIGRATIONS,
  // the version is also readable as data (meta.schema_version), for tools that read the file
  stamp: (db, version) => db.prepare(`INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)`).run(String(version)),
};
