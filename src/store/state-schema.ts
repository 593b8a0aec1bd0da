/**
 * The sidecar's state database (`<state>/flowsieve.db`, serve/store.ts reads and writes
 * it): its tables, versioned like the history's (sqlite.ts migrate). Databases written
 * before the versioning (user_version 0, meta.schema_version '1') already have every table
 * of version 1: its statements are IF NOT EXISTS, so they pass through it unchanged and
 * keep their state_id.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Schema } from './sqlite.js';

export const STATE_SCHEMA: Schema = {
  what: 'state database',
  migrations: [
    // 0 -> 1: the first schema
    (db) => {
      db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS scans (
        window INTEGER NOT NULL, day TEXT NOT NULL, src TEXT NOT NULL, src_key TEXT NOT NULL,
        protocol INTEGER NOT NULL, dst_port INTEGER NOT NULL,
        endpoints INTEGER NOT NULL, clouds INTEGER NOT NULL, accounts INTEGER NOT NULL, regions INTEGER NOT NULL,
        flows INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
        cv_packets REAL, cv_bytes REAL, cv_flows REAL NOT NULL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        country TEXT, asn INTEGER, as_org TEXT, actor TEXT,
        seq INTEGER NOT NULL,
        PRIMARY KEY (window, src_key, protocol, dst_port)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS scans_by_day ON scans (day, src_key);
      CREATE INDEX IF NOT EXISTS scans_by_src ON scans (src_key, window);
      CREATE TABLE IF NOT EXISTS alerts (
        akey TEXT PRIMARY KEY, window INTEGER NOT NULL, day TEXT NOT NULL, cloud TEXT NOT NULL, account TEXT NOT NULL,
        src TEXT NOT NULL, src_key TEXT NOT NULL, protocol INTEGER NOT NULL, dst_port INTEGER, kind TEXT NOT NULL,
        worm INTEGER NOT NULL, severity TEXT NOT NULL, targets INTEGER NOT NULL, ports INTEGER NOT NULL,
        record TEXT NOT NULL, seq INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS alerts_by_host ON alerts (day, cloud, account, src);
      CREATE INDEX IF NOT EXISTS alerts_by_src ON alerts (src_key, window);
      CREATE TABLE IF NOT EXISTS endpoint_days (
        day TEXT NOT NULL, cloud TEXT NOT NULL, account TEXT NOT NULL, endpoint TEXT NOT NULL,
        scanners INTEGER NOT NULL, ports TEXT NOT NULL,
        PRIMARY KEY (day, cloud, account, endpoint)
      ) WITHOUT ROWID;
      -- the scanner sources of each endpoint-day, kept only while the day has open windows
      CREATE TABLE IF NOT EXISTS endpoint_day_sources (
        day TEXT NOT NULL, cloud TEXT NOT NULL, account TEXT NOT NULL, endpoint TEXT NOT NULL, src TEXT NOT NULL,
        PRIMARY KEY (day, cloud, account, endpoint, src)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS windows (
        window INTEGER PRIMARY KEY, day TEXT NOT NULL, finalized_seq INTEGER, scans INTEGER NOT NULL DEFAULT 0,
        late INTEGER NOT NULL DEFAULT 0, reprocessed_seq INTEGER
      );
      CREATE TABLE IF NOT EXISTS files (
        seq INTEGER NOT NULL, name TEXT NOT NULL, stored TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
        format TEXT, gzip INTEGER NOT NULL, records INTEGER NOT NULL, rejected INTEGER NOT NULL, late INTEGER NOT NULL,
        min_start INTEGER, max_end INTEGER, error TEXT, fingerprint TEXT NOT NULL,
        PRIMARY KEY (seq, name)
      );
      CREATE INDEX IF NOT EXISTS files_by_time ON files (min_start, max_end);
      CREATE INDEX IF NOT EXISTS files_by_content ON files (fingerprint);
      -- complete days handed to the shared history store (flowsieve history/export/report)
      CREATE TABLE IF NOT EXISTS history_days (day TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      `);
      // names this state's days in the history store
      db.prepare("INSERT OR IGNORE INTO meta VALUES ('state_id', ?)").run(randomUUID());
    },
  ],
  stamp: (db: Database, version: number) => db.prepare("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)").run(String(version)),
};
