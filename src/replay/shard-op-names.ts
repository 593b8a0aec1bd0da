/**
 * The shard tasks that replay-file reading and conversion handle (shard-ops.ts), by name
 * alone: a shard thread tells them apart without loading those modules, which a run on
 * text or gzip logs never needs.
 */
const OPS = new Set(['addReplay', 'convertBegin', 'convertAdd', 'convertDict', 'convertFinish', 'convertAbort']);

export function isReplayOp(op: string): boolean {
  return OPS.has(op);
}
