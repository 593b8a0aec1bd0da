#!/usr/bin/env python3
"""Every batch of a `detect` run on one side of the hand-over and the other: wall-clock marks (one
clock for every thread, ms from the main thread's preload) at each block a range reads in the main
thread (a build that parses there: `P block`, engine/parse-here.ts) or each batch a parse thread posts
(`P post`), each batch the main thread routes (`M route`) and hears added (`M done`), each shard
task's start and end (`S add start` ...), and the run's steps (ingest done, finalised, exit). Copies a
built dist/ (without its code caches) to WORK/mdist, with WORK/node_modules linked to the repository's,
puts the marks into the copy's bundles, runs detect N times (the first writes the copy's caches and is
not shown), prints one line a run (first and last block and route, the shard's first and last add,
its add time and the gaps between adds, the finalise's steps) and leaves the last run's marks in
WORK/marks.log (thread, mark, ms) for a closer look.
   python3 bench/probes/batch-marks.py dist /tmp/bm 5 detect FILE --out /tmp/bm/o --quiet --no-enrich
"""
import os, re, shutil, subprocess, sys, glob
src, work, n, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
dest = os.path.join(work, 'mdist')
os.makedirs(work, exist_ok=True)
shutil.rmtree(dest, ignore_errors=True)
shutil.copytree(src, dest, ignore=shutil.ignore_patterns('*.v8cache'))
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not os.path.exists(os.path.join(work, 'node_modules')):
    os.symlink(os.path.join(repo, 'node_modules'), os.path.join(work, 'node_modules'))
shutil.copy(os.path.join(repo, 'package.json'), os.path.join(work, 'package.json'))
LOG = os.path.join(work, 'marks.log')
MK = ("const __mk=(n)=>{require('fs').appendFileSync(%r, require('worker_threads').threadId+'\\t'+n+'\\t'+(performance.timeOrigin+performance.now()).toFixed(2)+'\\n')};\n" % LOG)
def patch(path, pairs):
    s = open(path).read()
    for a, b in pairs:
        if a not in s: print('anchor missing', path, a[:60]); continue
        s = s.replace(a, b, 1)
    m = re.match(r'(#![^\n]*\n)?(["\']use strict["\'];?\n)?', s)
    s = s[:m.end()] + MK + s[m.end():]
    open(path, 'w').write(s)
patch(f'{dest}/workers/shard.bundle.cjs', [
  ('function shardTask(task) {\n', 'function shardTask(task) {\n\t__mk("S " + task.op + " start");\n\ttry { return shardTask0(task); } finally { __mk("S " + task.op + " end"); }\n}\nfunction shardTask0(task) {\n'),
])
run = glob.glob(f'{dest}/src/bundle/run-*.cjs')[0]
patch(run, [
  ('async function runToResults(engine, opts, t0) {\n', 'async function runToResults(engine, opts, t0) {\n__mk("M runToResults");\n'),
  ('const parsingClosed = engine.closeParsing();', '__mk("M ingest done"); const parsingClosed = engine.closeParsing();'),
  ('\tawait parsingClosed;\n', '\tawait parsingClosed;\n__mk("M finalized");\n'),
  ('\troute(m) {\n', '\troute(m) {\n__mk("M route");\n'),
  ('Atomics.sub(this.inflight, 0, 1);', '__mk("M done"); Atomics.sub(this.inflight, 0, 1);'),
])
for p in glob.glob(f'{dest}/workers/parse.bundle.cjs'):
    patch(p, [('\t\t\tyield;\n', '\t\t\t__mk("P block");\n\t\t\tyield;\n'),
              ('\ttask.port.postMessage({', '\t__mk("P post");\n\ttask.port.postMessage({'),
              ('function readLineRange(path, start, end, parser, maxLineBytes) {\n', 'function readLineRange(path, start, end, parser, maxLineBytes) {\n__mk("P range");\n')])
pre = os.path.join(work, 'exitmark.cjs')
open(pre, 'w').write(MK + "__mk('M boot');process.on('exit', () => __mk('M exit'));\n")
allruns = []
for r in range(n):
    if os.path.exists(LOG): os.remove(LOG)
    subprocess.run(['node', '-r', pre, f'{dest}/src/cli/main.js'] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r == 0: continue  # primes the copy's code caches
    lines = [l.split('\t') for l in open(LOG).read().strip().split('\n')]
    ev = [(float(t), tid, name) for tid, name, t in lines]
    ev.sort()
    base = ev[0][0]
    def first(pred):
        x = [t for t, tid, nm in ev if pred(tid, nm)]; return (x[0] - base) if x else None
    def last(pred):
        x = [t for t, tid, nm in ev if pred(tid, nm)]; return (x[-1] - base) if x else None
    adds = [(t, nm) for t, tid, nm in ev if nm.startswith('S add')]
    busy, st, idle_after_first, prev_end = 0, None, 0, None
    for t, nm in adds:
        if nm.endswith('start'):
            st = t
            if prev_end is not None: idle_after_first += t - prev_end
        else: busy += t - st; prev_end = t
    row = dict(
      runToResults=first(lambda i, nm: nm == 'M runToResults'),
      first_block=first(lambda i, nm: nm.startswith('P block')),
      last_block=last(lambda i, nm: nm.startswith('P block')),
      S_memlimits=first(lambda i, nm: nm == 'S memoryLimits start'),
      S_first_add=first(lambda i, nm: nm == 'S add start'),
      S_last_add=last(lambda i, nm: nm == 'S add end'),
      add_busy=busy, add_gaps=idle_after_first, nadds=len(adds)//2,
      first_route=first(lambda i, nm: nm == 'M route'),
      last_route=last(lambda i, nm: nm == 'M route'),
      flushHeld=' '.join(f'{t-base:.0f}' for t, i, nm in ev if nm.startswith('S flushHeld')),
      ingest_done=first(lambda i, nm: nm == 'M ingest done'),
      fin_in_start=first(lambda i, nm: nm == 'S finalizeInbound start'),
      fin_in_end=first(lambda i, nm: nm == 'S finalizeInbound end'),
      fin_out_end=first(lambda i, nm: nm == 'S finalizeOutbound end'),
      finalized=first(lambda i, nm: nm == 'M finalized'),
      exit=first(lambda i, nm: nm == 'M exit'))
    allruns.append(row)
    print(' '.join(f'{k}={v:.1f}' if isinstance(v, float) else f'{k}={v}' for k, v in row.items()))
