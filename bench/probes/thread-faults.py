#!/usr/bin/env python3
"""CPU and minor page faults of each thread of one command, in tid order (a detect run at one
worker: main, 4 V8 helpers, 4 libuv, parse, shard), polled from /proc every 5 ms (10 ms ticks).
A first touch of fresh memory (a batch ring slot, a module's memory) is a minor fault, ~1 us here.
   python3 bench/probes/thread-faults.py node dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich"""
import os, sys, time, subprocess
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
cpu, faults = {}, {}
hz = os.sysconf('SC_CLK_TCK')
while p.poll() is None:
    try: tasks = os.listdir(f'/proc/{p.pid}/task')
    except OSError: break
    for t in tasks:
        try: st = open(f'/proc/{p.pid}/task/{t}/stat').read()
        except OSError: continue
        f = st[st.rindex(')') + 2:].split()
        cpu[t] = max(cpu.get(t, 0), int(f[11]) + int(f[12]))
        faults[t] = max(faults.get(t, 0), int(f[7]))
    time.sleep(0.005)
print('  '.join(f'{t}: {cpu[t] * 1000 // hz} ms {faults[t]} faults' for t in sorted(cpu, key=int) if cpu[t] > 1))
