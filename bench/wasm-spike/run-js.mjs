// bench/wasm-spike/assembly.ts's algorithm in JavaScript, for the side-by-side (see there): node run-js.mjs FILE.log
import { openSync, readSync } from 'node:fs';
const MB = 200;
const buf = Buffer.alloc(MB << 20);
const fd = openSync(process.argv[2], 'r');
let got = readSync(fd, buf, 0, buf.length, 0);
while (got > 0 && buf[got - 1] !== 10) got--;
const ROWS = 16384;
const cSrc = new Uint32Array(ROWS), cDst = new Uint32Array(ROWS), cSp = new Uint32Array(ROWS), cDp = new Uint32Array(ROWS), cPr = new Uint32Array(ROWS);
const cSt = new Uint32Array(ROWS), cEn = new Uint32Array(ROWS), cAct = new Uint32Array(ROWS), cOk = new Uint32Array(ROWS), cIf = new Uint32Array(ROWS), cLs = new Uint32Array(ROWS);
const cPk = new Float64Array(ROWS), cBy = new Float64Array(ROWS), cAcc = new Float64Array(ROWS);
let gPos = 0;
function num(b, p, end) {
  let v = 0, q = p;
  while (q < end) { const d = b[q] - 48; if (d < 0 || d > 9) break; v = v * 10 + d; q++; }
  gPos = q;
  return q > p && q < end && b[q] === 32 ? v : -1;
}
function ipv4(b, p, end) {
  let a = 0, q = p;
  for (let k = 0; k < 4; k++) {
    let v = 0; const s = q;
    while (q < end) { const d = b[q] - 48; if (d < 0 || d > 9) break; v = v * 10 + d; q++; }
    if (q === s || q - s > 3 || v > 255) return -1;
    a = ((a << 8) | v) >>> 0;
    if (k < 3) { if (q >= end || b[q] !== 46) return -1; q++; }
  }
  if (q >= end || b[q] !== 32) return -1;
  gPos = q;
  return a;
}
function parse(b, p, end, maxRows) {
  let row = 0;
  while (p < end && row < maxRows) {
    cLs[row] = p;
    let ok = true;
    let x = num(b, p, end);
    if (x !== 2) ok = false;
    let q = gPos + 1;
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cAcc[row] = x; q = gPos + 1; }
    if (ok) { cIf[row] = q; while (q < end && b[q] > 32) q++; if (q >= end || b[q] !== 32) ok = false; q++; }
    if (ok) { const a = ipv4(b, q, end); if (a < 0) ok = false; else cSrc[row] = a; q = gPos + 1; }
    if (ok) { const a = ipv4(b, q, end); if (a < 0) ok = false; else cDst[row] = a; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cSp[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cDp[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cPr[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cPk[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cBy[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cSt[row] = x; q = gPos + 1; }
    if (ok) { x = num(b, q, end); if (x < 0) ok = false; else cEn[row] = x; q = gPos + 1; }
    if (ok) {
      if (b[q] === 65 && b[q + 1] === 67 && b[q + 2] === 67 && b[q + 3] === 69 && b[q + 4] === 80 && b[q + 5] === 84 && b[q + 6] === 32) { cAct[row] = 1; q += 7; }
      else if (b[q] === 82 && b[q + 1] === 69 && b[q + 2] === 74 && b[q + 3] === 69 && b[q + 4] === 67 && b[q + 5] === 84 && b[q + 6] === 32) { cAct[row] = 2; q += 7; }
      else ok = false;
    }
    if (ok) { if (b[q] === 79 && b[q + 1] === 75 && (q + 2 === end || b[q + 2] === 10)) q += 3; else ok = false; }
    if (!ok) { let z = p; while (z < end && b[z] !== 10) z++; q = z + 1; }
    cOk[row] = ok ? 1 : 0;
    p = q;
    row++;
  }
  gPos = p;
  return row;
}
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  let p = 0, rows = 0, bad = 0, sum = 0;
  while (p < got) {
    const n = parse(buf, p, got, ROWS);
    rows += n;
    for (let i = 0; i < n; i++) { if (!cOk[i]) bad++; sum += cSrc[i]; }
    p = gPos;
  }
  const ms = performance.now() - t0;
  console.log(`js round ${round}: ${rows} rows (${bad} not plain), ${((ms * 1e6) / rows).toFixed(1)} ns/row, ${(got / 1e6 / (ms / 1000)).toFixed(0)} MB/s`);
}
