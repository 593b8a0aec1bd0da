// What a batch message costs between threads, by its string table: a ring slot's batch (views over
// a SharedArrayBuffer) with STRINGS strings of the bucket's shape (interface ids, ~21 characters)
// posted and received on a MessageChannel in one thread (the clone's write and read), then posted
// again as received (the main thread's relay to the shard), as an array (the base) and packed into
// one string (src/flow/batch.ts packStrings; unpackStrings after the relay), µs a batch, each round's
// mean over BATCHES batches. The bucket's batches hold ~550 strings (16,384 records); tables of
// fewer than 64 strings are not packed (PACK_STRINGS_FROM), so STRINGS below 63 measures the array twice.
//   node bench/probes/batch-message.mjs [DIST=dist] [STRINGS=546] [ROUNDS=6] [BATCHES=600]   (run `npm run build` first)
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = pathToFileURL(resolve(process.argv[2] ?? 'dist')).href;
const count = Number(process.argv[3] ?? 546);
const rounds = Number(process.argv[4] ?? 6);
const batches = Number(process.argv[5] ?? 600);
const { batchOver, packStrings, unpackStrings, BATCH_BYTES_PER_RECORD } = await import(`${dist}/src/flow/batch.js`);

const sab = new SharedArrayBuffer(16384 * BATCH_BYTES_PER_RECORD);
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
const table = () => [''].concat(Array.from({ length: count }, () => 'eni-0' + rnd().toString(16).padStart(8, '0') + rnd().toString(16).padStart(8, '0')));
const tables = Array.from({ length: batches }, table);
const { port1, port2 } = new MessageChannel();
const hop = (m) => {
  port1.postMessage(m);
  return receiveMessageOnPort(port2).message;
};
const now = () => process.hrtime.bigint();
const us = (t) => (Number(t) / batches / 1000).toFixed(1);
let seen = 0;
for (let r = 0; r < rounds; r++) {
  const t = { hop: 0n, relay: 0n, pack: 0n, packedHop: 0n, packedRelay: 0n, unpack: 0n };
  for (let k = 0; k < batches; k++) {
    const b = batchOver(sab, 0, 16384);
    b.n = 16384;
    b.strings = tables[k];
    let s = now();
    const got = hop({ shard: 0, batch: b });
    t.hop += now() - s;
    s = now();
    seen += hop(got).batch.strings.length;
    t.relay += now() - s;
    const p = batchOver(sab, 0, 16384);
    p.n = 16384;
    p.strings = tables[k];
    s = now();
    packStrings(p);
    t.pack += now() - s;
    s = now();
    const gotPacked = hop({ shard: 0, batch: p });
    t.packedHop += now() - s;
    s = now();
    const relayed = hop(gotPacked);
    t.packedRelay += now() - s;
    s = now();
    unpackStrings(relayed.batch);
    t.unpack += now() - s;
    if (r === 0 && k === 0 && JSON.stringify(relayed.batch.strings) !== JSON.stringify(tables[k])) throw new Error('unpacked strings differ');
    seen += relayed.batch.strings.length;
  }
  console.log(`array: post+receive ${us(t.hop)}, relay ${us(t.relay)} | packed: pack ${us(t.pack)}, post+receive ${us(t.packedHop)}, relay ${us(t.packedRelay)}, unpack ${us(t.unpack)}  (µs a batch of ${count} strings)`);
}
if (seen === 0) console.log('nothing seen');
