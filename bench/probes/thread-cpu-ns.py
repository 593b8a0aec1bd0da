#!/usr/bin/env python3
"""CPU of each thread of one command in nanoseconds (the scheduler's run time,
/proc/PID/task/TID/schedstat, polled every 2 ms), in tid order (thread-cpu-tid.py's order:
main, V8's helpers, libuv's pool, then the worker threads: at --workers 1 parse, shard).
thread-cpu-tid.py reads /proc's stat in 10 ms ticks, too coarse for a shard thread's
~350 ms; this reads run time. A thread's figure is the last seen before it exited, so it
can miss its last few milliseconds; read it from outside, as here: a thread reading its
own schedstat sees a figure updated only at the scheduler's ticks.
   python3 bench/probes/thread-cpu-ns.py node dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich
"""
import sys, time
from thread_poll import run_times

t0 = time.time()
best = run_times(sys.argv[1:])
for t in sorted(best, key=int):
    print(f'tid {t} cpu {best[t] / 1e6:.1f} ms')
print('wall', round((time.time() - t0) * 1000), 'ms')
