#!/usr/bin/env node
// What a batch message costs to clone: one post and receive over a MessageChannel in one
// thread (serialise + deserialise, as each hop of a routed batch pays), CPU a message, for a
// full batch over a ring's SharedArrayBuffer with its string table of STRINGS strings, and
// without them. A bucket run's batches carry ~530 strings on average (bench/RESULTS.md, mainv8).
//   node bench/probes/batch-clone.mjs [STRINGS=2000]   (run `npm run build` first)
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { batchOver } from '../../dist/src/flow/batch.js';

const strings = Number(process.argv[2] ?? 2000);
const records = 16384;
const b = batchOver(new SharedArrayBuffer(records * 100), 0, records);
b.n = records;
b.ring = { state: new Int32Array(new SharedArrayBuffer(64)), slot: 1 };
for (let i = 0; i < strings; i++) b.strings.push(`123456789012-eni-${i.toString(16).padStart(17, '0')}`);
const { port1, port2 } = new MessageChannel();
function perMessage(msg, n) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    port1.postMessage(msg);
    receiveMessageOnPort(port2);
  }
  const d = process.cpuUsage(t);
  return ((d.user + d.system) / n).toFixed(1);
}
for (let round = 0; round < 3; round++) {
  console.log(`batch with ${strings} strings ${perMessage({ shard: 0, batch: b }, 2000)} µs; without them ${perMessage({ shard: 0, batch: { ...b, strings: [''] } }, 2000)} µs`);
}
port1.close();
