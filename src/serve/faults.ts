/**
 * Fault injection for the crash tests: FLOWSIEVE_TEST_CRASH_AT=<point>:<n> makes the
 * process kill itself (SIGKILL, no cleanup) the n-th time it reaches that point, so a
 * test can hit the narrow gaps between the steps of a commit that random kills rarely
 * land in. Unset (always, outside tests) it costs one comparison per batch.
 */
const spec = /^([a-z-]+):(\d+)$/.exec(process.env.FLOWSIEVE_TEST_CRASH_AT ?? '');
let hits = 0;

export type CrashPoint = 'after-ingest' | 'after-checkpoint' | 'after-append' | 'after-commit' | 'after-moves';

export function crashPoint(point: CrashPoint): void {
  if (!spec || spec[1] !== point) return;
  if (++hits === Number(spec[2])) process.kill(process.pid, 'SIGKILL');
}
