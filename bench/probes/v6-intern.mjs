/**
 * V6Intern of two builds in one process, alternated: 400,000 interns of IPv6 addresses of which
 * half repeat an earlier one (nearly every IPv6 address of a run is new), CPU ms a round.
 *   node bench/probes/v6-intern.mjs /tmp/base/dist dist
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [a, b] = [process.argv[2], process.argv[3]].map((d) => pathToFileURL(resolve(d)).href);
const A = (await import(a + '/src/engine/v6-intern.js')).V6Intern;
const B = (await import(b + '/src/engine/v6-intern.js')).V6Intern;
const N = 400000;
const w = new Uint32Array(N * 4);
let x = 12345;
const r = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
for (let i = 0; i < N; i++) {
  const j = (i > 0 && (r() & 1)) ? (r() % i) : i; // half repeats of an earlier address
  if (j === i) { w[i * 4] = 0x20010db8; w[i * 4 + 1] = r(); w[i * 4 + 2] = r(); w[i * 4 + 3] = r(); }
  else w.copyWithin(i * 4, j * 4, j * 4 + 4);
}
const res = { A: [], B: [] };
for (let round = 0; round < 9; round++) {
  for (const [k, C] of [['A', A], ['B', B]]) {
    const t = new C();
    const c0 = process.cpuUsage();
    let s = 0;
    for (let i = 0; i < N; i++) s += t.intern(w, i * 4);
    const c = process.cpuUsage(c0);
    res[k].push((c.user + c.system) / 1000);
    if (round === 0) console.log(k, 'distinct', t.n, s);
  }
}
const med = (xs) => xs.slice().sort((p, q) => p - q)[xs.length >> 1];
console.log('A median', med(res.A).toFixed(1), 'first', res.A[0].toFixed(1), ' B median', med(res.B).toFixed(1), 'first', res.B[0].toFixed(1));
