// microbench: scan-held sortPart over 64 parts of m rows (synthetic keys), like a flush
import { readFileSync } from 'node:fs';
const wasmPath = process.argv[2] ?? 'dist/wasm/scan-held.wasm';
const m = 30000, parts = 64, ROW = 40;
const pages = Math.ceil((parts * m * (ROW + 2) + (8 << 20)) / 65536) + 64;
const memory = process.env.SHARED ? new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true }) : new WebAssembly.Memory({ initial: pages });
const mod = new WebAssembly.Module(readFileSync(wasmPath));
const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports;
const bucketAt = 1 << 16;
const recAt = bucketAt + parts * m * 2 + 64;
const outAt = recAt + parts * m * ROW;
const outHash = outAt + m * ROW;
const tmp = outHash + m * 4;
const start = tmp + (16384 + m) * 4;
const outWide = start + 65 * 4;
const wide = outWide + 1024;
const u32 = new Uint32Array(memory.buffer), u16 = new Uint16Array(memory.buffer);
let x = 12345;
const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
const keys = 300000;
const pool = new Uint32Array(keys * 6);
for (let i = 0; i < pool.length; i++) pool[i] = rnd();
for (let p = 0; p < parts; p++) for (let r = 0; r < m; r++) {
  const row = p * m + r, k = rnd() % keys;
  u16[(bucketAt >> 1) + row] = (p << 6) | (rnd() & 63);
  const o = (recAt >> 2) + row * 10;
  for (let w = 0; w < 6; w++) u32[o + w] = pool[k * 6 + w];
  u32[o + 5] &= 0xffff;
  u32[o + 6] = 3; u32[o + 7] = 100; u32[o + 8] = 1000; u32[o + 9] = 1060;
}
const res = [];
const junk = new Int32Array(process.env.EVICT ? (+process.env.EVICT << 20) / 4 : 1);
for (let round = 0; round < 7; round++) {
  if (process.env.EVICT) { for (let i = 0; i < junk.length; i += 16) junk[i] += 1; }
  const t0 = process.cpuUsage();
  let sum = 0;
  for (let p = 0; p < parts; p++) sum += ex.sortPart(bucketAt, recAt, wide, p * m, m, 8, start, outAt, outWide, outHash, tmp) + u32[outHash >> 2];
  const t = process.cpuUsage(t0);
  res.push(((t.user + t.system) * 1000 / (parts * m)).toFixed(1));
}
console.log(wasmPath, 'ns a row:', res.join(' '));
