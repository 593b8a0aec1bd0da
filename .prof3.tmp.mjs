import { readFileSync } from 'node:fs';
const buf = readFileSync('/tmp/perf/a2m.log');
const last = buf.lastIndexOf(10);
const out = new Float64Array(16);
const roles = Uint8Array.from([0,1,1,2,2,3,3,3,3,3,3,3,4,4]);
function parseAll(buf, s0, e0) {
  let n = 0, acc = 0;
  let i = buf.indexOf(10, s0) + 1; // skip header
  while (i < e0) {
    let j = buf.indexOf(10, i); if (j < 0) j = e0;
    // tokens
    let col = 0; let p = i;
    while (p < j) {
      let q = p;
      let v = 0;
      const role = roles[col];
      if (role === 3) { // number
        for (; q < j; q++) { const c = buf[q] - 48; if (c < 0 || c > 9) break; v = v * 10 + c; }
      } else if (role === 2) { // ipv4
        let part = 0;
        for (; q < j; q++) { const c = buf[q] - 48; if (c >= 0 && c <= 9) part = part * 10 + c; else if (c === -2) { v = v * 256 + part; part = 0; } else break; }
        v = v * 256 + part;
      } else {
        while (q < j && buf[q] !== 32) q++;
      }
      out[col] = v;
      col++;
      p = q + 1;
    }
    acc += out[9];
    n++;
    i = j + 1;
  }
  return [n, acc];
}
for (let r = 0; r < 4; r++) {
  const t = performance.now();
  const [n] = parseAll(buf, 0, last + 1);
  console.log('ideal', ((performance.now() - t) * 1e6 / n).toFixed(0), 'ns/rec', n);
}
