#!/usr/bin/env python3
"""Where one thread's page faults happen, by the code that touched the page: the leaf frame (a
memset/memmove, a WebAssembly function, a JavaScript function) and the first JavaScript frames
under it, most faults first. The thread: the given tid, else the thread with most samples in
shard.bundle frames (a detect run's shard thread).
   perf record -e page-faults -c 1 -g -o F.data -- node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich
   perf script -i F.data -F tid,ip,sym > F.txt && python3 bench/probes/fault-sites.py F.txt [TID] [ROWS]"""
import sys, collections

def frames_of(block):
    lines = [l.strip() for l in block.split('\n') if l.strip()]
    if not lines:
        return None, []
    return lines[0].split()[0], [l.split(None, 1)[1] if ' ' in l else '?' for l in lines[1:]]

threads = [frames_of(b) for b in open(sys.argv[1], errors='replace').read().split('\n\n')]
threads = [(t, f) for t, f in threads if t]
tid = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else collections.Counter(t for t, f in threads if any('shard.bundle' in x for x in f)).most_common(1)[0][0]
rows = int(sys.argv[3]) if len(sys.argv) > 3 else 25
sites = collections.Counter()
for t, f in threads:
    if t != tid:
        continue
    leaf = next((x for x in f if x.startswith(('__mem', 'v8::', 'Builtins_', 'JS:'))), '?')
    wasm = next((x for x in f if 'wasm-function' in x), '')
    js = [x.split(' /')[0] for x in f if x.startswith('JS:') and 'wasm' not in x][:2]
    sites[(leaf[:50], wasm[:35], ' < '.join(js))] += 1
print(f'thread {tid}: {sum(sites.values())} faults')
for (leaf, wasm, js), n in sites.most_common(rows):
    print(f'{n:7d}  {leaf}  {wasm}  {js}')
