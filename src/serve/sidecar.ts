/**
 * The sidecar batch engine (`flowsieve serve`): picks up complete files from the spool,
 * ingests them in batches through one long-lived Engine, finalises the windows the
 * watermark has passed, and commits every batch as one checkpoint (accumulators + ledger
 * + outbox) before anything else changes. After the commit the outbox is applied to the
 * state database and scans.ndjson (idempotently) and the files leave the spool. A kill at
 * any point restarts from the last checkpoint: nothing is lost and nothing counted twice.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine } from '../engine/run.js';
import type { DetectOptions, FinalizeOutput, IngestResult } from '../engine/types.js';
import { mergeEndpointDays } from '../engine/merge.js';
import { buildAlerts, type OutboundAlert } from '../detect/outbound.js';
import type { KeyVerdict } from '../engine/verdict.js';
import {
  CHECKPOINT_VERSION, CheckpointDamaged, readCheckpoint, removeStaleTemp, writeCheckpoint,
  type FileFacts, type LedgerEntry, type Outbox, type ScannerFacts,
} from './checkpoint.js';
import { Spool, fileFingerprint, type SpoolFile } from './spool.js';
import { ObjectSpool } from './object-spool.js';

type BatchFile = SpoolFile & { fingerprint: string };
import { SqliteVerdictStore, StateLockedError, lockState, type VerdictStore } from './store.js';
import { appendAt, repairTornTail } from './append-log.js';
import { ServeMetrics } from './metrics.js';
import {
  DEFAULT_IDLE_SECONDS, DEFAULT_LATENESS, Watermarks, closableUpTo, cloudOfFormat, dayComplete, dayOfWindow, dayStart, lateBefore,
  streamOfPath, windowsOfDay, windowStartText,
} from './windows.js';
import { isoTime } from '../output/verdicts.js';
import { crashPoint } from './faults.js';
import { openHistory, recordCompleteDays } from './history-link.js';
import type { HistoryStore } from '../store/history.js';

/** Country, network and known-actor facts of scanner IPs (the analyst's enrichment, when wired). */
export type ScannerEnricher = (ips: Array<{ text: string; words: number[] }>) => Promise<Map<string, ScannerFacts>>;

export interface SidecarOptions {
  detect: DetectOptions;
  spoolDir: string;
  /** A bucket URL read instead of the spool folder (serve --source; serve/object-spool.ts). */
  source?: string;
  stateDir: string;
  /** Where done files go; null leaves them in the spool (--keep). */
  doneDir: string | null;
  settleMs: number;
  pollMs: number;
  /** --lateness for every stream; null: each stream's cloud's default (windows.ts DEFAULT_LATENESS). */
  latenessSeconds: number | null;
  /** A stream with no file for this long stops holding the watermark (default DEFAULT_IDLE_SECONDS). */
  idleSeconds?: number;
  batchFiles: number;
  batchBytes: number;
  /** UTC days (YYYY-MM-DD) to rebuild from their files at start. */
  reprocess: string[];
  enricher?: ScannerEnricher;
  /** After each committed batch: the bytes of scans.ndjson and outbound.ndjson now committed (notify.ts reads up to them). */
  onCommit?: (sizes: { scans: number; outbound: number }) => void;
  log: (line: string) => void;
  nowMs?: () => number;
}

export type SidecarState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface BatchSummary {
  seq: number;
  files: number;
  records: number;
  late: number;
  seconds: number;
  finalized: number[];
  scans: number;
}

export const SCANS_FILE = 'scans.ndjson';
export const ALERTS_FILE = 'outbound.ndjson';

export class Sidecar {
  readonly metrics = new ServeMetrics();
  state: SidecarState = 'starting';
  store!: VerdictStore;
  private engine!: Engine;
  private readonly spool: Spool | ObjectSpool;
  private readonly W: number;
  private seq = 0;
  /** Event time per source stream (account and region, spool folder): windows.ts. */
  readonly marks: Watermarks;
  private finalizedUpTo = -1;
  private spilledLogged = 0;
  private outboundDroppedLogged = 0;
  private ledger = new Map<string, LedgerEntry>();
  private filesDone = 0;
  private pending = { files: 0, settling: 0, bytes: 0 };
  private openWindows: number[] = [];
  private lastBatch: BatchSummary | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private starting: Promise<void> | null = null;
  private unlock: (() => void) | null = null; // the state folder's lock
  private history: HistoryStore | null = null;
  private readonly startedAt = Date.now();
  private readonly now: () => number;

