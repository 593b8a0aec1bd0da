#!/usr/bin/env python3
"""A `perf record -g` run's CPU by thread and by what ran: WebAssembly (named only under
--perf-basic-prof), the kernel's file read (the page cache's copy), the rest of the kernel,
JavaScript, V8 builtins, other native code, on-thread compiles and GC; then V8's helper threads
split into TurboFan's JavaScript jobs, WebAssembly compiles (Liftoff, tier-up) and GC. Where
v8-work.py says how much is V8's own work, this says how much of the rest is the read and the
module (session 20, gcpread: a GCP run's budget).
   perf record -e cpu-clock -F 4000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/perf-thread-cats.py P.txt 4000
(prime once with the same flags first: they key the code cache). Threads in tid order; a
thread under 3 ms is left out."""
import collections, re, sys

BUILD = re.compile(r'compiler::|Parser|BytecodeGenerator|Compiler::|CompileLazy|CompileOptimized|baseline::|ScriptCompiler|interpreter::|Deserializer<|CodeSerializer|Liftoff|wasm::.*Compil')
COLLECT = re.compile(r'Scaveng|Marking|Sweep|Evacuat|Heap::|MarkCompact|ArrayBufferSweeper|Unmapper|heap::|Marker')
READ = re.compile(r'copy_to_iter|filemap_|find_get|xas_|folio')
KINDS = ['wasm', 'read', 'kernel', 'js', 'builtin', 'native', 'compile', 'gc']


def kind(frames, kernel):
    own = []
    for f in frames:
        if 'JS:' in f or 'Builtins_' in f:
            break
        own.append(f)
    inner = ' '.join(own)
    leaf = frames[0] if frames else ''
    if BUILD.search(inner):
        return 'compile'
    if COLLECT.search(inner):
        return 'gc'
    if 'JS:wasm-function' in leaf:
        return 'wasm'
    if READ.search(inner) and 'read' in ' '.join(frames):
        return 'read'
    if kernel:
        return 'kernel'
    if 'JS:' in leaf:
        return 'js'
    return 'builtin' if 'Builtins_' in leaf else 'native'


def helper_kind(frames):
    whole = ' '.join(frames)
    if 'wasm' in whole.lower() and re.search(r'Compil|Liftoff|TurboFan|compiler', whole):
        return 'wasm compile'
    if 'OptimizingCompileDispatcher' in whole or 'compiler::' in whole:
        return 'TurboFan (JS)'
    return 'GC' if COLLECT.search(whole) or 'GC' in whole else 'other'


by_thread = collections.defaultdict(collections.Counter)
helpers = collections.Counter()
tid, frames, leaf_kernel = None, [], False


def flush():
    if tid is None or not frames:
        return
    by_thread[tid][kind(frames, leaf_kernel)] += 1
    if 'PlatformWorkerThread' in ' '.join(frames[-4:]):
        helpers[helper_kind(frames)] += 1


for line in open(sys.argv[1], errors='replace'):
    if not line.strip():
        flush()
        tid, frames, leaf_kernel = None, [], False
    elif not line[0].isspace() or re.match(r'^\s*\d+\s*$', line):
        tid = int(line.split()[0])
    else:
        if not frames:
            leaf_kernel = line.strip().startswith('ffffffff')  # a kernel address
        frames.append(re.sub(r'^[0-9a-f]+ ', '', line.strip()))
flush()
ms = 1000 / float(sys.argv[2] if len(sys.argv) > 2 else 4000)
print(f"{'tid':8s}" + ''.join(f'{k:>9s}' for k in KINDS) + f"{'all':>9s}   (ms of CPU)")
total = collections.Counter()
for t in sorted(by_thread):
    row = by_thread[t]
    if sum(row.values()) * ms < 3:
        continue
    total.update(row)
    print(f'{t:<8d}' + ''.join(f'{row[k] * ms:9.0f}' for k in KINDS) + f'{sum(row.values()) * ms:9.0f}')
print(f"{'all':8s}" + ''.join(f'{total[k] * ms:9.0f}' for k in KINDS) + f'{sum(total.values()) * ms:9.0f}')
print('V8 helpers: ' + ', '.join(f'{k} {v * ms:.0f}' for k, v in helpers.most_common()))
