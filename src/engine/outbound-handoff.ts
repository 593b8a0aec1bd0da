/**
 * The outbound finalisation handed to the engine's thread, so that it runs beside the
 * shard's inbound finalisation instead of after it. At the end of a detect run one shard
 * thread flushes its held rows, finalises the inbound table and then the outbound one, while
 * the other core idles (bench/RESULTS.md, branch tail2: the outbound finalise is ~15 ms of the
 * bucket's ~110 ms serial shard tail). The shard copies the outbound table's columns out
 * (exportState) and posts them, transferred, on a port the finalize task brings; the engine's
 * thread finalises a table over them (OutboundTable.forFinalise) when they arrive, while it
 * waits for the shard's reply. The findings are those the shard would have found: the same
 * columns, ids and code.
 *
 * Only where the shards run in threads and the finalisation keeps the windows (a whole run:
 * the shard still drops them itself otherwise), and where tail.ts says (FLOWSIEVE_TAIL).
 */
import type { MessagePort } from 'node:worker_threads';
import { OutboundTable, type OutboundFinding, type OutboundState, type OutboundThresholds } from './outbound-table.js';

/** The shard's side: the table's columns posted, transferred (they are copies), and the port closed. */
export function handOverOutbound(table: OutboundTable, port: MessagePort): void {
  const state = table.exportState();
  port.postMessage(state, stateBuffers(state));
  port.close();
}

/** The buffers of a state's typed arrays (each its own: exportState copies them out). */
function stateBuffers(s: OutboundState): ArrayBuffer[] {
  const arrays = [s.srcA, s.ep, s.pp, s.win, s.dstA, s.flags, s.f, s.p, s.b, s.first, s.last, s.iface, s.instance, s.region, s.sports, s.v6];
  if (s.shed) arrays.push(s.shed.src, s.shed.fam, s.shed.ep, s.shed.win, s.shed.counts);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

/**
 * The engine's side: the findings of the table posted on `port`, finalised when it arrives.
 * Rejects when the port closes with nothing posted (the shard failed first: its task's
 * error is the one the caller reports).
 */
export function findingsHandedOver(port: MessagePort, windowSeconds: number, thresholds: OutboundThresholds, uptoWindow: number | undefined): Promise<OutboundFinding[]> {
  return new Promise((resolve, reject) => {
    let done = false;
    port.once('message', (state: OutboundState) => {
      done = true;
      port.close();
      try {
        resolve(OutboundTable.forFinalise(windowSeconds, state).finalize(thresholds, uptoWindow));
      } catch (err) {
        reject(err as Error);
      }
    });
    port.once('close', () => {
      if (!done) reject(new Error('the shard sent no outbound table'));
    });
  });
}
