/**
 * WebAssembly passes called over ranges. WebAssembly has no on-stack replacement: a call that
 * starts in Liftoff (V8's baseline code) ends in it, and V8's dynamic tiering only makes the
 * next call run TurboFan code. A pass that runs once a run over every entry (the outbound
 * groupings, the inbound sort by bucket) therefore ran in Liftoff to its end; called in pieces,
 * those after the tier-up (a budget of executed code, then a compile in the background) run
 * TurboFan code (bench/RESULTS.md, branches wasmtier and tailsort; bench/probes/wasm-liftoff.py).
 */

/**
 * Entries (or hosts) a call of a pass takes. V8 tiers a function up once its Liftoff code
 * has run a budget (~1.8 M bytes of code executed: some 10-20 k iterations of these loops),
 * and compiles it in the background: pieces this small let the pieces after that use it,
 * while a call costs ~0.1 µs against the piece's ~50-200 µs.
 */
export const PIECE = 8192;

/** Calls pass(from, to) over [0, n) in pieces of `piece` (in order; none when n is 0). */
export function inPieces(n: number, piece: number, pass: (from: number, to: number) => void): void {
  for (let from = 0; from < n; from += piece) pass(from, Math.min(n, from + piece));
}
