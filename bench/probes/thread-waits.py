#!/usr/bin/env python3
"""Why a core is idle: for each thread of one command, over its life, the time it ran, the time it
was runnable but waited for a core (schedstat's field 2) and the time it slept (blocked: on a
futex, a read, an Atomics.wait), with its voluntary and involuntary context switches. If a core
is idle while the threads' runqueue wait is small, they are blocked on each other. Threads in
tid order (a detect run at 1 worker: main, V8's four helpers, libuv's four, the parse thread,
the shard thread); polled every 5 ms, so a thread's figures miss up to its last 5 ms.
   python3 bench/probes/thread-waits.py node dist/src/cli/main.js detect DIR --out /tmp/x --no-enrich --quiet
"""
import os, sys, time, subprocess

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time()
seen = {}  # tid -> [first, last, run ns, wait ns, vol, invol, name]
while p.poll() is None:
    try:
        tasks = os.listdir(f'/proc/{p.pid}/task')
    except OSError:
        break
    now = time.time() - t0
    for t in tasks:
        d = f'/proc/{p.pid}/task/{t}'
        try:
            run, wait, _ = (int(x) for x in open(f'{d}/schedstat').read().split())
            status = open(f'{d}/status').read()
        except (OSError, ValueError):
            continue
        vol = int(status.split('voluntary_ctxt_switches:')[1].split()[0])
        invol = int(status.split('nonvoluntary_ctxt_switches:')[1].split()[0])
        name = status.split('Name:')[1].split('\n')[0].strip()
        s = seen.setdefault(t, [now, now, 0, 0, 0, 0, name])
        s[1:] = [now, run, wait, vol, invol, name]
    time.sleep(0.005)
wall = time.time() - t0
print(f'{"tid":>8} {"name":<16} {"from":>6} {"to":>6} {"run":>6} {"rq-wait":>7} {"asleep":>6} {"vol":>6} {"invol":>6}  (ms; counts)')
tot = [0, 0]
for t in sorted(seen, key=int):
    first, last, run, wait, vol, invol, name = seen[t]
    life = (last - first) * 1e3
    tot[0] += run
    tot[1] += wait
    print(f'{t:>8} {name:<16} {first*1e3:6.0f} {last*1e3:6.0f} {run/1e6:6.0f} {wait/1e6:7.0f} {max(0, life - run/1e6 - wait/1e6):6.0f} {vol:6d} {invol:6d}')
print(f'wall {wall*1e3:.0f} ms, run {tot[0]/1e6:.0f} ms ({tot[0]/1e9/wall:.2f} cores), runqueue wait {tot[1]/1e6:.0f} ms')
