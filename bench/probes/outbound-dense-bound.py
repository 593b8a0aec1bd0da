#!/usr/bin/env python3
"""Upper bound of 'outbound records apart': the shard bundle patched so that addBatchTo compacts a
batch's outbound records into a dense batch of their own (timed apart: TCMP) and hands the outbound
table that one (timed: TOUT). Variants: LABEL=ROOT:MODE, MODE sparse|dense|densejs (densejs: dense, and
ADD_MIN_BATCH raised so the dense batch goes by the JS path).
   python3 bench/probes/outbound-dense-bound.py 5 /tmp/x sparse=.:sparse dense=.:dense densejs=.:densejs -- INPUT --workers 1
(a ROOT is a checkout, ROOT/dist built; session 20 outdense, made for a shard bundle of one lane a shard)
"""
import os, shutil, statistics, subprocess, sys
ADD = """function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\ts.outbound.addBatch(batch);
}"""
TIMED = """const __fs = require('fs'); const __t = {out:0, cmp:0, n:0}; let __d = null;
function __ns(){ const s = __fs.readFileSync('/proc/thread-self/schedstat','latin1'); return Number(s.slice(0, s.indexOf(' '))); }
function __compact(b) {
\tconst feed = b.feed; let m = 0;
\tfor (let i = 0; i < b.n; i++) if (feed[i] & 2) m++;
\tif (__d === null || __d.feed.length < m) __d = allocBatch(Math.max(m, 4096));
\tconst d = __d; let k = 0;
\tfor (let i = 0; i < b.n; i++) { if ((feed[i] & 2) === 0) continue;
\t  d.feed[k] = feed[i]; const o = i * 4, t = k * 4;
\t  d.src[t] = b.src[o]; d.src[t+1] = b.src[o+1]; d.src[t+2] = b.src[o+2]; d.src[t+3] = b.src[o+3];
\t  d.dst[t] = b.dst[o]; d.dst[t+1] = b.dst[o+1]; d.dst[t+2] = b.dst[o+2]; d.dst[t+3] = b.dst[o+3];
\t  d.proto[k] = b.proto[i]; d.sport[k] = b.sport[i]; d.dport[k] = b.dport[i]; d.tcpFlags[k] = b.tcpFlags[i];
\t  d.packets[k] = b.packets[i]; d.bytes[k] = b.bytes[i]; d.start[k] = b.start[i]; d.end[k] = b.end[i];
\t  d.cloud[k] = b.cloud[i]; d.action[k] = b.action[i]; d.direction[k] = b.direction[i];
\t  d.account[k] = b.account[i]; d.region[k] = b.region[i]; d.iface[k] = b.iface[i]; d.instance[k] = b.instance[i]; k++; }
\td.n = k; d.strings = b.strings; return d;
}
function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\tconst t0 = __ns();
\tconst d = MODE === 'sparse' ? batch : __compact(batch);
\tconst t1 = __ns();
\ts.outbound.addBatch(d);
\tconst t2 = __ns();
\t__t.cmp += t1 - t0; __t.out += t2 - t1; __t.n++;
\t__fs.writeSync(2, 'TOUT ' + (__t.out/1e6).toFixed(2) + ' ' + (__t.cmp/1e6).toFixed(2) + ' ' + __t.n + '\\n');
}"""
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
    assert ADD in text
    text = text.replace(ADD, TIMED.replace('MODE', repr('sparse' if mode == 'sparse' else 'dense')), 1)
    if mode == 'densejs': text = text.replace('const ADD_MIN_BATCH = 1024;', 'const ADD_MIN_BATCH = 1e9;', 1)
    open(bundle, 'w').write(text)
res = {label: [] for label, _ in builds}
def run(label):
    cmd = ['node', os.path.join(scratch, label, 'dist/src/cli/main.js'), 'detect', args[0], '--out', os.path.join(scratch, label + '-out'), '--quiet', '--no-enrich'] + args[1:]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    last = [l for l in err.splitlines() if l.startswith('TOUT ')]
    return tuple(float(x) for x in last[-1].split()[1:3]) if last else None
for label, _ in builds: run(label)
for _ in range(rounds):
    for label, _ in builds:
        r = run(label)
        if r: res[label].append(r)
base = statistics.median(x[0] for x in res[builds[0][0]])
for label, _ in builds:
    v = res[label]; add = [x[0] for x in v]
    print(f'{label:8} addBatch {statistics.median(add):7.1f} ms ({statistics.median(add)/base:.3f}) min {min(add):7.1f}  compact {statistics.median(x[1] for x in v):6.1f} ms n={len(v)} {[round(a) for a in add]}', flush=True)
