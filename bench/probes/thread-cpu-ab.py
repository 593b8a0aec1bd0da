#!/usr/bin/env python3
"""A/B of two or more builds by thread group: each build's `detect` run under thread-cpu-ns.py
ROUNDS times, alternated, and the medians of the main thread, V8's four helper threads,
libuv's pool threads (and any other), the parse and the shard thread (--workers 1: the last two made), and their sum. Threads
under 3 ms (Node's signal and inspector threads) are left out first, so the rest fall in tid
order: main, 4 V8 helpers, 4 libuv, parse, shard. Prime each build with one run first.
   python3 bench/probes/thread-cpu-ab.py 7 base=/tmp/base/dist new=dist -- INPUT --out /tmp/x --quiet --no-enrich
"""
import os, re, statistics, subprocess, sys

rounds = int(sys.argv[1])
split = sys.argv.index('--')
builds = [a.split('=', 1) for a in sys.argv[2:split]]
args = sys.argv[split + 1:]
probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'thread-cpu-ns.py')
names = ['main', 'v8', 'uv', 'parse', 'shard', 'all']
res = {label: [] for label, _ in builds}
for _ in range(rounds):
    for label, dist in builds:
        out = subprocess.run(['python3', probe, 'node', f'{dist}/src/cli/main.js', 'detect'] + args, capture_output=True, text=True).stdout
        v = [x for x in (float(m) for m in re.findall(r'cpu ([\d.]+) ms', out)) if x >= 3]
        at = lambda i: v[i] if len(v) > i else 0.0
        # parse and shard: the last two threads made (a 7 M-record run had one thread more
        # under 'uv' than fixed slots expect, which put a pool thread under 'parse')
        res[label].append((at(0), sum(v[1:5]), sum(v[5:-2]), v[-2] if len(v) > 10 else 0.0, v[-1] if len(v) > 10 else 0.0, sum(v)))
for label, _ in builds:
    cols = list(zip(*res[label]))
    print(label.ljust(8), '  '.join(f'{n} {statistics.median(c):7.1f}' for n, c in zip(names, cols)))
    print('         V8 helpers, each round:', [round(x) for x in cols[1]])