  constructor(private readonly opts: SidecarOptions) {
    this.W = opts.detect.windowSeconds;
    this.now = opts.nowMs ?? Date.now;
    const fixed = opts.latenessSeconds;
    this.marks = new Watermarks({
      latenessOf: (cloud) => fixed ?? DEFAULT_LATENESS[cloud] ?? DEFAULT_LATENESS.other!,
      idleSeconds: opts.idleSeconds ?? DEFAULT_IDLE_SECONDS,
    });
    mkdirSync(opts.stateDir, { recursive: true });
    // the engine plans each listed object from the listing, without listing it again
    if (opts.source) opts.detect.source = { ...(opts.detect.source ?? {}), known: new Map() };
    this.spool = opts.source
      ? new ObjectSpool(opts.source, { source: opts.detect.source!, range: opts.detect.timeRange, log: opts.log })
      : new Spool({
          dir: opts.spoolDir, doneDir: opts.doneDir, settleMs: opts.settleMs,
          onSkipped: (path, what) => opts.log(`${path}: skipped, it is ${what} (only regular files are read; move the file itself into the spool)`),
        });
  }

  // ---------------------------------------------------------------------------------
  // start: load the checkpoint, finish what the last run committed but did not apply

  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<void> {
    const { stateDir } = this.opts;
    try {
      this.unlock = lockState(stateDir);
    } catch (err) {
      if (err instanceof StateLockedError) throw new StartError(err.message);
      throw err;
    }
    removeStaleTemp(stateDir);
    try {
      this.store = new SqliteVerdictStore(stateDir);
    } catch (err) {
      throw new StartError(`cannot open the state database in ${stateDir}: ${(err as Error).message}`);
    }
    try {
      this.history = openHistory(stateDir);
    } catch (err) {
      throw new StartError((err as Error).message);
    }
    let ckpt;
    try {
      ckpt = readCheckpoint(stateDir);
    } catch (err) {
      throw new StartError((err as Error).message);
    }
    if (ckpt && ckpt.windowSeconds !== this.W) {
      throw new StartError(`the state in ${stateDir} was built with --window ${ckpt.windowSeconds}s, not ${this.W}s; use a new --state folder`);
    }
    this.engine = new Engine(this.opts.detect);
    if (ckpt) {
      try {
        await this.engine.importState(ckpt.shards); // pieces are checked against their checksums as they are read
      } catch (err) {
        throw new StartError(err instanceof CheckpointDamaged ? err.message : `checkpoint in ${stateDir} cannot be loaded: ${(err as Error).message}`);
      }
      this.seq = ckpt.seq;
      if (ckpt.streams) this.marks.load(ckpt.streams);
      else this.marks.observe('', ckpt.maxEnd, 'other', ckpt.createdAt / 1000); // written before per-stream watermarks
      this.finalizedUpTo = ckpt.finalizedUpTo;
      this.ledger = new Map(ckpt.ledger.map((e) => [e.name, e]));
    }
    const applied = this.store.appliedSeq;
    if (applied > this.seq || (ckpt && applied < ckpt.seq - 1) || (!ckpt && applied > 0)) {
      throw new StartError(
        `the state database (batch ${applied}) does not match the checkpoint (batch ${this.seq}) in ${stateDir}: one of them was replaced or lost`,
      );
    }
    this.repairLogs(ckpt?.outbox && applied >= ckpt.seq ? ckpt.outbox : null);
    if (ckpt?.outbox && applied < ckpt.seq) {
      this.opts.log(`resuming: applying batch ${ckpt.seq} committed before the last stop`);
      this.apply(ckpt.outbox);
    }
    this.filesDone = this.store.filesRead(); // /v1/status counts the files of earlier runs too
    this.finishMoves();
    for (const day of this.opts.reprocess) await this.reprocessDay(day);
    this.recordHistory();
    await this.refreshGauges();
    if (this.state !== 'starting') return; // stopped while loading
    this.state = 'ready';
    this.metrics.ready.set(1);
    this.opts.log(
      `ready: batch ${this.seq}, ${this.ledger.size} file(s) in the ledger, finalised up to ` +
        (this.finalizedUpTo >= 0 ? windowStartText(this.finalizedUpTo + 1, this.W) : 'nothing yet'),
    );
  }

