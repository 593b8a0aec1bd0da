#!/usr/bin/env python3
"""CPU of each thread of `detect` for two (or more) builds, alternated: V8's helper threads (the
four made after the main thread, and the one idle thread before them), libuv's, and the workers,
from /proc every 3 ms (10 ms ticks). Unlike thread-cpu-tid.py it keeps threads of no CPU, so the
positions hold: tid order is main, an idle thread, 4 V8 helpers, 4 libuv threads, then the workers.
   python3 bench/probes/v8-helpers-ab.py ROUNDS WORKERS FILE BASE_DIST NEW_DIST
"""
import os, sys, time, subprocess, statistics
rounds = int(sys.argv[1]); W = int(sys.argv[2]); f = sys.argv[3]; builds = sys.argv[4:]
hz = os.sysconf('SC_CLK_TCK'); res = {b: [] for b in builds}

def run(b):
    out = '/tmp/v8-helpers-ab-out'; subprocess.run(['rm', '-rf', out])
    p = subprocess.Popen(['node', f'{b}/src/cli/main.js', 'detect', f, '--out', out, '--quiet', '--no-enrich', '--workers', str(W)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = {}
    while p.poll() is None:
        try: tasks = os.listdir(f'/proc/{p.pid}/task')
        except OSError: break
        for t in tasks:
            try: st = open(f'/proc/{p.pid}/task/{t}/stat').read()
            except OSError: continue
            x = st[st.rindex(')') + 2:].split(); v = int(x[11]) + int(x[12])
            if v >= best.get(t, 0): best[t] = v
        time.sleep(0.003)
    return [best[t] * 1000 // hz for t in sorted(best, key=int)]

for r in range(rounds):
    for b in builds:
        t = run(b); res[b].append(t)
        print(b, 'main', t[0], 'v8', t[1:6], 'sum', sum(t[1:6]), 'libuv', sum(t[6:-W]), 'workers', t[-W:], 'all', sum(t), flush=True)
for b in builds:
    col = lambda g: statistics.median(g(t) for t in res[b])
    print(f'{b}: median V8 helpers {col(lambda t: sum(t[1:6]))} ms, main {col(lambda t: t[0])}, '
          f'workers {col(lambda t: sum(t[-W:]))}, all threads {col(sum)} ms over {rounds}')
