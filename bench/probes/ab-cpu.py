#!/usr/bin/env python3
"""A/B of whole commands: each LABEL=COMMAND run ROUNDS times, alternated, and the medians of
wall and CPU (user + sys of the process and its threads, from wait4: microseconds, where
bash's and /usr/bin/time's are 10 ms), with the ratio to the first command.
   python3 bench/probes/ab-cpu.py ROUNDS 'base=node /tmp/base/dist/src/cli/main.js detect F --out /tmp/a --quiet' 'new=node dist/src/cli/main.js detect F --out /tmp/b --quiet'
"""
import os, sys, time, shlex, statistics, subprocess
rounds = int(sys.argv[1]); cmds = [a.split('=', 1) for a in sys.argv[2:]]
res = {l: [] for l, _ in cmds}
for r in range(rounds):
    for label, cmd in cmds:
        t0 = time.perf_counter()
        p = subprocess.Popen(['bash', '-c', cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        w = time.perf_counter() - t0
        res[label].append((w * 1000, (ru.ru_utime + ru.ru_stime) * 1000, os.waitstatus_to_exitcode(status)))
base = None
for label, _ in cmds:
    w = statistics.median(x[0] for x in res[label]); c = statistics.median(x[1] for x in res[label])
    codes = sorted(set(x[2] for x in res[label]))
    if base is None: base = (w, c)
    print(f"{label:32s} wall {w:7.1f} ms  cpu {c:7.1f} ms   ratio wall {w/base[0]:.2f} cpu {c/base[1]:.2f}  rc={codes} cpu-all={[round(x[1]) for x in res[label]]}")
