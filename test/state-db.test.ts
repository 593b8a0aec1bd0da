import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { migrate, openDatabase, schemaVersion, type Database } from '../dist/src/store/sqlite.js';
import { STATE_SCHEMA } from '../dist/src/store/state-schema.js';
import { HISTORY_SCHEMA } from '../dist/src/store/schema.js';
import { DB_FILE, SqliteVerdictStore } from '../dist/src/serve/store.js';
import { HistoryStore } from '../dist/src/store/history.js';

const pluck = (db: Database, sql: string) => db.prepare(sql).pluck().get();

/**
 * A state database as flowsieve wrote it before its schema was versioned: the tables of
 * version 1 (the same statements), meta.schema_version '1', and user_version 0.
 */
function legacyState(dir: string): void {
  const db = openDatabase(join(dir, DB_FILE));
  STATE_SCHEMA.migrations[0]!(db);
  db.exec("DELETE FROM meta; INSERT INTO meta VALUES ('schema_version', '1'), ('state_id', 'legacy-state'), ('applied_seq', '7')");
  db.prepare('INSERT INTO scans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)').run(
    ...[70000, '2024-03-01', '45.0.0.1', '42d000001' + '0'.repeat(24), 6, 22, 12, 1, 1, 1, 12, 12, 480, 0, 0, 0, 1709251200, 1709251230, null, null, null, null, 7],
  );
  db.close();
}

describe('the SQLite databases: one layer, versioned schemas', () => {
  it('a state database from before the versioning opens with its data and its state id, and is versioned from then on', () => {
    const dir = tempDir();
    legacyState(dir);
    const store = new SqliteVerdictStore(dir);
    expect(store.stateId).toBe('legacy-state');
    expect(store.appliedSeq).toBe(7);
    expect(store.days()).toEqual([{ day: '2024-03-01', scanner_ips: 1, scan_keys: 1 }]);
    store.close();
    const db = openDatabase(join(dir, DB_FILE), { readonly: true });
    expect(pluck(db, 'PRAGMA user_version')).toBe(schemaVersion(STATE_SCHEMA));
    expect(pluck(db, "SELECT value FROM meta WHERE key = 'schema_version'")).toBe(String(schemaVersion(STATE_SCHEMA)));
    db.close();
    // and again: nothing left to migrate, the same state
    const again = new SqliteVerdictStore(dir);
    expect(again.stateId).toBe('legacy-state');
    again.close();
  });

  it('a new state database gets every table and a fresh state id', () => {
    const a = new SqliteVerdictStore(tempDir());
    const b = new SqliteVerdictStore(tempDir());
    expect(a.stateId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.stateId).not.toBe(b.stateId);
    expect(a.days()).toEqual([]);
    a.close();
    b.close();
  });

  it('a database from a newer flowsieve is refused, not misread, for either schema', () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, DB_FILE));
    db.pragma(`user_version = ${schemaVersion(STATE_SCHEMA) + 1}`);
    db.close();
    expect(() => new SqliteVerdictStore(dir)).toThrow(/state database .* has schema version 2; this flowsieve knows up to 1/);
    const mem = openDatabase(':memory:');
    mem.pragma('user_version = 9');
    expect(() => migrate(mem, HISTORY_SCHEMA)).toThrow(/history database .* schema version 9/);
    mem.close();
  });

  it('migrations run in order, each once, in one transaction that a failure rolls back', () => {
    const ran: number[] = [];
    const schema = {
      what: 'test database',
      migrations: [
        (db: Database) => (ran.push(1), db.exec('CREATE TABLE a (x)')),
        (db: Database) => (ran.push(2), db.exec('CREATE TABLE b (x)')),
      ],
    };
    const db = openDatabase(':memory:');
    expect(migrate(db, schema)).toBe(0);
    expect(migrate(db, schema)).toBe(2);
    expect(ran).toEqual([1, 2]);
    const broken = { what: 'test database', migrations: [...schema.migrations, (d: Database) => d.exec('CREATE TABLE c (x); CREATE TABLE a (x)')] };
    expect(() => migrate(db, broken)).toThrow(/already exists/);
    expect(pluck(db, 'PRAGMA user_version')).toBe(2);
    expect(pluck(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'c'")).toBe(0); // the failed step's first table is gone too
    db.close();
  });

  it('the history keeps its schema through the same layer', () => {
    const dir = tempDir();
    HistoryStore.open(dir, { create: true }).close();
    const h = HistoryStore.open(dir);
    expect(pluck(h.db, 'PRAGMA user_version')).toBe(schemaVersion(HISTORY_SCHEMA));
    h.close();
  });
});
