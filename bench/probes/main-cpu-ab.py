#!/usr/bin/env python3
"""A/B of whole commands by the main thread's CPU (its scheduler run time, polled every 2 ms:
thread_poll.run_times; the main thread is the lowest tid) and the other threads' together:
each LABEL=COMMAND run ROUNDS times, alternated; medians and the ratio to the first command.
What a start-up change (a snapshot, lazy modules) moves is the main thread's, which the whole
process's CPU (ab-cpu.py) buries under the worker threads' noise on a loaded machine.
   python3 bench/probes/main-cpu-ab.py ROUNDS 'base=node /work/base20/dist/src/cli/main.cjs detect F --out /tmp/a --quiet' 'new=...'
"""
import shlex, statistics, sys
from thread_poll import run_times

rounds = int(sys.argv[1])
cmds = [a.split('=', 1) for a in sys.argv[2:]]
res = {label: [] for label, _ in cmds}
for _ in range(rounds):
    for label, cmd in cmds:
        best = run_times(['bash', '-c', f'exec {cmd}'])
        tids = sorted(best, key=int)
        main = best[tids[0]] / 1e6 if tids else 0.0
        others = sum(best[t] for t in tids[1:]) / 1e6
        res[label].append((main, others))
first = None
for label, _ in cmds:
    main = statistics.median(r[0] for r in res[label])
    others = statistics.median(r[1] for r in res[label])
    first = first or (main, others)
    print(f'{label:10s} main {main:7.1f} ms ({main / first[0]:.3f})  others {others:7.1f} ms ({others / first[1] if first[1] else 0:.3f})  main-all',
          [round(r[0]) for r in res[label]])
