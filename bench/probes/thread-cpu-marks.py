#!/usr/bin/env python3
"""Each thread's CPU (ms, from /proc/PID/task/TID/schedstat polled every ~0.5 ms) accumulated by
given moments of wall time, threads in the order they were made (tid): how much of the cores the
start of a run uses, and which thread had what by the first parse task (a detect run at one
worker: main, V8's helpers, libuv's pool, then the parse thread and the shard thread). A thread
gone by a moment shows 0. MARKS (environment): the moments, in ms (default 60,80,...,300).
Under load, run it with bench/probes/rr-ab.py's scheduling (chrt -r 1, a 2 ms round-robin slice).
   python3 bench/probes/thread-cpu-marks.py node dist/src/cli/main.js detect DIR --out /tmp/x --quiet --no-enrich
"""
import os, sys, time, subprocess
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.perf_counter()
samples, order = [], []
while p.poll() is None:
    now = {}
    try:
        tasks = os.listdir(f'/proc/{p.pid}/task')
    except OSError:
        break
    for t in tasks:
        try:
            with open(f'/proc/{p.pid}/task/{t}/schedstat') as f:
                now[int(t)] = int(f.read().split()[0]) / 1e6
        except OSError:
            continue
        if int(t) not in order:
            order.append(int(t))
    samples.append(((time.perf_counter() - t0) * 1000, now))
    time.sleep(0.0005)
wall = (time.perf_counter() - t0) * 1000
order.sort()
marks = [float(x) for x in os.environ.get('MARKS', '60,80,100,120,140,160,200,250,300').split(',')]
print('T(ms)  ' + ' '.join(f'{t % 100000:>6}' for t in order) + '     all')
for m in marks:
    last = None
    for ts, now in samples:
        if ts <= m:
            last = now
    if last is None:
        continue
    row = [last.get(t, 0.0) for t in order]
    print(f'{m:5.0f}  ' + ' '.join(f'{x:6.1f}' for x in row) + f'  {sum(row):6.1f}')
print(f'wall {wall:.0f} ms')
