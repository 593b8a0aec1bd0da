#!/usr/bin/env python3
"""A `perf record -g` run's samples under do_wp_page (a write to a page first mapped by a read: the
zero page's copy-on-write and the flush of its old mapping from the other cores, an
inter-processor interrupt) by thread and by the innermost JavaScript frame or builtin that
wrote, and each thread's total; ms at the sampling rate HZ (session 22, replay).
   perf record -e cpu-clock -F 2000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --workers 2
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/perf-wp-faults.py P.txt 2000"""
import collections, sys

path, hz = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 4000.0
ms = 1000.0 / hz
threads, wp, writers = collections.Counter(), collections.Counter(), collections.Counter()
for sample in open(path, errors='replace').read().split('\n\n'):
    lines = [l.strip() for l in sample.strip().split('\n')]
    if len(lines) < 2:
        continue
    tid = lines[0].split()[0]
    frames = [l.split(None, 1)[1] if len(l.split(None, 1)) > 1 else '' for l in lines[1:]]
    threads[tid] += 1
    if 'do_wp_page' in frames:
        wp[tid] += 1
        writer = next((f for f in frames if f.startswith('JS:') or f.startswith('Builtins_')), '?')
        writers[(tid, writer[:90])] += 1
for tid in sorted(threads, key=int):
    if wp[tid]:
        print(f"tid {tid}: {threads[tid] * ms:8.1f} ms in all, {wp[tid] * ms:6.1f} under do_wp_page")
for (tid, writer), n in writers.most_common(12):
    print(f"  {n * ms:6.1f}  {tid}  {writer}")
