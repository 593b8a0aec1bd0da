#!/usr/bin/env python3
"""Wall-time A/B on a shared machine: waits for a quiet moment (the other processes used
under 5 % of the cores over the last half second), then runs each command once, in
alternating order, and keeps the pair only if the others stayed under MAX_OTHERS of the cores
during both runs (machine busy time from /proc/stat less this run's own CPU from wait4).
Stops after PAIRS kept pairs or SECONDS; prints every kept pair and the medians.
   python3 bench/probes/quiet-ab.py PAIRS SECONDS 'base=CMD' 'new=CMD' ['more=CMD'...] [MAX_OTHERS=0.1]
More than two commands: each round runs them all, in an order that turns by one each round (the
first command's figures are the ratios' base).
QUIET_PRE=0.3 (environment) starts a pair once the others used under that share of the cores over the
last half second (default 0.05): with several engineers each waiting for a quiet moment, none may come.
"""
import os, sys, time, statistics, subprocess

PRE = float(os.environ.get('QUIET_PRE', '0.05'))
pairs, budget = int(sys.argv[1]), float(sys.argv[2])
rest = sys.argv[3:]
max_others = 0.1
if rest and '=' not in rest[-1]: max_others = float(rest.pop())
cmds = [a.split('=', 1) for a in rest]
hz = os.sysconf('SC_CLK_TCK'); cores = os.cpu_count()

def busy():
    with open('/proc/stat') as f: v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / hz  # all but idle and iowait, in seconds

def run(cmd):
    b0, t0 = busy(), time.perf_counter()
    p = subprocess.Popen(['bash', '-c', cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    cpu = ru.ru_utime + ru.ru_stime
    others = max(0.0, busy() - b0 - cpu) / (wall * cores)
    return wall * 1000, cpu * 1000, others

kept = {l: [] for l, _ in cmds}
start = time.time(); k = 0; tries = 0
while len(kept[cmds[0][0]]) < pairs and time.time() - start < budget:
    b0 = busy(); time.sleep(0.5)
    if (busy() - b0) / (0.5 * cores) > PRE: continue
    tries += 1
    order = (cmds if k % 2 == 0 else cmds[::-1]) if len(cmds) == 2 else cmds[k % len(cmds):] + cmds[:k % len(cmds)]
    got = {l: run(c) for l, c in order}
    if all(g[2] <= max_others for g in got.values()):
        k += 1
        for l, g in got.items(): kept[l].append(g)
        print(' '.join(f"{l} wall {g[0]:.0f} cpu {g[1]:.0f} others {g[2]:.2f}" for l, g in got.items()), flush=True)
print(f"kept {k} pairs of {tries} tried in {time.time() - start:.0f} s")
base = None
for l, _ in cmds:
    if not kept[l]: continue
    w = statistics.median(g[0] for g in kept[l]); c = statistics.median(g[1] for g in kept[l])
    base = base or (w, c)
    print(f"{l:8s} wall {w:7.1f} ms  cpu {c:7.1f} ms  ratio wall {w / base[0]:.3f} cpu {c / base[1]:.3f}  walls={[round(g[0]) for g in kept[l]]}")
