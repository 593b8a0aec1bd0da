#!/usr/bin/env python3
"""The serial end of a detect run, A/B: from the moment the shards' finalise replies reach the
main thread to the process's end as this parent sees it ("tail"), with the whole run's wall
and CPU (wait4). Each build (a folder holding dist/, src/data, node_modules) is copied under
/tmp and a marker is put into its run bundle right after the replies' await (no hook lives in
the product). Builds alternated, each primed once; QUIET=1: pairs only in quiet moments (the
gating of quiet-ab.py, others under MAX_OTHERS of the cores during both runs).
   [QUIET=1] [TAIL_ARGS='--no-enrich ...'] python3 bench/probes/tail-ab.py PAIRS SECONDS INPUT base=ROOT new=ROOT [MAX_OTHERS=0.15]
TAIL_ARGS: more detect options for both builds (split on spaces).
"""
import os, re, sys, time, shutil, statistics, subprocess, glob
pairs, budget, inp = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
builds = [a.split('=', 1) for a in sys.argv[4:6]]
max_others = float(sys.argv[6]) if len(sys.argv) > 6 else 0.15
quiet = os.environ.get('QUIET') == '1'
# the finalize's await first: a build may hold another function's await that the older anchors match
ANCHORS = ['const replies = await inbound;', 'const replies = await pending;', 'const replies = await Promise.all(this.shardPools.map((p) => p.run(task)));']
MARK = ' globalThis.__repliesAt = performance.timeOrigin + performance.now();'
pre = '/tmp/tail-ab-pre.cjs'
open(pre, 'w').write("process.on('exit', () => { require('fs').writeSync(2, 'REPLIESAT ' + globalThis.__repliesAt + '\\n'); });\n")
roots = {}
for label, root in builds:
    copy = f'/tmp/tail-ab-{label}'
    shutil.rmtree(copy, ignore_errors=True); os.makedirs(f'{copy}/src')
    shutil.copytree(f'{root}/dist', f'{copy}/dist', ignore=shutil.ignore_patterns('*.v8cache'))
    os.symlink(os.path.abspath(f'{root}/src/data'), f'{copy}/src/data')
    os.symlink(os.path.abspath(f'{root}/node_modules'), f'{copy}/node_modules')
    shutil.copy(f'{root}/package.json', copy)
    for f in glob.glob(f'{copy}/dist/src/bundle/run-*.cjs'):
        text = open(f).read()
        a = next((a for a in ANCHORS if a in text), None)
        if a: open(f, 'w').write(text.replace(a, a + MARK, 1)); break
    else: sys.exit(f'{label}: no anchor found in its run bundle')
    roots[label] = copy
hz = os.sysconf('SC_CLK_TCK'); cores = os.cpu_count()
def busy():
    with open('/proc/stat') as f: v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / hz
def run(label):
    b0, t0 = busy(), time.time()
    p = subprocess.Popen(['node', '-r', pre, f'{roots[label]}/dist/src/cli/main.js', 'detect', inp, '--out', f'/tmp/tail-ab-out-{label}', '--quiet', *os.environ.get('TAIL_ARGS', '').split()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read(); _, _, ru = os.wait4(p.pid, 0); end = time.time()
    cpu = ru.ru_utime + ru.ru_stime; wall = end - t0
    m = re.search(r'REPLIESAT ([\d.]+)', err)
    tail = end * 1000 - float(m.group(1)) if m and m.group(1) != 'undefined' else float('nan')  # nan: an inline shard's run
    return tail, wall * 1000, cpu * 1000, max(0.0, busy() - b0 - cpu) / (wall * cores)
for label, _ in builds: run(label)
kept = {l: [] for l, _ in builds}; k = 0; start = time.time()
while k < pairs and time.time() - start < budget:
    if quiet:
        b0 = busy(); time.sleep(0.5)
        if (busy() - b0) / (0.5 * cores) > 0.05: continue
    order = builds if k % 2 == 0 else builds[::-1]
    got = {l: run(l) for l, _ in order}
    if not quiet or all(g[3] <= max_others for g in got.values()):
        k += 1
        for l, g in got.items(): kept[l].append(g)
print(f"kept {k} pairs in {time.time() - start:.0f} s")
base = None
for l, _ in builds:
    if not kept[l]: continue
    med = [statistics.median(g[i] for g in kept[l]) for i in range(3)]
    base = base or med
    print(f"{l:6s} tail {med[0]:6.1f} ms  wall {med[1]:7.1f}  cpu {med[2]:7.1f}  ratio tail {med[0] / base[0]:.3f} wall {med[1] / base[1]:.3f} cpu {med[2] / base[2]:.3f}  tails={[round(g[0]) if g[0] == g[0] else None for g in kept[l]]}")
