#!/usr/bin/env python3
"""CPU per thread of one command, sampling /proc/PID/task every 5 ms; whole-process CPU from wait4.
   python3 bench/probes/thread-cpu-5ms.py node dist/src/cli/main.js detect INPUT --quiet --no-enrich --out DIR
Prints wall, the process's CPU, the main thread's (the process's less the other threads': so it
also holds what the others spent after their last sample, their exit), V8's helper threads
(the five threads Node starts first: the delayed-task scheduler and four platform workers),
and every other thread as offset-from-the-main-tid@start-tick:CPU s (Node 20 names no thread:
the four libuv pool threads start together, the worker threads last)."""
import os, sys, time, subprocess
hz = os.sysconf('SC_CLK_TCK')
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
best = {}; names = {}; t0 = time.perf_counter()
while True:
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid != 0: break
    try: tids = os.listdir(f'/proc/{p.pid}/task')
    except OSError: tids = []
    for tid in tids:
        try:
            with open(f'/proc/{p.pid}/task/{tid}/stat') as f: s = f.read()
            fields = s[s.rindex(')')+2:].split()
            if tid not in names: names[tid] = int(fields[19])
            v = int(fields[11]) + int(fields[12])
            if v > best.get(tid, -1): best[tid] = v
        except OSError: pass
    time.sleep(0.005)
wall = time.perf_counter() - t0
total = ru.ru_utime + ru.ru_stime
main = str(p.pid)
others = sum(v for t, v in best.items() if t != main) / hz

tids = sorted(best, key=int)
st0 = names.get(main, 0)
v8 = [t for t in tids if 1 <= int(t) - int(main) <= 5]
rest = [t for t in tids if t != main and t not in v8]
print(f"wall {wall:.3f} total {total:.3f} main {total-others:.3f} (sampled {best.get(main,0)/hz:.3f})  v8 {sum(best[t] for t in v8)/hz:.3f}")
print("  others by tid (start tick, cpu):", ' '.join(f"{int(t)-int(main)}@{names[t]-st0}:{best[t]/hz:.2f}" for t in rest))