  /**
   * scans.ndjson and outbound.ndjson that end inside a line (cut short while serve was
   * down): the torn line is cut off and, where it belongs to the last batch (`applied`,
   * the checkpoint's outbox), that batch's lines from it on are written again. Logged.
   */
  private repairLogs(applied: Outbox | null): void {
    const plan = applied ? this.store.plan(applied, this.W) : null;
    for (const [file, lines] of [[SCANS_FILE, plan?.scanLines ?? []], [ALERTS_FILE, plan?.alertLines ?? []]] as const) {
      const path = join(this.opts.stateDir, file);
      const r = repairTornTail(path, lines);
      if (!r) continue;
      this.opts.log(
        `${path} ended inside a line (the file was cut short): removed the torn ${r.cutBytes} byte(s)` +
          (r.restoredLines
            ? ` and wrote ${r.restoredLines} line(s) of batch ${applied!.seq} again from the checkpoint`
            : '; the line is older than the last batch and could not be restored (every verdict is in flowsieve.db)'),
      );
    }
  }

  /** Files a committed batch ingested but that did not leave the spool before the stop. */
  private finishMoves(): void {
    if (!this.opts.doneDir) return;
    for (const e of this.ledger.values()) {
      if (e.moved) continue;
      const from = join(this.spool.dir, e.name);
      try {
        if (existsSync(from)) this.spool.moveDone(e.name, e.stored);
        e.moved = true;
      } catch (err) {
        this.opts.log(`cannot move ${e.name} to ${e.stored}: ${(err as Error).message} (will retry)`);
      }
    }
    this.spool.syncMoves();
  }

  // ---------------------------------------------------------------------------------
  // the loop

  run(): Promise<void> {
    this.loop ??= (async () => {
      try {
        while (this.state === 'ready') {
          const worked = await this.cycle();
          if (!worked && this.state === 'ready') await this.sleep(this.opts.pollMs);
        }
      } catch (err) {
        this.state = 'failed';
        this.metrics.ready.set(0);
        throw err;
      }
    })();
    return this.loop;
  }

