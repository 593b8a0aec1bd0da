#!/usr/bin/env python3
"""A/B of builds by the parse thread's and libuv's pool's CPU of a `detect --workers 1` run (the
pool reads and inflates the gzip objects ahead: read.ts inflateAhead): each build under
thread-cpu-ns.py ROUNDS times, alternated. In tid order the parse thread is the one before the
shard (the last), the pool's four threads the four before the parse thread. A BUILD is
LABEL=DIST or LABEL=DIST:NAME=VALUE (an environment variable for that build's runs), as in
shard-cpu-ab.py. Prints medians (ms) of parse, pool, parse + pool, shard, all threads, and the
ratio of parse + pool to the first build's.
   python3 bench/probes/parse-pool-ab.py 11 base=/work/base14/dist new=dist -- INPUT --out /tmp/x --workers 1 --quiet --no-enrich
"""
import os, re, statistics, subprocess, sys

rounds = int(sys.argv[1])
split = sys.argv.index('--')
builds = [a.split('=', 1) for a in sys.argv[2:split]]
args = sys.argv[split + 1:]
probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'thread-cpu-ns.py')
res = {label: [] for label, _ in builds}
for _ in range(rounds):
    for label, build in builds:
        env = dict(os.environ)
        dist, _, setting = build.partition(':')
        if setting:
            name, value = setting.split('=', 1)
            env[name] = value
        out = subprocess.run(['python3', probe, 'node', f'{dist}/src/cli/main.js', 'detect'] + args, capture_output=True, text=True, env=env).stdout
        threads = [c for _, c in sorted((int(t), float(c)) for t, c in re.findall(r'tid (\d+) cpu ([\d.]+) ms', out))]
        parse, shard, pool = threads[-2], threads[-1], sum(threads[-6:-2])
        res[label].append((parse, pool, parse + pool, shard, sum(threads)))
first = None
for label, _ in builds:
    parse, pool, both, shard, total = (statistics.median(c) for c in zip(*res[label]))
    first = first or both
    print(label.ljust(6), f'parse {parse:7.1f}  pool {pool:7.1f}  parse+pool {both:7.1f} ({both / first:.3f})  shard {shard:7.1f}  all {total:7.1f}', [round(r[2]) for r in res[label]])
