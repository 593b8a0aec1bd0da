#!/usr/bin/env python3
"""Who ran one leaf symbol in one thread of a `perf record -g` run: the samples whose innermost
frame matches LEAF, grouped by their first two JavaScript / builtin / native-module frames (e.g.
clear_page_erms <- copyRun <- copyRouted: the batch ring's first touch in a parse thread).
perf-leaf.py says which leaves a thread ran; this says from where one of them was reached.
Session 22 parsecopy.
   perf record -e cpu-clock -F 2000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich --workers 1
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/perf-leaf-callers.py P.txt TID LEAF [HZ=2000]
"""
import collections, sys

path, tid, leaf = sys.argv[1], sys.argv[2], sys.argv[3]
hz = float(sys.argv[4]) if len(sys.argv) > 4 else 2000
OURS = ('JS:', 'Builtins', 'deflate', 'napi', 'node::')
by = collections.Counter()
cur, stack = None, []


def flush():
    if cur == tid and stack and leaf in stack[0]:
        by[' <- '.join([f for f in stack if any(o in f for o in OURS)][:2]) or '(no caller named)'] += 1


for line in open(path, errors='replace'):
    if not line.strip():
        flush()
        cur, stack = None, []
    elif not line.startswith('\t'):
        cur, stack = line.split()[0], []
    else:
        part = line.split(None, 1)
        stack.append(part[1].strip() if len(part) > 1 else '?')
flush()
print(f'{sum(by.values()) * 1000 / hz:8.1f} ms  {leaf} in thread {tid}')
for caller, n in by.most_common(12):
    print(f'{n * 1000 / hz:8.1f}  {caller[:200]}')