  /** Wake the loop early (a file landed). */
  poke(): void {
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Bytes of scans.ndjson and outbound.ndjson that are committed (a reader takes no more). */
  committedSizes(): { scans: number; outbound: number } {
    return this.store.appendSizes();
  }

  /** Graceful stop: take no more files, let the current batch commit, close everything. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.metrics.ready.set(0);
    this.wake?.();
    if (this.starting) await this.starting.catch(() => {});
    if (this.loop) await this.loop.catch(() => {});
    await this.engine?.close();
    this.store?.close();
    this.history?.close();
    this.unlock?.();
    this.state = 'stopped';
  }

  /** One batch: returns false when there was nothing to do. */
  async cycle(): Promise<boolean> {
    if (this.spool instanceof ObjectSpool) await this.spool.refresh();
    const nowMs = this.now();
    const scan = this.spool.scan(this.ledger, nowMs);
    this.setPending(scan.ready.length + scan.settling, scan.settling, scan.pendingBytes);
    if (scan.done.length) this.finishMoves(); // moves that failed after an earlier commit
    const batch = this.takeBatch(scan.ready, this.seq + 1);
    // streams with files still waiting in the spool hold the watermark where they are
    const taken = new Set(batch.map((f) => f.name));
    const waiting = new Set(scan.ready.filter((f) => !taken.has(f.name)).map((f) => streamOfPath(f.name)));
    const closable = closableUpTo(this.marks.value(nowMs / 1000, waiting), this.W);
    if (batch.length === 0 && closable <= this.finalizedUpTo) return false;

    const t0 = performance.now();
    const seq = this.seq + 1;
    const ingest = batch.length
      ? await this.engine.ingest(batch.map((f) => f.path), undefined, { lateBefore: lateBefore(this.finalizedUpTo, this.W) })
      : null;
    if (ingest && (await this.dropChanged(batch))) return true;
    if (ingest) this.observeStreams(batch, ingest, nowMs / 1000);
    crashPoint('after-ingest');
    const fin = await this.finalizeClosable(closableUpTo(this.marks.value(nowMs / 1000, waiting), this.W));
    const files = ingest ? this.recordFiles(batch, ingest, seq) : [];
    const outbox = await this.outbox(seq, files, ingest, fin);
    await this.commit(outbox);
    crashPoint('after-commit');
    this.moveBatch(batch);
    crashPoint('after-moves');
    const seconds = (performance.now() - t0) / 1000;
    this.metrics.batchSeconds.observe(seconds);
    if (ingest) this.countIngest(ingest);
    this.setPending(Math.max(0, this.pending.files - batch.length), this.pending.settling, Math.max(0, this.pending.bytes - batch.reduce((s, f) => s + f.size, 0)));
    await this.refreshGauges();
    this.lastBatch = {
      seq,
      files: batch.length,
      records: ingest?.totals.records ?? 0,
      late: ingest?.totals.late ?? 0,
      seconds,
      finalized: outbox.finalized,
      scans: outbox.scans.length,
    };
    this.logBatch(this.lastBatch, ingest);
    return true;
  }

  /**
   * Oldest files first, up to the batch limits (at least one file). A file whose content
   * was read before (a shipper delivering it again) is set aside, not read twice.
   */
  private takeBatch(ready: SpoolFile[], seq: number): BatchFile[] {
    const out: BatchFile[] = [];
    const inBatch = new Map<string, string>();
    let bytes = 0;
    for (const f of ready) {
      if (out.length > 0 && (out.length >= this.opts.batchFiles || bytes + f.size > this.opts.batchBytes)) break;
      let fingerprint: string;
      try {
        fingerprint = f.fingerprint ?? fileFingerprint(f.path);
      } catch {
        continue; // gone since the scan
      }
      const earlier = this.store.fileWithContent(fingerprint)?.name ?? inBatch.get(fingerprint);
      if (earlier !== undefined) {
        this.setAsideDuplicate(f, earlier, seq);
        continue;
      }
      inBatch.set(fingerprint, f.name);
      out.push({ ...f, fingerprint });
      bytes += f.size;
    }
    return out;
  }

  private setAsideDuplicate(f: SpoolFile, earlier: string, seq: number): void {
    this.opts.log(`${f.name}: same content as ${earlier}, which was read already; not read again`);
    this.metrics.files.inc({ result: 'duplicate' });
    if (!this.opts.doneDir) {
      // --keep: the ledger keeps it from being looked at again (and a restart finds it in the database)
      this.ledger.set(f.name, { name: f.name, size: f.size, mtimeMs: f.mtimeMs, seq, stored: f.path, moved: false });
      return;
    }
    try {
      this.spool.moveDone(f.name, this.spool.plannedDonePath(f.name, seq));
    } catch (err) {
      this.opts.log(`cannot move ${f.name} out of the spool: ${(err as Error).message}`);
    }
  }

  /**
   * A file deleted, truncated or rewritten while it was read would be committed in part.
   * Each batch file must still be what the scan saw (size and time); when one is not, the
   * batch is undone (the accumulators reloaded from the last checkpoint) and the file
   * reported: read again whole once it is complete, or never if it is gone. True: undone.
   */
  private async dropChanged(batch: BatchFile[]): Promise<boolean> {
    // an object is written whole or not at all; a rewritten one is listed again with its new time
    if (this.spool instanceof ObjectSpool) return false;
    const changed = batch.filter((f) => {
      try {
        const st = statSync(f.path);
        return st.size !== f.size || st.mtimeMs !== f.mtimeMs;
      } catch {
        return true;
      }
    });
    if (changed.length === 0) return false;
    for (const f of changed) {
      const gone = !existsSync(f.path);
      this.opts.log(
        `${f.name}: ${gone ? 'deleted' : 'changed'} while being read: none of its records are counted` +
          (gone ? ' (put it back in the spool to have it read)' : ' (it is read again, whole, once it has settled)') +
          `; the batch's other ${batch.length - 1} file(s) are read again`,
      );
      this.metrics.files.inc({ result: gone ? 'vanished' : 'changed' });
    }
    await this.reloadEngine();
    return true;
  }

  /** The accumulators as of the last checkpoint (what a restart would load). */
  private async reloadEngine(): Promise<void> {
    await this.engine.close();
    this.engine = new Engine(this.opts.detect);
    const ckpt = readCheckpoint(this.opts.stateDir);
    if (ckpt) await this.engine.importState(ckpt.shards);
  }

  /** Each file's newest record moves its stream's event time (files of no records mark the stream as seen). */
  private observeStreams(batch: BatchFile[], ingest: IngestResult, nowSeconds: number): void {
    batch.forEach((f, i) => {
      const rep = ingest.files[i]!;
      this.marks.observe(streamOfPath(f.name), rep.maxEnd, cloudOfFormat(rep.format), nowSeconds);
    });
  }

  /** Finalise (and drop) every window up to `closable` (the watermark's). */
  private async finalizeClosable(closable: number): Promise<{ fin: FinalizeOutput; windows: number[] } | null> {
    if (closable <= this.finalizedUpTo) return null;
    const open = (await this.engine.stats()).windows;
    const fin = await this.engine.finalize({ uptoWindow: closable, drop: true, endpointSources: true });
    this.finalizedUpTo = closable;
    if (fin.memory.spilled_entries > this.spilledLogged) {
      // past --max-memory the accumulators spill to disk; finalisation merged them back
      this.spilledLogged = fin.memory.spilled_entries;
      this.opts.log(`memory: ${fin.memory.spilled_entries} accumulator entries spilled to disk so far (--max-memory ${fin.memory.limit_bytes} bytes)`);
    }
    if (fin.memory.outbound_dropped_records > this.outboundDroppedLogged) {
      // the outbound table is bounded, not spilled: say how many records its alerts lack
      this.outboundDroppedLogged = fin.memory.outbound_dropped_records;
      this.opts.log(
        `memory: the outbound table is full (${fin.memory.outbound_limit_entries_per_shard} entries a shard): ` +
          `${fin.memory.outbound_dropped_records} outbound records not counted so far`,
      );
    }
    return { fin, windows: open.filter((w) => w <= closable) };
  }

  /** Ledger entries for the batch's files (they become 'done' with this batch's commit). */
  private recordFiles(batch: BatchFile[], ingest: IngestResult, seq: number): FileFacts[] {
    // drop entries of files that left the spool after an earlier commit
    if (this.opts.doneDir) for (const [name, e] of this.ledger) if (e.moved) this.ledger.delete(name);
    return batch.map((f, i) => {
      const stored = this.opts.doneDir ? this.spool.plannedDonePath(f.name, seq) : f.path;
      this.ledger.set(f.name, { name: f.name, size: f.size, mtimeMs: f.mtimeMs, seq, stored, moved: false });
      return { name: f.name, stored, size: f.size, mtimeMs: f.mtimeMs, fingerprint: f.fingerprint, report: ingest.files[i]! };
    });
  }

  private async outbox(
    seq: number,
    files: FileFacts[],
    ingest: IngestResult | null,
    fin: { fin: FinalizeOutput; windows: number[] } | null,
  ): Promise<Outbox> {
    const late = new Map<number, number>();
    for (const f of ingest?.files ?? []) for (const [w, n] of f.lateByWindow) late.set(w, (late.get(w) ?? 0) + n);
    const scans = fin?.fin.scans ?? [];
    return {
      seq,
      files,
      finalized: fin?.windows ?? [],
      scans,
      alerts: fin ? this.alertsOf(fin.fin) : [],
      endpointDays: fin?.fin.endpointDays ?? [],
      late: [...late].sort((a, b) => a[0] - b[0]),
      finalizedUpTo: this.finalizedUpTo,
      replaceDays: [],
      enrichment: await this.enrich(scans),
    };
  }

  /**
   * Outbound alerts of the finalised windows. The worm signature needs the day's inbound
   * scans of the host: those of this batch plus those of the day's earlier windows, which
   * are already in the database (later windows upgrade the alert when they come).
   */
  private alertsOf(fin: FinalizeOutput): OutboundAlert[] {
    const days = [...new Set(fin.findings.map((f) => dayOfWindow(f.window, this.W)))];
    const known = days.length ? this.store.endpointPorts(days) : [];
    const endpointDays = mergeEndpointDays([known, fin.endpointDays.map(({ sources: _s, ...d }) => d)]);
    return buildAlerts(fin.findings, fin.scans, endpointDays, this.W, this.opts.detect).alerts;
  }

  private async enrich(scans: KeyVerdict[]): Promise<Record<string, ScannerFacts>> {
    if (!this.opts.enricher || scans.length === 0) return {};
    const ips = new Map<string, number[]>();
    for (const v of scans) ips.set(v.src, v.srcWords);
    const facts = await this.opts.enricher([...ips].map(([text, words]) => ({ text, words })));
    return Object.fromEntries(facts);
  }

  /** The one atomic step: the checkpoint. Then the outbox is applied. */
  private async commit(outbox: Outbox): Promise<void> {
    const t0 = performance.now();
    const meta = {
      version: CHECKPOINT_VERSION,
      seq: outbox.seq,
      createdAt: this.now(),
      windowSeconds: this.W,
      maxEnd: this.marks.newest(),
      streams: this.marks.toJSON(),
      finalizedUpTo: this.finalizedUpTo,
      ledger: [...this.ledger.values()],
      outbox,
    };
    // the accumulators go to the file piece by piece (spilled partitions one at a time)
    const bytes = await writeCheckpoint(this.opts.stateDir, meta, this.engine.exportPieces());
    this.seq = outbox.seq;
    this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
    this.metrics.checkpointBytes.set(bytes);
    if (outbox.scans.length) crashPoint('after-checkpoint'); // (batches with verdicts: the gap matters there)
    this.apply(outbox);
  }

  /** Database rows and appended lines of a committed outbox; safe to repeat. */
  private apply(outbox: Outbox): void {
    const plan = this.store.plan(outbox, this.W);
    const recorded = this.store.appendSizes();
    const scans = appendAt(join(this.opts.stateDir, SCANS_FILE), recorded.scans, plan.scanLines);
    const outbound = appendAt(join(this.opts.stateDir, ALERTS_FILE), recorded.outbound, plan.alertLines);
    if (plan.scanLines.length) crashPoint('after-append');
    this.store.commit(plan, { scans, outbound });
    this.opts.onCommit?.({ scans, outbound });
    if (this.state !== 'starting') this.recordHistory(); // at start: once the state is whole
  }

  /**
   * Complete days into the shared history store. It is a second database: a failure here
   * is logged and retried after the next batch; the verdicts are safe in the state database.
   */
  private recordHistory(): void {
    if (!this.history) return;
    try {
      const days = recordCompleteDays(this.store, this.history, {
        finalizedUpTo: this.finalizedUpTo,
        windowSeconds: this.W,
        seq: this.seq,
        spool: this.spool.dir,
        settings: { window_seconds: this.W, thresholds: this.opts.detect.thresholds, lateness_seconds: this.opts.latenessSeconds ?? DEFAULT_LATENESS },
      });
      if (days.length) this.opts.log(`history: recorded ${days.join(', ')}`);
    } catch (err) {
      this.opts.log(`history: cannot record complete days (will retry): ${(err as Error).message}`);
    }
  }

  private moveBatch(batch: SpoolFile[]): void {
    this.filesDone += batch.length;
    if (!this.opts.doneDir) return;
    for (const f of batch) {
      const e = this.ledger.get(f.name)!;
      try {
        this.spool.moveDone(f.name, e.stored);
        e.moved = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(f.path)) e.moved = true; // removed meanwhile
        else this.opts.log(`cannot move ${f.name} to ${e.stored}: ${(err as Error).message} (will retry)`);
      }
    }
    this.spool.syncMoves();
  }

