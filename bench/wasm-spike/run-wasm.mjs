// The driver of bench/wasm-spike/assembly.ts (see there): node run-wasm.mjs PARSE.wasm FILE.log
import { readFileSync, openSync, readSync } from 'node:fs';
const wasm = await WebAssembly.instantiate(readFileSync(process.argv[2]), { env: { abort() { throw new Error('abort'); } } });
const { parse, consumed, memory } = wasm.instance.exports;
const MB = 200;
const IN = 16 << 20;
if (memory.buffer.byteLength < IN + (MB << 20) + 1) memory.grow(Math.ceil((IN + (MB << 20) + 65536 - memory.buffer.byteLength) / 65536));
const u8 = new Uint8Array(memory.buffer);
const fd = openSync(process.argv[3], 'r');
let got = readSync(fd, u8, IN, MB << 20, 0);
while (got > 0 && u8[IN + got - 1] !== 10) got--;
const OUT = 1 << 20;
const ROWS = 16384;
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  let p = IN, rows = 0, bad = 0;
  const ok = new Uint32Array(memory.buffer, OUT + ROWS * 4 * 8, ROWS);
  let sum = 0;
  const src = new Uint32Array(memory.buffer, OUT, ROWS);
  while (p < IN + got) {
    const n = parse(p, IN + got - p, OUT, ROWS);
    rows += n;
    for (let i = 0; i < n; i++) { if (!ok[i]) bad++; sum += src[i]; }
    p = Number(consumed());
  }
  const ms = performance.now() - t0;
  console.log(`wasm round ${round}: ${rows} rows (${bad} not plain), ${((ms * 1e6) / rows).toFixed(1)} ns/row, ${(got / 1e6 / (ms / 1000)).toFixed(0)} MB/s`);
}
