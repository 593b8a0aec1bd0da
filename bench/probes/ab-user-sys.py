#!/usr/bin/env python3
"""A/B of whole commands by user and system CPU apart (wait4) and minor page faults, medians, the
order turned every round: where ab-cpu.py gives user + sys, this tells a change of the kernel's
share (page faults, their flushes) from one of the program's (session 22, replay: the replay
index's zero-page faults).
   python3 bench/probes/ab-user-sys.py ROUNDS 'base=CMD' 'new=CMD' ['more=CMD' ...]"""
import os, sys, subprocess, statistics
rounds = int(sys.argv[1]); cmds = [a.split('=', 1) for a in sys.argv[2:]]
res = {l: [] for l, _ in cmds}
for r in range(rounds):
    for label, cmd in (cmds if r % 2 == 0 else cmds[::-1]):
        p = subprocess.Popen(['bash', '-c', cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, st, ru = os.wait4(p.pid, 0)
        res[label].append((ru.ru_utime * 1000, ru.ru_stime * 1000, ru.ru_minflt))
b = None
for label, _ in cmds:
    u = statistics.median(x[0] for x in res[label]); s = statistics.median(x[1] for x in res[label]); f = statistics.median(x[2] for x in res[label])
    t = statistics.median(x[0] + x[1] for x in res[label])
    if b is None: b = (u, s, t)
    print(f"{label:6} user {u:7.1f} ({u/b[0]:.3f})  sys {s:6.1f} ({s/b[1]:.3f})  total {t:7.1f} ({t/b[2]:.3f})  minflt {f:.0f}")
