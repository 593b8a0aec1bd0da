#!/usr/bin/env python3
"""WebAssembly samples of a perf run by thread, function and tier: which functions run long
single calls in Liftoff (V8's baseline code; WebAssembly has no on-stack replacement, so a
call that starts there ends there), and the export names of the modules' function indices.
   perf record -F 2000 -g -o P.data -- node --perf-basic-prof dist/src/cli/main.js detect INPUT --out X --workers 1 --quiet --no-enrich
   perf script -i P.data > P.txt && python3 bench/probes/wasm-liftoff.py P.txt 0.5 dist/wasm/outbound-groups.wasm dist/wasm/scan-held.wasm
(0.5: ms a sample, 1000 / F). perf names a function by its index alone ("wasm-function[5]-5-liftoff"),
and indices repeat across modules: tell them apart by the JavaScript caller printed beside
them (a caller run by the interpreter shows as a trampoline) and by the export lists."""
import re, sys, collections

def exports(path):
    b = open(path, 'rb').read(); p = 8; out = {}
    def leb():
        nonlocal p
        r = s = 0
        while True:
            x = b[p]; p += 1; r |= (x & 0x7f) << s; s += 7
            if not x & 0x80: return r
    imported = 0
    while p < len(b):
        sid = b[p]; p += 1; size = leb(); end = p + size
        if sid == 2:
            for _ in range(leb()):
                p += leb(); p += leb(); k = b[p]; p += 1
                if k == 0: imported += 1; leb()
                elif k == 1: p += 1; f = b[p]; p += 1; leb(); (leb() if f & 1 else None)
                elif k == 2: f = b[p]; p += 1; leb(); (leb() if f & 1 else None)
                else: p += 2
        if sid == 7:
            for _ in range(leb()):
                n = leb(); name = b[p:p + n].decode(); p += n; k = b[p]; p += 1; idx = leb()
                if k == 0: out[idx] = name
        p = end
    return out

period = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
count = collections.Counter()
for s in open(sys.argv[1], errors='replace').read().split('\n\n'):
    lines = [l for l in s.strip().split('\n') if l.strip()]
    if len(lines) < 2: continue
    m = re.match(r'\s*(\S+)\s+(\d+)(?:/(\d+))?\s', lines[0])
    tid = (m.group(3) or m.group(2)) if m else '?'
    frames = [re.sub(r'^\s*[0-9a-f]+\s+', '', l).split(' (')[0] for l in lines[1:]]
    if 'wasm-function' not in frames[0]: continue
    frames = [re.sub(r' /\S+', '', f) for f in frames]  # paths (a worktree's name may hold "wasm")
    caller = next((f for f in frames[1:] if not re.search(r'wasm-function|Wasm|Builtins_|Stub:', f)), '?')
    count[(tid, re.sub(r'\+0x[0-9a-f]+', '', frames[0]), caller)] += 1
for (tid, fn, caller), n in sorted(count.items(), key=lambda x: -x[1]):
    if n >= 2: print(f'{n * period:8.1f} ms  thread {tid:>8}  {fn:36}  {caller}')
for path in sys.argv[3:]:
    print(path + ':', ', '.join(f'{i} {n}' for i, n in sorted(exports(path).items())))
