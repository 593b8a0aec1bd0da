/* global WebAssembly */
// What FlowSink.copyIds (src/flow/sink.ts) would cost as a WebAssembly loop: the batch's ids of a
// routed run's four string-id columns (account, region, interface, instance), a record at a time
// in that order, new ids interned in the batch's string table, the map reset at each batch.
// A: the JavaScript loop (a copy of copyIds/remapped/intern). B: the same loop in a module of its
// own (the sink's remap in its memory): the run's four columns copied in, remapped there, copied
// out into the batch, and the new ids' strings pushed by JavaScript. Same results checked.
//   node bench/probes/copyids-wasm.mjs [ROUNDS]
// Shape (the bucket's, branch mainv8): runs of ~1,000 records, batches of 16,384 with ~530
// strings; account and region constant over a file (~2,750 records), an interface per ~4
// records out of a pool of 200,000, instance ids 0.
import asc from 'assemblyscript/asc';

const SOURCE = `
// remap at 0 (ids below CAP), the run's ids at IN (4 columns of n), local ids at OUT, new dictionary ids at NEW
export function remapRun(map: u32, inAt: u32, outAt: u32, newAt: u32, n: u32, local: i32): i32 {
  let fresh: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    for (let c: u32 = 0; c < 4; c++) {
      const id = load<i32>(inAt + ((c * n + k) << 2));
      let l = load<i32>(map + (<u32>id << 2));
      if (l < 0) { l = local++; store<i32>(map + (<u32>id << 2), l); store<i32>(newAt + (fresh++ << 2), id); }
      store<i32>(outAt + ((c * n + k) << 2), l);
    }
  }
  return fresh;
}
export function forget(map: u32, newAt: u32, n: u32): void {
  for (let k: u32 = 0; k < n; k++) store<i32>(map + (<u32>load<i32>(newAt + (k << 2)) << 2), -1);
}`;

const rounds = Number(process.argv[2] ?? 7);
const { binary, stderr } = await asc.compileString({ 'remap.ts': SOURCE }, { optimizeLevel: 3, runtime: 'stub', noAssert: true, initialMemory: 256 });
if (!binary) throw new Error(String(stderr));
const { instance: { exports: ex } } = await WebAssembly.instantiate(binary);
const mem = ex.memory;

// the input: 2 M records, in runs
const N = 2_000_000, DICT = 250_000, BATCH = 16384, RUN = 1000;
const dictStrings = Array.from({ length: DICT }, (_, i) => `s${i}`);
const cols = [new Int32Array(N), new Int32Array(N), new Int32Array(N), new Int32Array(N)];
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let i = 0, acc = 1, reg = 2, ifc = 0; i < N; i++) {
  if (i % 2750 === 0) { acc = 10 + Math.floor(rnd() * 2000); reg = 3 + Math.floor(rnd() * 7); }
  if (i % 4 === 0) ifc = 5000 + Math.floor(rnd() * 200_000);
  cols[0][i] = acc; cols[1][i] = reg; cols[2][i] = ifc; cols[3][i] = 0;
}

function jsRun() {
  let remap = new Int32Array(DICT).fill(-1);
  const out = [new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH)];
  let strings = [], touched = [], n = 0, sum = 0;
  const intern = (id) => { const l = strings.length; strings.push(dictStrings[id]); remap[id] = l; touched.push(id); return l; };
  const remapped = (id) => { const l = remap[id]; return l >= 0 ? l : intern(id); };
  for (let from = 0; from < N; ) {
    const m = Math.min(RUN, N - from, BATCH - n);
    for (let k = 0, f = from, t = n; k < m; k++, f++, t++) {
      out[0][t] = remapped(cols[0][f]); out[1][t] = remapped(cols[1][f]); out[2][t] = remapped(cols[2][f]); out[3][t] = remapped(cols[3][f]);
    }
    n += m; from += m;
    if (n === BATCH) { for (const id of touched) remap[id] = -1; sum += strings.length + out[2][BATCH - 1]; touched = []; strings = []; n = 0; }
  }
  return sum + strings.length;
}

