// Plain read speed of a file in blocks of one size (the choice of read block in src/input/read.ts):
//   node bench/probes/read-speed.mjs FILE [BLOCK_BYTES]
import { openSync, readSync, fstatSync } from 'node:fs';
const f = process.argv[2]; const bs = Number(process.argv[3] ?? 4 << 20);
const fd = openSync(f, 'r'); const size = fstatSync(fd).size;
const buf = Buffer.allocUnsafe(bs);
for (let r = 0; r < 3; r++) {
  const t0 = performance.now(); let pos = 0;
  while (pos < size) { const got = readSync(fd, buf, 0, bs, pos); if (!got) break; pos += got; }
  const ms = performance.now() - t0;
  console.log(`block ${bs >> 10} KiB: ${(size / ms / 1e6).toFixed(2)} GB/s`);
}
