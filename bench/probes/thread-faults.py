#!/usr/bin/env python3
"""CPU and minor page faults of each thread of one command, in tid order (a detect run at one
worker: main, 4 V8 helpers, 4 libuv, parse, shard), polled from /proc every 5 ms (10 ms ticks).
A first touch of fresh memory (a batch ring slot, a module's memory) is a minor fault, ~1 us here.
   python3 bench/probes/thread-faults.py node dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich"""
import os, sys
from thread_poll import poll_threads, task_stat
cpu, faults = {}, {}
hz = os.sysconf('SC_CLK_TCK')


def sample(t, task):
    stat = task_stat(task)
    if stat is None:
        return
    f = stat[1]
    cpu[t] = max(cpu.get(t, 0), int(f[11]) + int(f[12]))
    faults[t] = max(faults.get(t, 0), int(f[7]))


poll_threads(sys.argv[1:], 0.005, sample)
print('  '.join(f'{t}: {cpu[t] * 1000 // hz} ms {faults[t]} faults' for t in sorted(cpu, key=int) if cpu[t] > 1))
