#!/usr/bin/env python3
"""Which threads of one command are busy when: every 20 ms, each thread's share of a core over
the last slot (from /proc/PID/task/TID/schedstat, nanoseconds on a CPU), one digit a thread
(0-9: tenths of a core; blank: under 5 %), threads in the order they were made (a detect run
at 1 worker: main, V8's four helpers, libuv's four, the parse thread, the shard thread). Tells
whether the parse work overlaps the main thread's planning and whether both cores are used.
   python3 bench/probes/thread-timeline.py node dist/src/cli/main.js detect DIR --out /tmp/x --no-enrich --quiet
"""
import os, sys, time, subprocess
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time()
rows, order = [], []
while p.poll() is None:
    try:
        tasks = os.listdir(f'/proc/{p.pid}/task')
    except OSError:
        break
    now = {}
    for t in tasks:
        try:
            now[t] = int(open(f'/proc/{p.pid}/task/{t}/schedstat').read().split()[0])
        except OSError:
            continue
        if t not in order:
            order.append(t)
    rows.append((time.time() - t0, now))
    time.sleep(0.02)
order.sort(key=int)
print('    ms ' + ''.join(str(k % 10) for k in range(len(order))) + '   (thread by tid order)')
for i in range(1, len(rows)):
    t, now = rows[i]
    t_prev, before = rows[i - 1]
    slot = (t - t_prev) * 1e9
    cells = []
    for tid in order:
        share = (now.get(tid, 0) - before[tid]) / slot if tid in before else 0
        cells.append(' ' if share < 0.05 else str(min(9, int(share * 10))))
    print(f'{t * 1000:6.0f} ' + ''.join(cells))
print('wall', round((time.time() - t0) * 1000), 'ms')
