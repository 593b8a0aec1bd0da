#!/usr/bin/env python3
"""CPU of a command's threads by kind, for two or more commands alternated: the main thread, the
worker threads (the last WORKERS threads made, default 1: a GCP or Azure run's one worker), the
rest (V8's helpers and libuv's pool: Node 20 names every thread 'node'), and the total, in ms of
run time (/proc/PID/task/TID/schedstat, polled every 2 ms), medians. Under load it still gives
CPU (not wall) by kind.
   [WORKERS=1] python3 bench/probes/thread-kinds-ab.py ROUNDS 'base=CMD' 'new=CMD' ...
"""
import os, sys, statistics
sys.path.insert(0, os.path.dirname(__file__))
from thread_poll import run_times

rounds = int(sys.argv[1]); cmds = [a.split('=', 1) for a in sys.argv[2:]]
KINDS = ('main', 'helpers', 'workers', 'total')
WORKERS = int(os.environ.get('WORKERS', '1'))
res = {l: {k: [] for k in KINDS} for l, _ in cmds}


def run(cmd):
    best = run_times(['bash', '-c', 'exec ' + cmd])
    tids = sorted(best, key=int)
    out = dict.fromkeys(KINDS, 0.0)
    for i, t in enumerate(tids):
        k = 'main' if i == 0 else 'workers' if i >= len(tids) - WORKERS else 'helpers'
        out[k] += best[t] / 1e6
        out['total'] += best[t] / 1e6
    return out


for r in range(rounds):
    for label, cmd in (cmds if r % 2 == 0 else cmds[::-1]):
        o = run(cmd)
        for k in KINDS: res[label][k].append(o[k])
base = None
for label, _ in cmds:
    m = {k: statistics.median(res[label][k]) for k in KINDS}
    base = base or m
    print(f"{label:6s} " + '  '.join(f"{k} {m[k]:6.1f} ({m[k] / base[k]:.2f})" if base[k] else f"{k} {m[k]:6.1f}" for k in KINDS))
