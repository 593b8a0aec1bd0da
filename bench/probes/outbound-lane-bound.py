#!/usr/bin/env python3
"""Upper bound of 'outbound records in batches of their own' on the shard side: the shard bundle
patched so that addBatchTo gathers each batch's outbound records into a dense batch of up to
16,384 outbound records with a string table of its own (TCMP, timed apart), adds that one to the
outbound table when full and before finalize (TOUT). LABEL=ROOT:MODE, MODE sparse|dense.
   python3 bench/probes/outbound-lane-bound.py 5 /tmp/x sparse=.:sparse dense=.:dense -- INPUT --workers 1
(a ROOT is a checkout, ROOT/dist built; session 20 outdense, made for a shard bundle of one lane a shard)
"""
import os, shutil, statistics, subprocess, sys
ADD = """function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\ts.outbound.addBatch(batch);
}"""
TIMED = """const __fs = require('fs'); const __t = {out:0, cmp:0, n:0, str:0, nb:0}; let __d = null; let __map = null; let __remap = new Int32Array(65536);
function __ns(){ const s = __fs.readFileSync('/proc/thread-self/schedstat','latin1'); return Number(s.slice(0, s.indexOf(' '))); }
function __local(b, id) {
\tlet l = __remap[id]; if (l >= 0) return l;
\tconst s = b.strings[id]; l = __map.get(s);
\tif (l === undefined) { l = __d.strings.length; __d.strings.push(s); __map.set(s, l); }
\t__remap[id] = l; return l;
}
function __flushDense(s) {
\tif (__d === null || __d.n === 0) return;
\tconst t1 = __ns(); s.outbound.addBatch(__d); __t.out += __ns() - t1; __t.str += __d.strings.length; __t.nb++;
\t__d = null;
}
function __compact(s, b) {
\tconst feed = b.feed; __remap.fill(-1, 0, b.strings.length);
\tfor (let i = 0; i < b.n; i++) { if ((feed[i] & 2) === 0) continue;
\t  if (__d === null) { __d = allocBatch(16384); __d.strings = ['']; __map = new Map([['', 0]]); __remap.fill(-1, 0, b.strings.length); }
\t  const d = __d; const k = d.n;
\t  d.feed[k] = feed[i]; const o = i * 4, t = k * 4;
\t  d.src[t] = b.src[o]; d.src[t+1] = b.src[o+1]; d.src[t+2] = b.src[o+2]; d.src[t+3] = b.src[o+3];
\t  d.dst[t] = b.dst[o]; d.dst[t+1] = b.dst[o+1]; d.dst[t+2] = b.dst[o+2]; d.dst[t+3] = b.dst[o+3];
\t  d.proto[k] = b.proto[i]; d.sport[k] = b.sport[i]; d.dport[k] = b.dport[i]; d.tcpFlags[k] = b.tcpFlags[i];
\t  d.packets[k] = b.packets[i]; d.bytes[k] = b.bytes[i]; d.start[k] = b.start[i]; d.end[k] = b.end[i];
\t  d.cloud[k] = b.cloud[i]; d.action[k] = b.action[i]; d.direction[k] = b.direction[i];
\t  d.account[k] = __local(b, b.account[i]); d.region[k] = __local(b, b.region[i]); d.iface[k] = __local(b, b.iface[i]); d.instance[k] = __local(b, b.instance[i]);
\t  d.n = k + 1;
\t  if (d.n === 16384) { const c = __ns(); __flushDense(s); __t.cmp -= __ns() - c; }
\t}
}
function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\tif (MODE === 'sparse') { const t1 = __ns(); s.outbound.addBatch(batch); __t.out += __ns() - t1; __t.str += batch.strings.length; __t.nb++; }
\telse { const t0 = __ns(); __compact(s, batch); __t.cmp += __ns() - t0; }
\t__t.n++;
}
function __report(s) {
\tif (MODE !== 'sparse') __flushDense(s);
\t__fs.writeSync(2, 'TOUT ' + (__t.out/1e6).toFixed(2) + ' ' + (__t.cmp/1e6).toFixed(2) + ' ' + __t.n + ' ' + __t.nb + ' ' + __t.str + '\\n');
}"""
FIN = "const findings = s.outbound.finalize(task.outbound, task.opts.uptoWindow);"
rounds = int(sys.argv[1]); scratch = sys.argv[2]
split = sys.argv.index('--')
builds = [a.split('=', 1) for a in sys.argv[3:split]]
args = sys.argv[split + 1:]
for label, spec in builds:
    root, mode = spec.split(':')
    root = os.path.abspath(root)
    d = os.path.join(scratch, label)
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    shutil.copytree(os.path.join(root, 'dist'), os.path.join(d, 'dist'), ignore=shutil.ignore_patterns('*.v8cache'))
    for name in ('src', 'node_modules', 'package.json'):
        os.symlink(os.path.join(root, name), os.path.join(d, name))
    bundle = os.path.join(d, 'dist/workers/shard.bundle.cjs')
    text = open(bundle).read()
    assert ADD in text and FIN in text
    text = text.replace(ADD, TIMED.replace('MODE', repr(mode)), 1).replace(FIN, '__report(s); ' + FIN, 1)
    open(bundle, 'w').write(text)
res = {label: [] for label, _ in builds}
def run(label):
    cmd = ['node', os.path.join(scratch, label, 'dist/src/cli/main.js'), 'detect', args[0], '--out', os.path.join(scratch, label + '-out'), '--quiet', '--no-enrich'] + args[1:]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    last = [l for l in err.splitlines() if l.startswith('TOUT ')]
    return tuple(float(x) for x in last[-1].split()[1:]) if last else None
for label, _ in builds: print(label, run(label), flush=True)
for _ in range(rounds):
    for label, _ in builds:
        r = run(label)
        if r: res[label].append(r)
base = statistics.median(x[0] for x in res[builds[0][0]])
for label, _ in builds:
    v = res[label]; add = [x[0] for x in v]
    print(f'{label:8} addBatch {statistics.median(add):7.1f} ms ({statistics.median(add)/base:.3f}) min {min(add):7.1f}  gather {statistics.median(x[1] for x in v):6.1f} ms batches {v[0][3]:.0f} strings {v[0][4]:.0f} n={len(v)} {[round(a) for a in add]}', flush=True)
