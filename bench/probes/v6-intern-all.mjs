// V6Intern.internAll (src/engine/v6-intern.ts, the held path's IPv6 lists) of two builds in one process,
// alternated: 200,000 addresses (95 % new) in lists of 600, 24 MB of other memory touched before
// each list (the index cold, as between two holdStaged calls of a shard), CPU ns an address a round.
//   node bench/probes/v6-intern-all.mjs /work/base24/dist dist
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [a, b] = [process.argv[2], process.argv[3]].map((d) => pathToFileURL(resolve(d)).href);
const A = (await import(a + '/src/engine/v6-intern.js')).V6Intern;
const B = (await import(b + '/src/engine/v6-intern.js')).V6Intern;
const N = 200000, L = 600;
const w = new Uint32Array(N * 4);
let x = 12345;
const r = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
for (let i = 0; i < N; i++) {
  const j = (i > 0 && r() % 20 === 0) ? (r() % i) : i;
  if (j === i) { w[i * 4] = 0x20010db8; w[i * 4 + 1] = r(); w[i * 4 + 2] = r(); w[i * 4 + 3] = r(); }
  else w.copyWithin(i * 4, j * 4, j * 4 + 4);
}
const junk = new Int32Array(6 << 20);
const ids = new Uint32Array(L);
const res = { A: [], B: [] };
for (let round = 0; round < 9; round++) {
  for (const [k, C] of [['A', A], ['B', B]]) {
    const t = new C();
    let cpu = 0, s = 0;
    for (let f = 0; f < N; f += L) {
      for (let i = 0; i < junk.length; i += 16) junk[i]++;
      const list = w.subarray(f * 4, Math.min(N, f + L) * 4);
      const c0 = process.cpuUsage();
      t.internAll(list, list.length / 4, ids);
      const c = process.cpuUsage(c0);
      cpu += c.user + c.system;
      s += ids[0];
    }
    res[k].push((cpu * 1000 / N).toFixed(1));
    if (round === 0) console.log(k, 'distinct', t.n, s);
  }
}
console.log('ns an address', res);
