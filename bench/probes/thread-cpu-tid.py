#!/usr/bin/env python3
"""CPU of each thread of one command, in the order the threads were made (tid), with when each was first
seen and when its CPU last rose (from /proc every 5 ms): tells the parse thread (the first worker
thread of a detect run) from the shard thread (the next), which thread-cpu.py's names do not.
   python3 bench/probes/thread-cpu-tid.py node dist/src/cli/main.js detect FILE --out /tmp/x --workers 1 --quiet --no-enrich
"""
import os, sys, time
from thread_poll import poll_threads, task_stat
best, names, first = {}, {}, {}
hz = os.sysconf('SC_CLK_TCK')
t0 = time.time()


def sample(t, task):
    stat = task_stat(task)
    if stat is None:
        return
    f = stat[1]
    v = int(f[11]) + int(f[12])
    if t not in first:
        first[t] = time.time() - t0
    if v > best.get(t, 0):
        best[t] = v
        names[t] = time.time() - t0


poll_threads(sys.argv[1:], 0.005, sample)
for t in sorted(best, key=int):
    if best[t] > 1:
        print(f'tid {t} start {first[t]*1000:6.0f} ms  last-cpu-change {names[t]*1000:6.0f} ms  cpu {best[t]/hz*1000:6.0f} ms')
print('wall', round((time.time() - t0) * 1000))
