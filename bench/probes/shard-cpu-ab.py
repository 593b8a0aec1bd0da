#!/usr/bin/env python3
"""A/B of builds by the shard and parse threads' CPU of a `detect --workers 1` run: each build
under thread-cpu-ns.py ROUNDS times, alternated; the shard is the last thread in tid order, the
parse thread the one before it, whatever Node's small threads do (and libuv's pool, which reads and inflates the gzip objects
ahead, the four threads before the parse thread: pool, and parse+pool with its ratio to the
first build's). Unlike thread-cpu-ab.py, a
BUILD may be one build under a setting: LABEL=DIST or LABEL=DIST:NAME=VALUE (an environment
variable for that build's runs), so a switch is measured against the same build.
   python3 bench/probes/shard-cpu-ab.py 11 base=/tmp/base/dist new=dist off=dist:FLOWSIEVE_POPULATE=off -- INPUT --out /tmp/x --workers 1 --quiet --no-enrich
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
        threads = sorted((int(t), float(c)) for t, c in re.findall(r'tid (\d+) cpu ([\d.]+) ms', out))
        # libuv's pool (each gzip object's read and inflate ahead): the four threads before the parse thread
        pool = sum(c for _, c in threads[-6:-2])
        res[label].append((threads[-1][1], threads[-2][1], sum(c for _, c in threads), pool, threads[-2][1] + pool))
first = None
for label, _ in builds:
    shard, parse, total, pool, both = (statistics.median(c) for c in zip(*res[label]))
    first = first or both
    print(label.ljust(6), f'shard {shard:7.1f}  parse {parse:7.1f}  all {total:7.1f}', [round(r[0]) for r in res[label]],
          f' pool {pool:7.1f}  parse+pool {both:7.1f} ({both / first:.3f})', [round(r[4]) for r in res[label]])
