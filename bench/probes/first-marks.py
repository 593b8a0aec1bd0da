#!/usr/bin/env python3
"""When the first parse task of a run starts, reads and hands its first batch on: copies a built
dist/ to DEST, puts a one-shot mark (wall clock, ms since the process began, and the thread) at
the first call of each step below into the copy's bundles, then runs a detect command with the
copy N times and prints each run's marks in time order. Marks: main: detectThenClose,
planInputs, the first parse task handed to the pool (main-parsePool.run); parse thread (tidN;
in a fused run the shard thread parses too under its own id): bundle loaded, task arrives
(task-MODE), readLinesInto / readDocumentInto, readLineRange, its first read() back (read1) and
first block parsed (push1), first ring slot, first batch posted; shard thread (SN): bundle
loaded, first task. The copy must sit where node finds node_modules (inside the repository).
   python3 bench/probes/first-marks.py dist mdist 4 detect /work/data/json-10-1/gcp --out /tmp/x --quiet --no-enrich
"""
import os, re, shutil, subprocess, sys, glob

src, dest, n, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
shutil.rmtree(dest, ignore_errors=True)
shutil.copytree(src, dest, ignore=shutil.ignore_patterns('*.v8cache'))

def mk(who):
    return ('const __mk=(n)=>{globalThis.__mks??=new Set();if(!globalThis.__mks.has(n)){globalThis.__mks.add(n);'
            'process._rawDebug("MARK "+n+" "+(performance.timeOrigin+performance.now()).toFixed(1)+" "+' + who + ');}};\n')

def patch(path, who, at_fn, extra=()):
    s = open(path).read()
    head = s.index('\n', s.index('});')) + 1 if s.startswith('Object.define') else (s.index('\n') + 1 if s.startswith('#!') or s.startswith('const require_') else 0)
    for name in at_fn:  # a mark at the first call of each function
        m = re.search(r'\n((?:async )?function\*? ' + re.escape(name) + r'\([^)]*\) \{\n)', s)
        if not m:
            print(f'# {os.path.basename(path)}: {name} not found', file=sys.stderr); continue
        s = s[:m.end()] + f'__mk("{name}");\n' + s[m.end():]
    for old, new in extra:
        if old in s: s = s.replace(old, new, 1)
        else: print(f'# {os.path.basename(path)}: {old[:40]!r} not found', file=sys.stderr)
    if 'const __mk=' not in s: s = s[:head] + mk(who) + s[head:]
    open(path, 'w').write(s)

wt = '(require("node:worker_threads").threadId)'
patch(f'{dest}/workers/parse.bundle.cjs', '"tid"+' + wt,
      ['parseWithSink', 'readLinesInto', 'readDocumentInto', 'readLineRange', 'readPlainReused', 'postBatch', 'takeRingSlot'],
      [('function parseChunk(task) {\n', 'function parseChunk(task) {\n__mk("task-"+task.mode);\n'),
       ('feeder.push(into.subarray(0, got));', '__mk("read1");feeder.push(into.subarray(0, got));__mk("push1");')])
patch(f'{dest}/workers/shard.bundle.cjs', '"S"+' + wt, ['shardTask'])
for f in glob.glob(f'{dest}/src/bundle/run-*.cjs'):
    patch(f, '"main"', ['detectThenClose', 'startEarlyParsePool', 'takeEarlyParsePool'], [('\t\t\tresult = await this.parsePool.run(task, {', '\t\t\t__mk("main-parsePool.run");\n\t\t\tresult = await this.parsePool.run(task, {')])
for f in glob.glob(f'{dest}/src/bundle/streamed-*.cjs'):
    patch(f, '"main"', ['planInputs'])
for f in glob.glob(f'{dest}/src/bundle/*.cjs'):  # where the Engine makes its pool (newPool) and any early one
    if '\nfunction newPool(' in open(f).read(): patch(f, '"main"', ['newPool'])
# the loaded marks: right after each worker bundle's mark helper
for f, name in ((f'{dest}/workers/parse.bundle.cjs', 'parse-loaded'), (f'{dest}/workers/shard.bundle.cjs', 'shard-loaded')):
    s = open(f).read(); i = s.index('\n', s.index('const __mk=')) + 1
    open(f, 'w').write(s[:i] + f'__mk("{name}");\n' + s[i:])
m = f'{dest}/src/cli/main.bundle.cjs'; s = open(m).read(); i = s.index('\n') + 1
open(m, 'w').write(s[:i] + 'process.on("exit",()=>process._rawDebug("MARK start "+performance.timeOrigin.toFixed(1)+" exit "+(performance.timeOrigin+performance.now()).toFixed(1)));\n' + s[i:])

import statistics
seen = {}
for _ in range(n):
    p = subprocess.run(['node', f'{dest}/src/cli/main.js', *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks = [l.split() for l in p.stderr.splitlines() if l.startswith('MARK ')]
    start = next((float(m[2]) for m in marks if m[1] == 'start'), None)
    if start is None: print('no start mark', p.stderr[-300:]); continue
    end = next(float(m[4]) for m in marks if m[1] == 'start')
    rows = sorted((float(m[2]) - start, m[1], m[3]) for m in marks if m[1] != 'start')
    print(' | '.join(f'{name} {t:.1f} {who}' for t, name, who in rows) + f' | exit {end - start:.1f}')
    for t, name, who in rows + [(end - start, 'exit', '')]: seen.setdefault((name, who), []).append(t)
print('medians (ms from the process start, runs with the mark):')
for (name, who), ts in sorted(seen.items(), key=lambda kv: statistics.median(kv[1])):
    print(f'  {name:24s} {who:6s} {statistics.median(ts):7.1f}  ({len(ts)})')