// C: the JavaScript loop with each column's last id and its batch id kept (account, region and
// instance rarely change within a run): the same intern order, a remap load only at a change
function jsCachedRun() {
  let remap = new Int32Array(DICT).fill(-1);
  const out = [new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH)];
  let strings = [], touched = [], n = 0, sum = 0;
  const intern = (id) => { const l = strings.length; strings.push(dictStrings[id]); remap[id] = l; touched.push(id); return l; };
  const remapped = (id) => { const l = remap[id]; return l >= 0 ? l : intern(id); };
  for (let from = 0; from < N; ) {
    const m = Math.min(RUN, N - from, BATCH - n);
    let a = -1, la = 0, r = -1, lr = 0, i = -1, li = 0, s = -1, ls = 0;
    const c0 = cols[0], c1 = cols[1], c2 = cols[2], c3 = cols[3], o0 = out[0], o1 = out[1], o2 = out[2], o3 = out[3];
    for (let k = 0, f = from, t = n; k < m; k++, f++, t++) {
      const x0 = c0[f]; if (x0 !== a) { a = x0; la = remapped(x0); } o0[t] = la;
      const x1 = c1[f]; if (x1 !== r) { r = x1; lr = remapped(x1); } o1[t] = lr;
      const x2 = c2[f]; if (x2 !== i) { i = x2; li = remapped(x2); } o2[t] = li;
      const x3 = c3[f]; if (x3 !== s) { s = x3; ls = remapped(x3); } o3[t] = ls;
    }
    n += m; from += m;
    if (n === BATCH) { for (const id of touched) remap[id] = -1; sum += strings.length + out[2][BATCH - 1]; touched = []; strings = []; n = 0; }
  }
  return sum + strings.length;
}

const MAP = 0, IN = DICT * 4, OUT = IN + RUN * 16, NEW = OUT + RUN * 16;
function wasmRun() {
  const u8 = new Uint8Array(mem.buffer);
  new Int32Array(mem.buffer, MAP, DICT).fill(-1);
  const outView = new Int32Array(mem.buffer, OUT, 4 * RUN), newView = new Int32Array(mem.buffer, NEW, 4 * RUN);
  const out = [new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH), new Int32Array(BATCH)];
  let strings = [], touched = 0, n = 0, sum = 0;
  const touchedAt = NEW + RUN * 16; // the batch's new ids, kept to forget them
  const touchedView = new Int32Array(mem.buffer, touchedAt, 65536);
  for (let from = 0; from < N; ) {
    const m = Math.min(RUN, N - from, BATCH - n);
    for (let c = 0; c < 4; c++) new Int32Array(mem.buffer, IN + c * m * 4, m).set(cols[c].subarray(from, from + m));
    const fresh = ex.remapRun(MAP, IN, OUT, NEW, m, strings.length);
    for (let k = 0; k < fresh; k++) { const id = newView[k]; strings.push(dictStrings[id]); touchedView[touched++] = id; }
    for (let c = 0; c < 4; c++) out[c].set(outView.subarray(c * m, c * m + m), n);
    n += m; from += m;
    if (n === BATCH) { ex.forget(MAP, touchedAt, touched); sum += strings.length + out[2][BATCH - 1]; touched = 0; strings = []; n = 0; }
  }
  void u8;
  return sum + strings.length;
}

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const res = { js: [], wasm: [], jscache: [] };
let check = null;
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of [['js', jsRun], ['wasm', wasmRun], ['jscache', jsCachedRun]]) {
    const t = cpu();
    const v = f();
    res[name].push(cpu() - t);
    if (check === null) check = v; else if (v !== check) throw new Error(`${name}: ${v} != ${check}`);
  }
}
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
for (const k of ['js', 'wasm', 'jscache']) console.log(`${k.padEnd(7)} median ${med(res[k]).toFixed(1)} ms of CPU for ${N} records (${((med(res[k]) * 1e6) / N).toFixed(1)} ns a record)  all ${res[k].map((x) => x.toFixed(0)).join(' ')}`);
