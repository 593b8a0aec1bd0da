#!/usr/bin/env python3
"""A/B of one build with and without an environment setting, by thread group (as
thread-cpu-ab.py does for two builds): `detect` run under thread-cpu-ns.py ROUNDS times each,
alternated, and the medians of the main thread, V8's four helpers, libuv's four, the parse
and the shard thread (--workers 1) and their sum. Prime the build with one run first.
   python3 bench/probes/thread-cpu-env-ab.py 11 FLOWSIEVE_SHARED_ARENA=off -- INPUT --out /tmp/x --quiet --no-enrich
"""
import os, re, statistics, subprocess, sys

rounds = int(sys.argv[1])
name, value = sys.argv[2].split('=', 1)
args = sys.argv[sys.argv.index('--') + 1:]
probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'thread-cpu-ns.py')
dist = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'dist')
names = ['main', 'v8', 'uv', 'parse', 'shard', 'all']
res = {'as is': [], sys.argv[2]: []}
for _ in range(rounds):
    for label in res:
        env = dict(os.environ)
        if label != 'as is': env[name] = value
        out = subprocess.run(['python3', probe, 'node', f'{dist}/src/cli/main.js', 'detect'] + args, capture_output=True, text=True, env=env).stdout
        v = [x for x in (float(m) for m in re.findall(r'cpu ([\d.]+) ms', out)) if x >= 3]
        at = lambda i: v[i] if len(v) > i else 0.0
        res[label].append((at(0), sum(v[1:5]), sum(v[5:9]), at(9), at(10), sum(v)))
for label in res:
    cols = list(zip(*res[label]))
    print(label.ljust(30), '  '.join(f'{n} {statistics.median(c):7.1f}' for n, c in zip(names, cols)))
    print('   shard, each round:', [round(x) for x in cols[4]], ' V8 helpers:', [round(x) for x in cols[1]])
