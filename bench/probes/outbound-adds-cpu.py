#!/usr/bin/env python3
"""The shard thread's CPU in OutboundTable.addBatch and in unpackStrings (a batch's strings out of
its message), by two or more builds, alternated: each build's dist/ copied to SCRATCH/LABEL/dist
(its src/, node_modules and package.json linked), its workers/shard.bundle.cjs patched to read
/proc/thread-self/schedstat around those two calls, then `detect` run ROUNDS times each. Medians
of the last batch's totals (the patch's reads cost the same in every build; ~10 us a batch).
   python3 bench/probes/outbound-adds-cpu.py 21 /tmp/x base=/work/base19 new=. -- /work/data/bucket-2000000-10-6 --workers 1
(a ROOT is a checkout: ROOT/dist built, ROOT/src and ROOT/node_modules there).
A build may name a MODE, LABEL=ROOT:MODE, for a bound of outbound records read dense (session 20
outdense; for a shard bundle of one lane a shard): `dense` gathers each batch's outbound records
into a dense batch of their own (same strings) and adds that one, `densejs` the same by the
JavaScript path (ADD_MIN_BATCH raised), `lane` gathers them across batches into batches of
16,384 outbound records with a string table of their own (as a lane of their own makes them) and
adds each when full and before finalize. The gather is timed apart ("gather").
   python3 bench/probes/outbound-adds-cpu.py 5 /tmp/x sparse=. dense=.:dense densejs=.:densejs lane=.:lane -- INPUT --workers 1"""
import os, shutil, statistics, subprocess, sys

ADD = """function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\ts.outbound.addBatch(batch);
}"""
ADD_TIMED = """const __fs = require('fs'); const __t = {out:0, unp:0, n:0, gather:0, strings:0, batches:0};
function __ns(){ const s = __fs.readFileSync('/proc/thread-self/schedstat','latin1'); return Number(s.slice(0, s.indexOf(' '))); }
function __report() { __fs.writeSync(2, 'TOUT ' + (__t.out/1e6).toFixed(2) + ' ' + (__t.unp/1e6).toFixed(2) + ' ' + (__t.gather/1e6).toFixed(2) + ' ' + __t.batches + ' ' + __t.strings + '\\n'); }
function __add(s, b) { const t0 = __ns(); s.outbound.addBatch(b); __t.out += __ns() - t0; __t.batches++; __t.strings += b.strings.length; }
let __d = null; let __dd = null; let __map = null;
function __reused(n) { if (__dd === null || __dd.feed.length < n) __dd = allocBatch(n); return __dd; } const __remap = new Int32Array(65536);
function __local(b, id) {
\tlet l = __remap[id]; if (l >= 0) return l;
\tconst s = b.strings[id]; l = __map.get(s);
\tif (l === undefined) { l = __d.strings.length; __d.strings.push(s); __map.set(s, l); }
\t__remap[id] = l; return l;
}
function __flushDense(s) { if (__d !== null && __d.n > 0) { const t0 = __ns(); __add(s, __d); __t.gather -= __ns() - t0; } __d = null; }
function __gather(s, b, keep) {
\tconst feed = b.feed; __remap.fill(-1, 0, b.strings.length);
\tfor (let i = 0; i < b.n; i++) { if ((feed[i] & 2) === 0) continue;
\t  if (__d === null) { __d = keep ? allocBatch(16384) : __reused(b.n); __d.n = 0; __d.strings = keep ? [''] : b.strings; __map = new Map([['', 0]]); __remap.fill(-1, 0, b.strings.length); }
\t  const d = __d; const k = d.n;
\t  d.feed[k] = feed[i]; const o = i * 4, t = k * 4;
\t  d.src[t] = b.src[o]; d.src[t+1] = b.src[o+1]; d.src[t+2] = b.src[o+2]; d.src[t+3] = b.src[o+3];
\t  d.dst[t] = b.dst[o]; d.dst[t+1] = b.dst[o+1]; d.dst[t+2] = b.dst[o+2]; d.dst[t+3] = b.dst[o+3];
\t  d.proto[k] = b.proto[i]; d.sport[k] = b.sport[i]; d.dport[k] = b.dport[i]; d.tcpFlags[k] = b.tcpFlags[i];
\t  d.packets[k] = b.packets[i]; d.bytes[k] = b.bytes[i]; d.start[k] = b.start[i]; d.end[k] = b.end[i];
\t  d.cloud[k] = b.cloud[i]; d.action[k] = b.action[i]; d.direction[k] = b.direction[i];
\t  const ids = keep ? [__local(b, b.account[i]), __local(b, b.region[i]), __local(b, b.iface[i]), __local(b, b.instance[i])] : [b.account[i], b.region[i], b.iface[i], b.instance[i]];
\t  d.account[k] = ids[0]; d.region[k] = ids[1]; d.iface[k] = ids[2]; d.instance[k] = ids[3];
\t  d.n = k + 1;
\t  if (d.n === 16384) __flushDense(s);
\t}
\tif (!keep) __flushDense(s);
}
function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\tif (MODE === 'sparse') __add(s, batch);
\telse { const t0 = __ns(); __gather(s, batch, MODE === 'lane'); __t.gather += __ns() - t0; }
\t__t.n++;
\t__report();
}"""
UNPACK = """function shardTask(task) {
\tif ("batch" in task) unpackStrings(task.batch);"""
UNPACK_TIMED = """function shardTask(task) {
\tif ("batch" in task) { const t0 = __ns(); unpackStrings(task.batch); __t.unp += __ns() - t0; }"""
FIN = "const findings = s.outbound.finalize(task.outbound, task.opts.uptoWindow);"

