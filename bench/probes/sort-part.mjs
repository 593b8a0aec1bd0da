// The held buffer's sort alone (assembly/scan-held.ts sortPart, a flush's 64 parts of m rows
// each, synthetic keys drawn from a pool, every row narrow), for one or more builds of
// dist/wasm/scan-held.wasm: CPU ns a row of each round. EVICT=MB touches that much other memory
// before each round (rows read from beyond the caches, as a flush reads the held buffer).
// Builds since session 21 (heldadds) take each row's bucket from its region word (bits 20-31)
// and a place for the part's sort groups; builds before, a list of u16 buckets (OLD=1).
//   node bench/probes/sort-part.mjs [WASM ...] [--rows 30000] [--rounds 7]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : d;
};
const m = opt('rows', 30000);
const rounds = opt('rounds', 7);
const builds = args.length ? args : ['dist/wasm/scan-held.wasm'];
const PARTS = 64;
const ROW = 40;
const { Memory, Module, Instance } = globalThis.WebAssembly;

/** One module's memory laid out for PARTS parts of m rows (the rows' buckets or sort groups, rows, then the sort's buffers), filled. */
function setUp(path) {
  const bucketAt = 1 << 16;
  const recAt = bucketAt + PARTS * m * 2 + 64;
  const outAt = recAt + PARTS * m * ROW;
  const outHash = outAt + m * ROW;
  const tmp = outHash + m * 4;
  const start = tmp + (16384 + m) * 4;
  const outWide = start + 65 * 4;
  const wide = outWide + 1024;
  const memory = new Memory({ initial: Math.ceil((wide + 4096) / 65536) });
  const ex = new Instance(new Module(readFileSync(path)), { env: { memory } }).exports;
  const u32 = new Uint32Array(memory.buffer);
  const u16 = new Uint16Array(memory.buffer);
  let x = 12345;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const keys = 300000;
  const pool = Uint32Array.from({ length: keys * 6 }, rnd);
  for (let row = 0; row < PARTS * m; row++) {
    const k = rnd() % keys;
    const bucket = ((row / m) << 6) | (rnd() & 63);
    if (process.env.OLD) u16[(bucketAt >> 1) + row] = bucket;
    const o = (recAt >> 2) + row * 10;
    for (let w = 0; w < 6; w++) u32[o + w] = pool[k * 6 + w];
    u32[o + 5] = (u32[o + 5] & 0xffff) | (process.env.OLD ? 0 : bucket << 20);
    u32.set([3, 100, 1000, 1060], o + 6);
  }
  if (process.env.OLD) return (p) => ex.sortPart(bucketAt, recAt, wide, p * m, m, 8, start, outAt, outWide, outHash, tmp);
  return (p) => ex.sortPart(recAt, wide, p * m, m, 8, start, outAt, outWide, outHash, tmp, bucketAt);
}

const junk = new Int32Array(process.env.EVICT ? (Number(process.env.EVICT) << 20) / 4 : 1);
for (const path of builds) {
  const sort = setUp(path);
  const ns = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < junk.length; i += 16) junk[i]++;
    const t0 = process.cpuUsage();
    for (let p = 0; p < PARTS; p++) sort(p);
    const t = process.cpuUsage(t0);
    ns.push((((t.user + t.system) * 1000) / (PARTS * m)).toFixed(1));
  }
  console.log(`${path}: ns a row ${ns.join(' ')}`);
}
