#!/usr/bin/env python3
"""A timeline of one command's threads: every 2 ms, each thread's time on a core and time
waiting for one (runnable, from /proc/PID/task/TID/schedstat, in ns), summed into bins.
   python3 bench/probes/timeline.py [--bin MS] [--rows] node dist/src/cli/main.js detect INPUT --quiet --no-enrich --out DIR
Threads are told apart by creation order (tid): main, V8's five helpers (the next five), then
libuv's pool (the four threads that appear together) and the worker threads in order (parse
before the shard threads: run.ts starts the parse pool first), named by when they appeared.
"run" is CPU time; "want" is CPU plus time spent runnable but waiting for a core, so on a
loaded machine "want" still shows what the process would use with the cores to itself.
Prints, per thread, CPU, runnable-wait, first and last activity; then the summary of the
timeline: stretches where the process wants fewer than 1.5 cores (serial sections) and,
with --rows, one row a bin (cores wanted per thread class)."""
import os, sys, time, subprocess

args = sys.argv[1:]
bin_ms = 50.0
rows = False
while args and args[0].startswith('--'):
    a = args.pop(0)
    if a == '--bin': bin_ms = float(args.pop(0))
    elif a == '--rows': rows = True
p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.perf_counter()
samples = []  # (t ms, {tid: (run ns, wait ns)})
first = {}
while True:
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid != 0: break
    now = (time.perf_counter() - t0) * 1000
    snap = {}
    try: tids = os.listdir(f'/proc/{p.pid}/task')
    except OSError: tids = []
    for tid in tids:
        try:
            with open(f'/proc/{p.pid}/task/{tid}/schedstat') as f: run, wait, _ = f.read().split()
        except (OSError, ValueError): continue
        t = int(tid)
        snap[t] = (int(run), int(wait))
        first.setdefault(t, now)
    samples.append((now, snap))
    time.sleep(0.002)
wall = (time.perf_counter() - t0) * 1000
total = (ru.ru_utime + ru.ru_stime) * 1000
main = p.pid

tids = sorted(first)
# V8's helpers: the five threads made right after the main thread
names = {main: 'main'}
for t in [t for t in tids if t != main][:5]: names[t] = 'v8'
rest = [t for t in tids if t not in names]
# libuv's pool: the four consecutive threads that appeared closest together (it makes them at once)
if len(rest) >= 4:
    k = min(range(len(rest) - 3), key=lambda i: (first[rest[i + 3]] - first[rest[i]], -i))
    for t in rest[k:k + 4]: names[t] = 'uv'
    rest = rest[:k] + rest[k + 4:]
# a thread that did almost nothing (Node's own) is 'other'; the rest are worker threads in order
cpu_of = {}
for _, snap in samples:
    for t, (r, _w) in snap.items(): cpu_of[t] = max(cpu_of.get(t, 0), r)
workers = []
for t in rest:
    if cpu_of.get(t, 0) < 10e6: names[t] = 'other'
    else: workers.append(t)
for i, t in enumerate(workers): names[t] = f'w{i}'

# per-thread deltas into bins
nbins = int(wall // bin_ms) + 1
classes = sorted(set(names.values()), key=lambda c: ({'main': 0, 'v8': 1, 'uv': 2, 'other': 3}.get(c, 4), c))
runb = {c: [0.0] * nbins for c in classes}
wantb = {c: [0.0] * nbins for c in classes}
prev = {}
last_active = {}
for now, snap in samples:
    b = min(nbins - 1, int(now // bin_ms))
    for t, (r, w) in snap.items():
        pr, pw = prev.get(t, (0, 0))
        dr, dw = (r - pr) / 1e6, (w - pw) / 1e6
        c = names.get(t, 'late')
        if c not in runb: runb[c] = [0.0] * nbins; wantb[c] = [0.0] * nbins; classes.append(c)
        runb[c][b] += dr; wantb[c][b] += dr + dw
        if dr > 0: last_active[t] = now
        prev[t] = (r, w)

print(f"wall {wall:.0f} ms  cpu {total:.0f} ms (wait4)  cores used {total / wall:.2f}  bin {bin_ms:.0f} ms")
for t in tids:
    r, w = prev.get(t, (0, 0))
    print(f"  {names.get(t, '?'):5s} tid+{t - main:<3d} first {first[t]:6.0f} ms  last-active {last_active.get(t, 0):6.0f} ms  cpu {r / 1e6:6.0f} ms  runnable-wait {w / 1e6:6.0f} ms")
want = [sum(wantb[c][i] for c in classes) / bin_ms for i in range(nbins)]
run = [sum(runb[c][i] for c in classes) / bin_ms for i in range(nbins)]
low = sum(bin_ms for x in want if x < 1.5)
print(f"cores wanted (run + runnable) per bin: mean {sum(want) / nbins:.2f}; bins under 1.5 cores: {low:.0f} ms of {nbins * bin_ms:.0f}")
# stretches under 1.5 wanted cores, with the class that ran in them
i = 0
while i < nbins:
    if want[i] < 1.5:
        j = i
        while j + 1 < nbins and want[j + 1] < 1.5: j += 1
        busy = {c: sum(wantb[c][i:j + 1]) for c in classes}
        top = ', '.join(f"{c} {v:.0f}" for c, v in sorted(busy.items(), key=lambda x: -x[1]) if v >= 1)
        print(f"  {i * bin_ms:6.0f}-{(j + 1) * bin_ms:6.0f} ms  {sum(want[i:j + 1]) / (j - i + 1):.2f} cores wanted  ({top} ms)")
        i = j + 1
    else: i += 1
if rows:
    print('   t ms  ' + ' '.join(f"{c:>6s}" for c in classes) + '   want    run')
    for i in range(nbins):
        print(f"{i * bin_ms:7.0f}  " + ' '.join(f"{wantb[c][i] / bin_ms:6.2f}" for c in classes) + f" {want[i]:6.2f} {run[i]:6.2f}")
