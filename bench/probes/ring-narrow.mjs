// The batch hand-over across two threads with the row at 80 bytes (IPv4 addresses as four
// IPv4-mapped words each, the batch layout of src/flow/batch.ts) against 56 bytes (one word
// each, a narrow IPv4 batch), to bound what a narrower layout can save (issue 19, session 16
// narrowbatch). The parse side (this thread) copies runs of RUN rows from a hot area of the
// wide form (the AWS module's routed area) into ring slots of a SharedArrayBuffer (13 column
// sets for wide; for narrow the addresses by a loop taking word 3 of each, the rest by set),
// and hands each full batch to a worker (the shard side), which copies it a stage of 4,096
// rows at a time into a private buffer (scan-wasm.ts HOLD_STAGE's copy; narrow: the addresses
// widened back to four words by a loop) and reads the stage once (a sum, as the module would).
// Per side: ns a row of the thread's CPU over its loop (/proc/thread-self/schedstat; the waits
// are Atomics.wait, off CPU), medians and the least of ROUNDS (first rounds included: JIT, first touch).
// A third form, narrow-kept, leaves the stage narrow too (set: a module reading one word); a
// fourth, wide-in-place, has no stage: the shard reads each line of the slot once.
//   node bench/probes/ring-narrow.mjs [ROUNDS=5] [BATCHES=214] [SLOTS=9]
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** This thread's CPU time so far, ns (/proc/thread-self/schedstat's first field). */
const threadNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);

const CAP = 32768;
const RUN = 1094; // the bucket's routed rows a run (bench/HISTORY.md ringwasm)
const STAGE = 4096;
// widths in bytes of the columns other than the addresses: packets, bytes, start, end, account, region, iface, instance, sport, dport, tcpFlags, feed, proto, cloud, action, direction
const REST = [8, 8, 4, 4, 4, 4, 4, 4, 2, 2, 2, 1, 1, 1, 1, 1];
const restBytes = REST.reduce((a, b) => a + b, 0);

/** Byte offsets of the slot's columns: [src, dst, ...REST] for `addrWords` words an address. */
function layout(addrWords) {
  const offs = [];
  let at = 0;
  for (const w of [REST[0], REST[1]]) {
    offs.push(at);
    at += CAP * w;
  }
  const src = at;
  at += CAP * 4 * addrWords;
  const dst = at;
  at += CAP * 4 * addrWords;
  for (const w of REST.slice(2)) {
    offs.push(at);
    at += CAP * w;
  }
  return { src, dst, rest: offs, bytes: Math.ceil(at / 64) * 64 };
}

function sideOf(addrWords) {
  return layout(addrWords);
}

if (isMainThread) {
  const rounds = Number(process.argv[2] ?? 5);
  const batches = Number(process.argv[3] ?? 214);
  const slots = Number(process.argv[4] ?? 9);
  // narrow-kept: the shard stage keeps the narrow form (a module that reads one word an
  // IPv4 address): the ceiling of the lever, its module changes not counted
  // wide-in-place: no stage, the slot's columns read where they lie (a module whose memory
  // holds the ring): every line of the rows read once, as the stage's copy reads them
  const modes = ['wide', 'narrow', 'narrow-kept', 'wide-in-place'];
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) {
      results[mode].push(await runOnce(mode.startsWith('wide') ? 4 : 1, batches, slots, mode === 'narrow-kept', mode === 'wide-in-place'));
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const min = (xs) => Math.min(...xs);
  for (const mode of modes) {
    const p = med(results[mode].map((x) => x.parse));
    const s = med(results[mode].map((x) => x.shard));
    const lo = min(results[mode].map((x) => x.parse + x.shard));
    console.log(`${mode}: median parse ${p.toFixed(2)} ns/row, shard ${s.toFixed(2)} ns/row, both ${(p + s).toFixed(2)}; least both ${lo.toFixed(2)} (rounds: ${results[mode].map((x) => (x.parse + x.shard).toFixed(1)).join(' ')})`);
  }
} else {
  shardSide(workerData);
}