  // ---------------------------------------------------------------------------------
  // --reprocess

  /** Rebuild a finalised day from its files, replacing its rows (one committed batch). */
  private async reprocessDay(day: string): Promise<void> {
    if (!Number.isFinite(dayStart(day))) throw new StartError(`--reprocess: '${day}' is not a day (YYYY-MM-DD)`);
    if (!dayComplete(day, this.finalizedUpTo, this.W)) {
      throw new StartError(`--reprocess ${day}: the day still has open windows; it can be rebuilt once it is finalised`);
    }
    const stored = this.store.filesForDay(day);
    const present = stored.filter((p) => existsSync(p));
    if (present.length < stored.length) this.opts.log(`reprocess ${day}: ${stored.length - present.length} file(s) are gone and left out`);
    const { first, last } = windowsOfDay(day, this.W);
    const engine = new Engine(this.opts.detect);
    let fin: FinalizeOutput;
    try {
      if (present.length) await engine.ingest(present.map((p) => resolve(p)));
      await engine.finalize({ uptoWindow: first - 1, drop: true });
      fin = await engine.finalize({ uptoWindow: last, drop: true });
    } finally {
      await engine.close();
    }
    const outbox: Outbox = {
      seq: this.seq + 1,
      files: [],
      finalized: Array.from({ length: last - first + 1 }, (_, i) => first + i), // their scan counts are rewritten
      scans: fin.scans,
      alerts: fin.alerts,
      endpointDays: fin.endpointDays,
      late: [],
      finalizedUpTo: this.finalizedUpTo,
      replaceDays: [day],
      enrichment: await this.enrich(fin.scans),
    };
    await this.commit(outbox);
    this.opts.log(`reprocessed ${day} from ${present.length} file(s): ${fin.scans.length} scan(s)`);
  }

