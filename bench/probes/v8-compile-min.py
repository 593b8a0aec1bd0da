#!/usr/bin/env python3
"""TurboFan compile time by function, read through the load: runs a command (node first) ROUNDS
times under --trace-opt, sums each function's compile jobs a run (the three 'took' figures; OSR
compiles apart), and prints, per function, the smallest run's sum and the median, and the sum of
the smallest over all functions. 'took' is a compile job's wall time, which grows with the load
(on a shared 2-core machine several times over), so a function's smallest run is the best
estimate of its compile CPU that --trace-opt gives; compare two builds in the same minutes.
   python3 bench/probes/v8-compile-min.py 5 node dist/src/cli/main.js detect DIR --out /tmp/x --quiet --no-enrich
"""
import re, sys, subprocess, collections
rounds, cmd = int(sys.argv[1]), sys.argv[2:]
rc = re.compile(r'completed compiling 0x\w+ <JSFunction (\S*) ?\(sfi = (0x\w+)\)> \(target TURBOFAN\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms')
runs, counts = collections.defaultdict(list), []
for _ in range(rounds):
    out = subprocess.run([cmd[0], '--trace-opt'] + cmd[1:], capture_output=True, text=True, errors='replace').stdout
    per, n = collections.defaultdict(float), 0
    for line in out.splitlines():
        m = rc.search(line)
        if not m: continue
        per[(m.group(1) or '<anon>') + (m.group(3) or '')] += sum(map(float, m.group(4, 5, 6)))
        n += 1
    for k, v in per.items(): runs[k].append(v)
    counts.append(n)
print('compiles a run', counts)
least = {k: min(v) for k, v in runs.items()}
print('sum over functions of the smallest run (ms):', round(sum(least.values()), 1))
for k, v in sorted(least.items(), key=lambda kv: -kv[1])[:25]:
    print(f'{v:7.2f}  {k} (in {len(runs[k])}/{rounds} runs, median {sorted(runs[k])[len(runs[k]) // 2]:.2f})')