async function runOnce(addrWords, batches, slots, keep, inPlace) {
  const L = sideOf(addrWords);
  const data = new SharedArrayBuffer(L.bytes * slots);
  const state = new Int32Array(new SharedArrayBuffer(4 * (slots + 2)));
  const worker = new Worker(new URL(import.meta.url), { workerData: { data, state: state.buffer, addrWords, slots, batches, keep, inPlace } });
  await new Promise((res) => worker.once('online', res));
  // the hot area: RUN rows in the wide form
  const aSrc = new Uint32Array(RUN * 4);
  const aDst = new Uint32Array(RUN * 4);
  for (let i = 0; i < RUN; i++) {
    aSrc.set([0, 0, 0xffff, (0x0a000000 + i * 7919) >>> 0], i * 4);
    aDst.set([0, 0, 0xffff, (0xc0a80000 + i) >>> 0], i * 4);
  }
  const aRest = REST.map((w) => new Uint8Array(RUN * w).fill(3));
  let busy = 0n;
  let posted = 0;
  let slot = 0;
  const done = new Promise((res) => worker.once('message', res));
  const cpu0 = threadNs();
  for (let b = 0; b < batches; b++) {
    // wait for the slot to be free (0)
    while (Atomics.load(state, slot) !== 0) Atomics.wait(state, slot, 1, 5);
    const t = process.hrtime.bigint();
    const base = slot * L.bytes;
    const bSrc = new Uint32Array(data, base + L.src, CAP * addrWords);
    const bDst = new Uint32Array(data, base + L.dst, CAP * addrWords);
    const bRest = REST.map((w, c) => new Uint8Array(data, base + L.rest[c], CAP * w));
    for (let at = 0; at < CAP; at += RUN) {
      const n = Math.min(RUN, CAP - at);
      if (addrWords === 4) {
        bSrc.set(aSrc.subarray(0, n * 4), at * 4);
        bDst.set(aDst.subarray(0, n * 4), at * 4);
      } else {
        for (let k = 0; k < n; k++) {
          bSrc[at + k] = aSrc[k * 4 + 3];
          bDst[at + k] = aDst[k * 4 + 3];
        }
      }
      for (let c = 0; c < REST.length; c++) bRest[c].set(aRest[c].subarray(0, n * REST[c]), at * REST[c]);
    }
    busy += process.hrtime.bigint() - t;
    Atomics.store(state, slot, 1);
    Atomics.store(state, slots, ++posted);
    Atomics.notify(state, slots);
    slot = (slot + 1) % slots;
  }
  busy = BigInt(threadNs() - cpu0);
  const shardNs = await done;
  await worker.terminate();
  const rows = batches * CAP;
  return { parse: Number(busy) / rows, shard: shardNs / rows };
}

function shardSide({ data, state: sb, addrWords, slots, batches, keep, inPlace }) {
  const state = new Int32Array(sb);
  const L = sideOf(addrWords);
  const stage = new ArrayBuffer(STAGE * (32 + restBytes));
  const sSrc = new Uint32Array(stage, 0, STAGE * 4);
  const sDst = new Uint32Array(stage, STAGE * 16, STAGE * 4);
  let o = STAGE * 32;
  const sRest = REST.map((w) => {
    const v = new Uint8Array(stage, o, STAGE * w);
    o += STAGE * w;
    return v;
  });
  const sum32 = new Uint32Array(stage);
  let busy = 0n;
  let sink = 0;
  let slot = 0;
  const cpu0 = threadNs();
  for (let b = 0; b < batches; b++) {
    while (Atomics.load(state, slots) <= b) Atomics.wait(state, slots, b, 5);
    const t = process.hrtime.bigint();
    const base = slot * L.bytes;
    const bSrc = new Uint32Array(data, base + L.src, CAP * addrWords);
    const bDst = new Uint32Array(data, base + L.dst, CAP * addrWords);
    const bRest = REST.map((w, c) => new Uint8Array(data, base + L.rest[c], CAP * w));
    if (inPlace) {
      // every 64-byte line of the slot's rows read once (16 words a line)
      const words = new Uint32Array(data, base, L.bytes >> 2);
      for (let i = 0; i < words.length; i += 16) sink = (sink + words[i]) | 0;
    }
    for (let from = 0; from < CAP && !inPlace; from += STAGE) {
      const n = Math.min(STAGE, CAP - from);
      if (keep) {
        sSrc.set(bSrc.subarray(from, from + n));
        sDst.set(bDst.subarray(from, from + n));
      } else if (addrWords === 4) {
        sSrc.set(bSrc.subarray(from * 4, (from + n) * 4));
        sDst.set(bDst.subarray(from * 4, (from + n) * 4));
      } else {
        for (let k = 0; k < n; k++) {
          const w = k * 4;
          sSrc[w] = 0;
          sSrc[w + 1] = 0;
          sSrc[w + 2] = 0xffff;
          sSrc[w + 3] = bSrc[from + k];
          sDst[w] = 0;
          sDst[w + 1] = 0;
          sDst[w + 2] = 0xffff;
          sDst[w + 3] = bDst[from + k];
        }
      }
      for (let c = 0; c < REST.length; c++) sRest[c].set(bRest[c].subarray(from * REST[c], (from + n) * REST[c]));
      // the module's read of the stage (one pass, in cache)
      for (let i = 0; i < sum32.length; i += 16) sink = (sink + sum32[i]) | 0;
    }
    busy += process.hrtime.bigint() - t;
    Atomics.store(state, slot, 0);
    Atomics.notify(state, slot);
    slot = (slot + 1) % slots;
  }
  parentPort.postMessage(threadNs() - cpu0 + (sink & 0) + 0 * Number(busy));
}
