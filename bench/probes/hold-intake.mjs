// Usage: node bench/probes/hold-intake.mjs BASE_DIST NEW_DIST [ROUNDS] [IPV6_SHARE] (both builds' dist, absolute paths)
// Hold-only probe: the same synthetic batches (1.6 % IPv6 records, ~100 accounts a batch) held by
// two builds' ScanTable in one process, alternated; CPU of the addBatch calls (no flush: the
// buffer is large enough), median of rounds.
const [baseDir, newDir, roundsArg, v6Arg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 9);
const v6Share = Number(v6Arg ?? 0.016);
const load = async (d) => ({
  ScanTable: (await import(`${d}/src/engine/scan-table.js`)).ScanTable,
  allocBatch: (await import(`${d}/src/flow/batch.js`)).allocBatch,
});
const builds = { base: await load(baseDir), new: await load(newDir) };
let x = 12345;
const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
const N = 16384, B = 110;
const raw = [];
for (let k = 0; k < B; k++) {
  const b = builds.base.allocBatch(N);
  b.strings = ['', 'eu-west-1', 'us-east-1', ...Array.from({ length: 100 }, (_, i) => `1234567${k % 7}${i}`)];
  for (let i = 0; i < N; i++) {
    const o = i * 4;
    if (r() / 2 ** 32 < v6Share) b.src.set([0x20010db8, r(), 0, r() % 5000], o);
    else b.src.set([0, 0, 0xffff, r() % 400000], o);
    if (r() / 2 ** 32 < v6Share / 4) b.dst.set([0x2a050000, 0, 0, r() % 700], o);
    else b.dst.set([0, 0, 0xffff, 0x0a000000 + (r() % 60000)], o);
    b.feed[i] = r() % 13 === 0 ? 2 : 1;
    b.proto[i] = 6; b.dport[i] = [22, 443, 3389, 80][r() % 4];
    b.account[i] = 3 + (r() % 100); b.region[i] = 1 + (r() % 2); b.cloud[i] = 0;
    b.start[i] = 1_700_000_000 + (r() % 7200); b.end[i] = b.start[i] + 5;
    b.packets[i] = 1 + (r() % 9); b.bytes[i] = 40 + (r() % 1500);
  }
  b.n = N;
  raw.push(b);
}
const res = { base: [], new: [] };
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 ? ['new', 'base'] : ['base', 'new']) {
    const { ScanTable } = builds[name];
    const t = new ScanTable(3600, 1 << 21, 1, 1 << 21);
    const c0 = process.cpuUsage();
    for (const b of raw) t.addBatch(b);
    const c = process.cpuUsage(c0);
    res[name].push((c.user + c.system) / 1000);
  }
}
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const n of ['base', 'new']) console.log(n, 'median ms', med(res[n]).toFixed(1), res[n].map((v) => v.toFixed(0)).join(' '));
console.log('ratio new/base', (med(res.new) / med(res.base)).toFixed(3));
