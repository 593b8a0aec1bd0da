#!/usr/bin/env python3
"""The main thread's serial end from saved tail-phases.mjs outputs: each phase's CPU (ms, median and each
run) after its part of the finalise, their sum, and the process's end after its exit event (wall).
   TAIL_RUNS=2 node bench/probes/tail-phases.mjs INPUT > A.txt; python3 bench/probes/tail-phases-sum.py A1.txt,A2.txt B1.txt ...
(a comma joins files of one build)."""
import sys,re,statistics,collections
names=['main:   outbound reply read','main:   verdicts sorted','main: merged inbound','main:   analysis (analysisNow)','main:   inbound outputs staged','main: outbound reply in','main: alerts built','main: detect has the result','main: close: code caches answered','main: after setImmediate','main: outputs written','main: close: pools destroyed','main: exit']
for label in sys.argv[1:]:
    files=label.split(',')
    per=collections.defaultdict(list); gaps=[]; serial=[]
    for f in files:
        runs=open(f).read().split('run ')[1:]
        for r in runs:
            lines=r.split('\n')
            tot=0; ex=None; pe=None
            for l in lines:
                m=re.match(r'\s*(-?[\d.]+)\s+t0\s+([\d.]+)\s+\d+\s+(.*)',l)
                if m:
                    for n in names:
                        if m.group(3).startswith(n): per[n].append(float(m.group(2))); tot+=float(m.group(2))
                    if m.group(3).startswith('main: exit'): ex=float(m.group(1))
                m2=re.match(r'\s*(-?[\d.]+)\s+parent',l)
                if m2: pe=float(m2.group(1))
            serial.append(tot)
            if ex is not None and pe is not None: gaps.append(pe-ex)
    print('==',label,'runs',len(serial))
    for n in names: print('  %-40s median %6.1f  %s'%(n,statistics.median(per[n]) if per[n] else float('nan'),' '.join('%.1f'%x for x in per[n])))
    print('  %-40s median %6.1f  %s'%('SUM main CPU after its part',statistics.median(serial),' '.join('%.1f'%x for x in serial)))
    print('  %-40s median %6.1f  %s'%('exit -> parent (wall)',statistics.median(gaps),' '.join('%.1f'%x for x in gaps)))
