#!/usr/bin/env python3
"""What V8 compiled more than once in a run, and why: runs a command (node first) ROUNDS times
under --trace-opt --trace-deopt-verbose (the flags reach worker threads too) and prints per
round the TurboFan compiles, the recompiles (same function of the same isolate compiled again:
OSR + whole, or after a deopt) and the deopts; then each deopt site (function, kind, reason,
source position with its inlining) with how many rounds had it, and the largest compiles
(the middle 'took' figure is the compile thread's wall time, so it grows with the load).
   python3 bench/probes/v8-recompiles.py 3 node dist/src/cli/main.js detect DIR --out /tmp/x --quiet --no-enrich
"""
import re, sys, subprocess, collections
rc = re.compile(r'completed compiling 0x\w+ <JSFunction (\S*) ?\(sfi = (0x\w+)\)> \(target TURBOFAN\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms')
rd = re.compile(r'bailout \(kind: ([\w-]+), reason: (.*?)\): begin. deoptimizing 0x\w+ <JSFunction (\S*) ?\(sfi = (0x\w+)\)>')
rounds, cmd = int(sys.argv[1]), sys.argv[2:]
sites, again, took = collections.Counter(), collections.Counter(), collections.defaultdict(float)
for r in range(rounds):
    out = subprocess.run([cmd[0], '--trace-opt', '--trace-deopt-verbose'] + cmd[1:], capture_output=True, text=True, errors='replace').stdout
    comp, deopts, last = collections.Counter(), 0, None
    for line in out.splitlines():
        if ';;; deoptimize at' in line and last is not None:
            sites[last + (re.sub(r'/\S*/(dist|node_modules)/', r'\1/', line.split('deoptimize at', 1)[1].strip()),)] += 1
            last = None
            continue
        m = rc.search(line)
        if m:
            name = (m.group(1) or '<anon>')
            comp[(name, m.group(2))] += 1
            took[name + (m.group(3) or '')] += sum(map(float, m.group(4, 5, 6))) / rounds
            continue
        m = rd.search(line)
        if m:
            deopts += 1
            last = (m.group(3) or '<anon>', m.group(1), m.group(2))
    for (name, _), n in comp.items():
        if n > 1: again[name] += n - 1
    print(f'round {r + 1}: compiles {sum(comp.values())}, recompiles {sum(n - 1 for n in comp.values() if n > 1)}, deopts {deopts}')
print('recompiled (all rounds):', dict(again))
for k, n in sorted(sites.items(), key=lambda kv: -kv[1]): print(f'  {n}/{rounds}', *k)
print('largest compiles (ms a round):', ', '.join(f'{k} {v:.1f}' for k, v in sorted(took.items(), key=lambda kv: -kv[1])[:12]))
