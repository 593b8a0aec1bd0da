import { readFileSync } from 'node:fs';
import { parseAddressBytes, parseIPv4Bytes } from './dist/src/net/address.js';
const buf = readFileSync('/tmp/perf/a2m.log').subarray(0, 50_000_000);
const addr = [];
let col = 0, s = 0;
for (let i = 0; i < buf.length; i++) {
  const c = buf[i];
  if (c === 32 || c === 10) { if (col === 3 || col === 4) addr.push(s, i); col = c === 10 ? 0 : col + 1; s = i + 1; }
}
const A = Int32Array.from(addr);
const out = new Uint32Array(4);
function v4(buf, s, e) {
  let value = 0, part = 0, dots = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i] - 48;
    if (c >= 0 && c <= 9) { part = part * 10 + c; if (part > 255) return -1; }
    else if (c === -2) { value = (value << 8) | part; part = 0; dots++; }
    else return -1;
  }
  if (dots !== 3) return -1;
  return ((value << 8) | part) >>> 0;
}
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now(); let ok = 0;
  for (let k = 0; k < A.length; k += 2) if (parseAddressBytes(buf, A[k], A[k + 1], out, 0)) ok++;
  const ta = performance.now() - t;
  t = performance.now(); let x = 0;
  for (let k = 0; k < A.length; k += 2) x += parseIPv4Bytes(buf, A[k], A[k + 1]);
  const tb = performance.now() - t;
  t = performance.now(); let y = 0;
  for (let k = 0; k < A.length; k += 2) y += v4(buf, A[k], A[k + 1]);
  const tc = performance.now() - t;
  console.log('parseAddressBytes', (ta * 1e6 / (A.length / 2)).toFixed(1), 'parseIPv4Bytes', (tb * 1e6 / (A.length / 2)).toFixed(1), 'simple', (tc * 1e6 / (A.length / 2)).toFixed(1), ok, x === y);
}
