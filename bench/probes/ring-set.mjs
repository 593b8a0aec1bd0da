// What copyRun's TypedArray.set costs when the data is in cache: the 13 columns of a routed run
// of 2,000 records (src/flow/sink.ts copyRun's widths) set into a 16,384-record batch, runs one
// after another, into a SharedArrayBuffer (a ring slot: V8's relaxed memmove) and into an
// ArrayBuffer, ns a record. Beside copy-routed.mjs (the same copy with slots reused as the ring
// does, ~10-13 ns a record) it tells the copying from the misses on the slot's memory.
//   node bench/probes/ring-set.mjs [ROUNDS=3]
const RUN = 2000;
const RUNS = 20000;
const CAPACITY = 16384;
const WIDTHS = [16, 16, 8, 8, 4, 4, 2, 2, 2, 1, 1, 1, 1]; // src, dst, packets, bytes, start, end, sport, dport, tcpFlags, feed, proto, action, direction
const source = new Uint8Array(80 * 4096);
for (let i = 0; i < source.length; i++) source[i] = i & 255;

function timeSets(buffer) {
  const targets = [];
  const runs = [];
  let at = 0;
  let from = 0;
  for (const w of WIDTHS) {
    targets.push(new Uint8Array(buffer, at, CAPACITY * w));
    at += CAPACITY * w;
    runs.push(source.subarray(from, from + RUN * w));
    from += RUN * w;
  }
  let row = 0;
  const t = process.hrtime.bigint();
  for (let r = 0; r < RUNS; r++) {
    for (let c = 0; c < WIDTHS.length; c++) targets[c].set(runs[c], row * WIDTHS[c]);
    row += RUN;
    if (row + RUN > CAPACITY) row = 0;
  }
  return Number(process.hrtime.bigint() - t) / (RUNS * RUN);
}

const rounds = Number(process.argv[2] ?? 3);
for (let k = 0; k < rounds; k++) {
  const shared = timeSets(new SharedArrayBuffer(CAPACITY * 80));
  const plain = timeSets(new ArrayBuffer(CAPACITY * 80));
  console.log(`SharedArrayBuffer ${shared.toFixed(2)}, ArrayBuffer ${plain.toFixed(2)} ns a record`);
}