rounds = int(sys.argv[1])
scratch = sys.argv[2]
split = sys.argv.index('--')
builds = [a.split('=', 1) for a in sys.argv[3:split]]
args = sys.argv[split + 1:]
for label, spec in builds:
    root, _, mode = spec.partition(':')
    mode = mode or 'sparse'
    root = os.path.abspath(root)
    d = os.path.join(scratch, label)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copytree(os.path.join(root, 'dist'), os.path.join(d, 'dist'), ignore=shutil.ignore_patterns('*.v8cache'))
    for name in ('src', 'node_modules', 'package.json'):
        os.symlink(os.path.join(root, name), os.path.join(d, name))
    bundle = os.path.join(d, 'dist/workers/shard.bundle.cjs')
    text = open(bundle).read()
    if ADD not in text or UNPACK not in text or FIN not in text:
        sys.exit(f'{label}: the shard bundle has no addBatchTo, shardTask or outbound finalize as this probe patches them')
    text = text.replace(ADD, ADD_TIMED.replace('MODE', repr(mode)), 1).replace(UNPACK, UNPACK_TIMED, 1)
    # the last gathered batch added before the finalisation, and the totals printed after it
    text = text.replace(FIN, "if (__d !== null && __d.n > 0) __add(s, __d); __d = null; __report(); " + FIN, 1)
    if mode == 'densejs': text = text.replace('const ADD_MIN_BATCH = 1024;', 'const ADD_MIN_BATCH = 1e9;', 1)
    open(bundle, 'w').write(text)
res = {label: [] for label, _ in builds}
def run(label):
    cmd = ['node', os.path.join(scratch, label, 'dist/src/cli/main.js'), 'detect', args[0], '--out', os.path.join(scratch, label + '-out'), '--quiet', '--no-enrich'] + args[1:]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    last = [l for l in err.splitlines() if l.startswith('TOUT ')]
    return tuple(float(x) for x in last[-1].split()[1:]) if last else None
for label, _ in builds:  # each build's V8 code caches written
    run(label); run(label)
for _ in range(rounds):
    for label, _ in builds:
        r = run(label)
        if r: res[label].append(r)
base = statistics.median(x[0] for x in res[builds[0][0]])
for label, _ in builds:
    v = res[label]
    add = [x[0] for x in v]
    print(f'{label:7} addBatch {statistics.median(add):7.1f} ms ({statistics.median(add) / base:.3f})  min {min(add):7.1f}  unpack {statistics.median(x[1] for x in v):5.2f} ms  gather {statistics.median(x[2] for x in v):6.1f} ms  batches {v[0][3]:.0f} strings {v[0][4]:.0f}  n={len(v)}  {[round(a) for a in add]}')
