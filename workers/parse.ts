/**
 * Parse worker (piscina). One task = one chunk of one input file: read, decompress,
 * parse into typed-array columns, classify and shard each record by its source address,
 * and post full batches to the main thread, which routes them to their shard worker.
 */
import { FlowSink } from '../src/flow/sink.js';
import { batchTransferList, type FlowBatchData } from '../src/flow/batch.js';
import { allReaders, readerFor } from '../src/formats/registry.js';
import type { FormatName, ReaderContext } from '../src/formats/types.js';
import { readGzipLines, readLineBytes, readLineRange, readWhole, InputError } from '../src/input/read.js';
import type { ParseResult, ParseTask } from '../src/engine/tasks.js';
import { statSync } from 'node:fs';
import { BatchRing } from '../src/flow/batch-ring.js';

export default async function parseChunk(task: ParseTask): Promise<ParseResult> {
  const inflight = new Int32Array(task.inflight);
  const batchRing = task.ring ? new BatchRing(task.ring) : null; // the engine's batch slots, shared with the shards
  const sink = new FlowSink(
    {
      shards: task.shards,
      batchSize: task.batchSize,
      partition: task.partition,
      maxRejectsKept: task.maxRejects,
      lateBefore: task.lateBefore,
      notAfter: task.notAfter,
      windowSeconds: task.windowSeconds,
      homeNet: task.homeNet,
      ...(batchRing ? { alloc: (capacity: number) => batchRing.take(capacity) } : {}),
    },
    (shard: number, batch: FlowBatchData) => {
      // backpressure: wait while too many batches are queued for the shard workers
      for (;;) {
        const now = Atomics.load(inflight, 0);
        if (now < task.inflightLimit) break;
        Atomics.wait(inflight, 0, now, 100);
      }
      Atomics.add(inflight, 0, 1);
      task.port.postMessage({ shard, batch }, batchTransferList(batch));
    },
  );
  const result: ParseResult = {
    fileIndex: task.fileIndex,
    chunkIndex: task.chunkIndex,
    counters: sink.counters,
    rejects: sink.rejects,
    lines: 0,
    bytesIn: 0,
    bytesOut: 0,
    batches: 0,
    minStart: Infinity,
    maxEnd: -Infinity,
    lateByWindow: [],
  };
  const reader = readerFor(task.format);
  try {
    if (!reader) throw new InputError(`format '${task.format}' is not supported`, 0);
    const ctx: ReaderContext = {
      sink,
      file: task.display,
      account: task.account,
      region: task.region,
      awsFields: task.awsFields,
      regionMap: task.regionMap,
      cloud: task.cloud,
      headerLine: task.headerLine,
    };
    if (reader.kind === 'lines') {
      sink.formatProbe = formatProbe(task.format, task.headerLine);
      const parser = reader.open(ctx);
      if (task.mode === 'range') {
        result.lines = readLineRange(task.path, task.start, task.end, parser, task.maxLineBytes);
        result.bytesIn = result.bytesOut = task.end - task.start;
      } else if (task.mode === 'bytes') {
        // stdin, or a piece of a large gzip file the main thread inflated (run.ts gzipPieces)
        result.lines = readLineBytes(task.bytes!, parser, task.maxLineBytes, task.start, task.streamError !== undefined);
        result.bytesOut = task.bytes!.length;
        result.bytesIn = task.compressedBytes ?? result.bytesOut;
        if (task.streamError !== undefined) {
          // the stream stopped in the unterminated last line (then counted, as a truncated line), or just after the last line
          const partial = task.bytes!.length > 0 && task.bytes![task.bytes!.length - 1] !== 10;
          result.error = { message: task.streamError, offset: -1, line: partial ? result.lines : result.lines + 1 };
        }
      } else {
        const r = await readGzipLines(task.path, parser, task.maxLineBytes, task.maxDecompressedBytes);
        result.lines = r.lines;
        result.bytesIn = statSync(task.path).size;
        result.bytesOut = r.decompressedBytes;
        if (r.error) result.error = { message: r.error.message, offset: r.error.offset };
      }
    } else if (reader.kind === 'document') {
      const buf = task.bytes ?? (await readWhole(task.path, task.gzip, task.maxDecompressedBytes));
      result.bytesIn = task.bytes ? task.bytes.length : statSync(task.path).size;
      result.bytesOut = buf.length;
      reader.parseDocument(buf, ctx);
      result.lines = sink.counters.lines;
    } else {
      throw new InputError(`'${task.format}' files are read by the shard workers, not parsed`, 0);
    }
  } catch (err) {
    const e = err as Error;
    result.error = { message: e.message, offset: err instanceof InputError ? err.offset : -1 };
  }
  // part of the file is in another format: those lines were rejected one by one, and the
  // file is also reported as not read in full (detection.md §6: a wrong format makes the run partial)
  const change = sink.formatChange;
  if (change && !result.error) {
    result.error = {
      message: `the content changes format: from this point lines look like ${change.looksLike}, not ${task.format} (rejected)`,
      offset: change.offset,
    };
  }
  sink.flushAll();
  result.batches = sink.batchesPosted;
  result.minStart = sink.minStart;
  result.maxEnd = sink.maxEnd;
  result.lateByWindow = [...sink.lateByWindow];
  return result;
}

/**
 * For rejected lines: the format a line looks like when it is not `format` (another
 * reader's sniffer recognises it, or it is JSON in a text format), else null.
 */
function formatProbe(format: FormatName, headerLine: string | undefined): (buf: Uint8Array, s: number, e: number) => string | null {
  const decoder = new TextDecoder();
  const own = readerFor(format);
  const jsonFile = headerLine !== undefined && /^[[{]/.test(headerLine);
  return (buf, s, e) => {
    const bytes = buf.subarray(s, Math.min(e, s + 65536));
    const text = decoder.decode(bytes);
    const line = text.trim();
    if (line.length === 0 || own?.sniff(text, line, bytes)) return null;
    for (const r of allReaders()) if (r.name !== format && r.sniff(text, line, bytes)) return r.name;
    if (!jsonFile && /^\{\s*"/.test(line)) return 'JSON';
    return null;
  };
}
