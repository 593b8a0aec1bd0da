/**
 * Running parse jobs on the parse pool and routing the batches they post to the shard
 * pools, with the same backpressure as detect (a shared in-flight counter the parse
 * workers wait on). Used by `convert`; detect's run.ts has the same loop inline.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { newCounters } from '../flow/sink.js';
import type { BatchMessage, ParseResult, ParseTask } from './tasks.js';
import type { Job } from './run.js';

export interface ParseRouting {
  parsePool: Piscina;
  /** Post one batch to its shard; the promise settles when the shard has taken it. */
  route(m: BatchMessage): Promise<unknown>;
  inflightLimit: number;
  onResult(job: Job, result: ParseResult): void;
}

/** A function that runs one parse job to completion (every batch routed and taken). */
export function parseJobRunner(r: ParseRouting): { run: (job: Job) => Promise<void>; routed: () => Promise<unknown> } {
  const inflightBuf = new SharedArrayBuffer(4);
  const inflight = new Int32Array(inflightBuf);
  const routedWork: Promise<unknown>[] = [];
  const route = (m: BatchMessage) => {
    routedWork.push(
      r.route(m).finally(() => {
        Atomics.sub(inflight, 0, 1);
        Atomics.notify(inflight, 0);
      }),
    );
  };
  const run = async (job: Job): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    let received = 0;
    let expected = -1;
    let done: () => void = () => {};
    const allReceived = new Promise<void>((resolve) => (done = resolve));
    port1.on('message', (m: BatchMessage) => {
      received++;
      route(m);
      if (received === expected) done();
    });
    const task: ParseTask = { ...job.task, port: port2, inflight: inflightBuf, inflightLimit: r.inflightLimit };
    let result: ParseResult;
    try {
      const transfer = [port2 as never, ...(task.bytes ? [task.bytes.buffer as ArrayBuffer] : [])];
      result = (await r.parsePool.run(task, { transferList: transfer })) as ParseResult;
    } catch (err) {
      result = {
        fileIndex: job.file, chunkIndex: job.chunk, counters: newCounters(), rejects: [], lines: 0, bytesIn: 0, bytesOut: 0, batches: 0,
        error: { message: `worker failed: ${(err as Error).message}`, offset: -1 },
      };
    }
    expected = result.batches;
    if (received < expected) await allReceived;
    port1.close();
    r.onResult(job, result);
  };
  return { run, routed: () => Promise.all(routedWork) };
}
