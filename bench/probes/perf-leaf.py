#!/usr/bin/env python3
"""A `perf record -g` run's samples of some threads by innermost frame (the function, WebAssembly
function or kernel symbol that ran), then by innermost JavaScript frame (what JavaScript was
running or had called into native code, e.g. readSync inlined into FrameReader.frame): where
perf-thread-cats.py says which kind of work a thread did, this says which function. Threads by
tid (perf-thread-cats.py or thread-cpu-tid.py list them); WebAssembly functions are numbered as
in their module (`wasm-dis dist/wasm/M.wasm | grep export` names them). Session 20 replayfast.
   perf record -e cpu-clock -F 4000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/perf-leaf.py P.txt TID[,TID...] [HZ=4000] [TOP=40]
"""
import collections, re, sys

path, tids = sys.argv[1], {int(x) for x in sys.argv[2].split(',')}
hz = float(sys.argv[3]) if len(sys.argv) > 3 else 4000
top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
leaf, js, per_thread = collections.Counter(), collections.Counter(), collections.Counter()
tid, frames = None, []


def flush():
    if tid in tids and frames:
        leaf[re.sub(r'0x[0-9a-f]+', '', frames[0])[:100]] += 1
        inner_js = next((f for f in frames if 'JS:' in f), '(no JavaScript frame)')
        js[re.sub(r'0x[0-9a-f]+', '', inner_js)[:100]] += 1
        per_thread[tid] += 1


for line in open(path, errors='replace'):
    if not line.strip():
        flush()
        tid, frames = None, []
    elif re.match(r'^\s*\d+\s*$', line):
        tid = int(line.split()[0])
    else:
        frames.append(re.sub(r'^[0-9a-f]+ ', '', line.strip()))
flush()
ms = 1000 / hz
print('ms of CPU by thread:', {t: round(n * ms, 1) for t, n in sorted(per_thread.items())})
print('--- by innermost frame')
for k, v in leaf.most_common(top):
    print(f'{v * ms:8.1f}  {k}')
print('--- by innermost JavaScript frame')
for k, v in js.most_common(top):
    print(f'{v * ms:8.1f}  {k}')
