/**
 * Hands the sidecar's complete days to the shared history store (src/store/, the database
 * `flowsieve history`, `export` and `report` read), so that `--state` of serve is also a
 * history folder. A day goes over once all its windows are final, as one run of its own:
 * its fingerprint names this state and the day, so recording the day again (after a crash
 * between the two databases, or after --reprocess) replaces it instead of adding to it.
 * The day's files are fingerprinted per day too: a file that holds records of two days
 * must not make one day's run look like a part of the other's (which the store replaces).
 */
import { HistoryStore, type IpFacts, type RunInput } from '../store/history.js';
import { contentFingerprint } from '../store/fingerprint.js';
import { runRows } from '../store/rows.js';
import type { VerdictStore } from './store.js';

export function openHistory(stateDir: string): HistoryStore {
  return HistoryStore.open(stateDir, { create: true });
}

/** Record every complete day the history does not have yet; returns the days recorded. */
export function recordCompleteDays(
  store: VerdictStore,
  history: HistoryStore,
  opts: { finalizedUpTo: number; windowSeconds: number; seq: number; spool: string; settings: Record<string, unknown> },
): string[] {
  const done: string[] = [];
  for (const day of store.daysForHistory(opts.finalizedUpTo, opts.windowSeconds)) {
    const d = store.dayForHistory(day);
    if (d.files.length > 0) {
      const run: RunInput = {
        fingerprint: contentFingerprint('serve-day', [store.stateId, day]),
        files: d.files.map((f) => ({ fingerprint: contentFingerprint('serve-day-file', [store.stateId, day, f.fingerprint]), path: f.stored, bytes: f.size })),
        inputs: [opts.spool],
        windowSeconds: opts.windowSeconds,
        records: d.files.reduce((s, f) => s + f.records, 0), // of the files that hold the day (they may hold other days too)
        partial: d.files.some((f) => f.error !== null),
        settings: { ...opts.settings, source: 'flowsieve serve', day },
      };
      const facts: Map<string, IpFacts> | undefined = d.facts.size ? d.facts : undefined;
      history.record(run, runRows({ scans: d.scans, endpointDays: d.endpointDays }, opts.windowSeconds), facts);
    }
    store.markDayInHistory(day, opts.seq);
    done.push(day);
  }
  return done;
}