  // ---------------------------------------------------------------------------------
  // status and metrics

  private setPending(files: number, settling: number, bytes: number): void {
    this.pending = { files, settling, bytes };
    this.metrics.filesPending.set(files);
    this.metrics.filesSettling.set(settling);
    this.metrics.bytesPending.set(bytes);
  }

  private countIngest(ingest: IngestResult): void {
    const m = this.metrics;
    for (const f of ingest.files) {
      const format = f.format ?? 'unknown';
      m.records.inc({ format }, f.counters.records);
      m.bytes.inc({ format }, f.bytes);
      m.rejects.inc({ format }, f.counters.rejected);
      m.files.inc({ result: f.error ? 'failed' : 'ok' });
    }
    m.lateRecords.inc(ingest.totals.late);
  }

  private async refreshGauges(): Promise<void> {
    const stats = await this.engine.stats();
    this.openWindows = stats.windows;
    const m = this.metrics;
    m.accumulatorEntries.set(stats.entries);
    m.accumulatorBytes.set(stats.bytes);
    m.windowsOpen.set(stats.windows.length);
    if (this.finalizedUpTo >= 0) m.lastFinalizedWindowEnd.set((this.finalizedUpTo + 1) * this.W);
    const wm = this.marks.value(this.now() / 1000);
    if (Number.isFinite(wm)) m.watermark.set(wm);
    m.setScannersPerDay(this.store.days());
  }

