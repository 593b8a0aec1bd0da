#!/usr/bin/env python3
"""CPU seconds of each thread of one command (user + sys from /proc/<pid>/task, sampled every
5 ms: a thread's last sample before it ends, so each loses at most ~5 ms), largest first, and
their sum. Load-independent where wall time is not: which thread carries the work.
   python3 bench/probes/thread-cpu.py node dist/src/cli/main.js detect DIR --out /tmp/x --quiet --no-enrich
(thread-cpu.sh samples every 0.2 s, too coarse for the pool threads' few tens of ms.)
"""
import os, sys
from thread_poll import poll_threads, task_stat
best, names = {}, {}
hz = os.sysconf('SC_CLK_TCK')


def sample(t, task):
    stat = task_stat(task)
    if stat is None:
        return
    names[t], fields = stat
    best[t] = max(best.get(t, 0), int(fields[11]) + int(fields[12]))


status = poll_threads(sys.argv[1:], 0.005, sample)
rows = sorted(best.items(), key=lambda kv: -kv[1])
print(' '.join(f'{names[t]}:{v / hz:.2f}' for t, v in rows if v > 0), f'| sum {sum(best.values()) / hz:.2f} s | exit {status}')
