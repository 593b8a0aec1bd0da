#!/usr/bin/env python3
"""The shard thread's CPU in OutboundTable.addBatch and in unpackStrings (a batch's strings out of
its message), by two or more builds, alternated: each build's dist/ copied to SCRATCH/LABEL/dist
(its src/, node_modules and package.json linked), its workers/shard.bundle.cjs patched to read
/proc/thread-self/schedstat around those two calls, then `detect` run ROUNDS times each. Medians
of the last batch's totals (the patch's reads cost the same in every build; ~10 us a batch).
   python3 bench/probes/outbound-adds-cpu.py 21 /tmp/x base=/work/base19 new=. -- /work/data/bucket-2000000-10-6 --workers 1
(a ROOT is a checkout: ROOT/dist built, ROOT/src and ROOT/node_modules there)."""
import os, shutil, statistics, subprocess, sys

ADD = """function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\ts.outbound.addBatch(batch);
}"""
ADD_TIMED = """const __fs = require('fs'); const __t = {out:0, unp:0, n:0};
function __ns(){ const s = __fs.readFileSync('/proc/thread-self/schedstat','latin1'); return Number(s.slice(0, s.indexOf(' '))); }
function addBatchTo(s, batch, oneBucket) {
\ts.inbound = bound.add(s.inbound, batch, oneBucket);
\tconst t0 = __ns();
\ts.outbound.addBatch(batch);
\t__t.out += __ns() - t0; __t.n++;
\t__fs.writeSync(2, 'TOUT ' + (__t.out/1e6).toFixed(2) + ' ' + (__t.unp/1e6).toFixed(2) + ' ' + __t.n + '\\n');
}"""
UNPACK = """function shardTask(task) {
\tif ("batch" in task) unpackStrings(task.batch);"""
UNPACK_TIMED = """function shardTask(task) {
\tif ("batch" in task) { const t0 = __ns(); unpackStrings(task.batch); __t.unp += __ns() - t0; }"""

rounds = int(sys.argv[1])
scratch = sys.argv[2]
split = sys.argv.index('--')
builds = [a.split('=', 1) for a in sys.argv[3:split]]
args = sys.argv[split + 1:]
for label, root in builds:
    root = os.path.abspath(root)
    d = os.path.join(scratch, label)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copytree(os.path.join(root, 'dist'), os.path.join(d, 'dist'), ignore=shutil.ignore_patterns('*.v8cache'))
    for name in ('src', 'node_modules', 'package.json'):
        os.symlink(os.path.join(root, name), os.path.join(d, name))
    bundle = os.path.join(d, 'dist/workers/shard.bundle.cjs')
    text = open(bundle).read()
    if ADD not in text or UNPACK not in text:
        sys.exit(f'{label}: the shard bundle has no addBatchTo or shardTask as this probe patches them')
    open(bundle, 'w').write(text.replace(ADD, ADD_TIMED, 1).replace(UNPACK, UNPACK_TIMED, 1))
res = {label: [] for label, _ in builds}
def run(label):
    cmd = ['node', os.path.join(scratch, label, 'dist/src/cli/main.js'), 'detect', args[0], '--out', os.path.join(scratch, label + '-out'), '--quiet', '--no-enrich'] + args[1:]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    last = [l for l in err.splitlines() if l.startswith('TOUT ')]
    return tuple(float(x) for x in last[-1].split()[1:3]) if last else None
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
    print(f'{label:6} addBatch {statistics.median(add):7.1f} ms ({statistics.median(add) / base:.3f})  min {min(add):7.1f}  unpack {statistics.median(x[1] for x in v):5.2f} ms  n={len(v)}  {[round(a) for a in add]}')
