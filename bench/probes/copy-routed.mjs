// What the sink's copies of routed runs cost on a bucket's records, per build: FlowSink.copyRun
// (a run's 13 columns from the module's area into the batch) and copyIds (its four string-id
// columns, remapped to the batch's ids), timed around each call, in ns a record, best of 5
// passes. One thread, the files inflated first; batches in a SharedArrayBuffer reused slot by
// slot, as the engine's ring (the copy into shared memory is V8's relaxed memmove, not memcpy).
//   node bench/probes/copy-routed.mjs BUCKET_DIR [DIST=dist] [SHARDS=1]   (run `npm run build` first)
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) throw new Error('usage: copy-routed.mjs BUCKET_DIR [DIST] [SHARDS]');
const dist = pathToFileURL(resolve(process.argv[3] ?? 'dist')).href;
const shards = Number(process.argv[4] ?? 1);
const { FlowSink } = await import(`${dist}/src/flow/sink.js`);
const { readerFor } = await import(`${dist}/src/formats/registry.js`);
const { readLineBytes, gunzipWhole } = await import(`${dist}/src/input/read.js`);
const { awsPathInfo } = await import(`${dist}/src/formats/aws.js`);
const { batchOver, BATCH_BYTES_PER_RECORD } = await import(`${dist}/src/flow/batch.js`);

const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
const texts = files(dir).map((p) => [p, gunzipWhole(readFileSync(p), 256 << 20)]);
const slots = 8;
const capacity = 16384;
const stride = Math.ceil((capacity * BATCH_BYTES_PER_RECORD) / 8) * 8;
const ring = new SharedArrayBuffer(slots * stride);
let next = 0;
const alloc = (c) => batchOver(ring, (next++ % slots) * stride, c);

const names = ['copyRun', 'copyIds'];
const spent = {};
for (const name of names) {
  const original = FlowSink.prototype[name];
  FlowSink.prototype[name] = function (...a) {
    const t = process.hrtime.bigint();
    original.apply(this, a);
    spent[name] += process.hrtime.bigint() - t;
  };
}
const reader = readerFor('aws-text');
const best = {};
let records = 0;
for (let pass = 0; pass < 5; pass++) {
  for (const name of names) spent[name] = 0n;
  const sink = new FlowSink({ shards, batchSize: capacity, maxRejectsKept: 0, alloc, firstBatch: capacity }, () => {});
  for (const [p, text] of texts) {
    const where = awsPathInfo(p);
    readLineBytes(text, reader.open({ sink, file: p, account: where.account ?? '', region: where.region ?? '' }), 1 << 20, 0);
  }
  sink.flushAll();
  records = sink.counters.records;
  for (const name of names) best[name] = Math.min(best[name] ?? Infinity, Number(spent[name]) / records);
}
console.log(`${records} records, ${shards} shard(s): ` + names.map((n) => `${n} ${best[n].toFixed(2)} ns a record`).join(', '));