  /** The state folder (its outbound.ndjson holds the alerts, for the report). */
  get stateDir(): string {
    return this.opts.stateDir;
  }

  /** The shared history store of the state folder (complete days), once loaded. */
  get historyStore(): HistoryStore | null {
    return this.state === 'ready' ? this.history : null;
  }

  status(): Record<string, unknown> {
    const wm = this.marks.value(this.now() / 1000);
    const newest = this.marks.newest();
    return {
      state: this.state,
      batch: this.seq,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      window_seconds: this.W,
      lateness_seconds: this.opts.latenessSeconds ?? DEFAULT_LATENESS,
      streams: this.marks.size,
      newest_flow_time: Number.isFinite(newest) ? isoTime(newest) : null,
      watermark: Number.isFinite(wm) ? isoTime(Math.max(0, wm)) : null,
      finalized_through: this.finalizedUpTo >= 0 ? windowStartText(this.finalizedUpTo + 1, this.W) : null,
      open_windows: this.openWindows.map((w) => windowStartText(w, this.W)),
      files_done: this.filesDone,
      files_pending: this.pending.files,
      files_settling: this.pending.settling,
      bytes_pending: this.pending.bytes,
      late_records: this.store && this.state !== 'stopped' && this.state !== 'starting' ? this.store.lateRecords() : null,
      last_batch: this.lastBatch && {
        ...this.lastBatch,
        finalized: this.lastBatch.finalized.map((w) => windowStartText(w, this.W)),
      },
    };
  }

  private logBatch(b: BatchSummary, ingest: IngestResult | null): void {
    const parts = [`batch ${b.seq}: ${b.files} file(s), ${b.records} record(s) in ${b.seconds.toFixed(3)} s`];
    if (b.late) parts.push(`${b.late} late record(s) for finalised windows (see /v1/stats; --reprocess DAY rebuilds a day)`);
    if (b.finalized.length) parts.push(`finalised ${b.finalized.length} window(s) through ${windowStartText(this.finalizedUpTo + 1, this.W)}: ${b.scans} scan(s)`);
    this.opts.log(parts.join('; '));
    for (const f of ingest?.files ?? []) if (f.error) this.opts.log(`  ${f.path}: ${f.error}`);
  }
}

/** A start that cannot go on (bad state, bad --reprocess): a clear message, exit 1. */
export class StartError extends Error {}
