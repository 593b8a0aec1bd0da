#!/usr/bin/env python3
"""Wall-time A/B on a loaded machine, near what a quiet one gives: each LABEL=COMMAND run ROUNDS
times, alternated, under SCHED_RR (`chrt -r 1`, inherited by every thread of the command), with
the round-robin time slice set to SLICE ms (default 2) for the A/B and set back after. A real-time
thread runs before every normal one, so the other sessions' processes no longer take the cores
(the kernel still keeps 5 % for them: sched_rt_runtime_us); a short slice shares the cores among the
command's own threads about as CFS would (with the default 100 ms slice a thread that wakes waits
for a whole slice whenever more threads than cores are runnable, which penalises the start of a
run, where main, worker boots and V8's helpers overlap). Needs root (chrt, the sysctl); only
SCHED_RR threads are affected by the slice. Prints wall and CPU medians as ab-cpu.py does.
   python3 bench/probes/rr-ab.py ROUNDS 'base=node /work/base14/dist/src/cli/main.js detect F --out /tmp/a --quiet' 'new=node dist/src/cli/main.js detect F --out /tmp/b --quiet' [SLICE_MS]
"""
import os, sys, time, statistics, subprocess
rounds = int(sys.argv[1])
cmds = [a.split('=', 1) for a in sys.argv[2:] if '=' in a]
slice_ms = next((a for a in sys.argv[2:] if '=' not in a), '2')
knob = '/proc/sys/kernel/sched_rr_timeslice_ms'
before = open(knob).read().strip()
res = {l: [] for l, _ in cmds}
try:
    open(knob, 'w').write(slice_ms)
    for r in range(rounds):
        for label, cmd in cmds:
            t0 = time.perf_counter()
            p = subprocess.Popen(['chrt', '-r', '1', 'bash', '-c', cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            w = time.perf_counter() - t0
            res[label].append((w * 1000, (ru.ru_utime + ru.ru_stime) * 1000, os.waitstatus_to_exitcode(status)))
finally:
    open(knob, 'w').write(before)
base = None
for label, _ in cmds:
    w = statistics.median(x[0] for x in res[label]); c = statistics.median(x[1] for x in res[label])
    base = base or (w, c)
    print(f"{label:12s} wall {w:7.1f} ms  cpu {c:7.1f} ms   ratio wall {w/base[0]:.3f} cpu {c/base[1]:.3f}  rc={sorted(set(x[2] for x in res[label]))} walls={[round(x[0]) for x in res[label]]}")
print(f"slice {slice_ms} ms (was {before}), SCHED_RR priority 1")
