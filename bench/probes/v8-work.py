#!/usr/bin/env python3
"""V8's own work in a run, by thread, from perf's samples: TurboFan jobs (optimising compiles of
JavaScript), WebAssembly tier-up compiles, GC (scavenges, marking, sweeping), on-thread compiles
(lazy bytecode, Sparkplug, scripts, code-cache and snapshot reads), inflate, and the rest (running
JS, WebAssembly, builtins, the kernel). A sample is GC or compile by its innermost native frames
(up to the first JS or builtin frame), so a worker's bootstrap is not counted as a compile the
way a whole-stack match counts it (perf-threads.py).
   node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich   (prime: the flags key the code cache)
   perf record -e cpu-clock -F 4000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/v8-work.py P.txt 4000
Threads: main (the process id), V8's platform workers, libuv's pool, then the worker threads in
the order they were made (at --workers 1: parse, shard)."""
import re, sys, collections

COMPILE = re.compile(r'compiler::|Parser|BytecodeGenerator|Compiler::|Runtime_CompileLazy|Runtime_CompileOptimized|baseline::|ScriptCompiler|CompileIrregexp|interpreter::|Deserializer<|DeserializeIntoIsolate|DeserializeContext|CodeSerializer')
GC = re.compile(r'Scaveng|Marking|Sweep|Evacuat|Heap::|MarkCompact|GCTracer|ArrayBufferSweeper|MemoryAllocator|Unmapper|heap::|Marker')
KINDS = ['run', 'turbofan', 'wasm-compile', 'gc', 'compile', 'inflate']

def kind(frames):
    whole = ' '.join(frames)
    inner = []
    for f in frames:
        if f.startswith('JS:') or f.startswith('Builtins_'):
            break
        inner.append(f)
    own = ' '.join(inner)
    if 'OptimizingCompileDispatcher' in whole: return 'turbofan'
    if 'wasm::' in whole and ('Compil' in whole or 'Liftoff' in whole or 'compiler::' in whole): return 'wasm-compile'
    if GC.search(own): return 'gc'
    if COMPILE.search(own): return 'compile'
    if 'deflate_decompress' in own: return 'inflate'
    return 'run'

count = collections.Counter()
votes = collections.defaultdict(collections.Counter)
seen = []
tid, frames = None, []

def flush():
    if tid is None: return
    outer = ' '.join(frames[-4:])
    if 'PlatformWorkerThread' in outer or 'DelayedTaskScheduler' in outer: votes[tid]['v8'] += 1
    elif 'Worker::StartThread' in outer: votes[tid]['worker'] += 1
    elif 'deflate_decompress' in ' '.join(frames) or 'crc32_' in ' '.join(frames) or 'uv__work' in outer: votes[tid]['libuv'] += 1
    if tid not in seen: seen.append(tid)
    count[(tid, kind(frames))] += 1

for line in open(sys.argv[1], errors='replace'):
    if not line.strip():
        flush(); tid, frames = None, []
    elif not line[0].isspace():
        tid = int(line.split()[0])
    else:
        frames.append(re.sub(r'^[0-9a-f]+ ', '', line.strip()))
flush()

ms = 1000 / float(sys.argv[2] if len(sys.argv) > 2 else 4000)
pid = min(seen)
role = {t: v.most_common(1)[0][0] for t, v in votes.items()}
workers = [t for t in sorted(seen) if role.get(t) == 'worker']
names = ['parse', 'shard'] if len(workers) == 2 else [f'worker{i}' for i in range(len(workers))]
groups = collections.OrderedDict([('main', [pid]), ('v8 helpers', [t for t in seen if role.get(t) == 'v8']), ('libuv pool', [t for t in seen if role.get(t) == 'libuv'])])
for n, t in zip(names, workers): groups[n] = [t]
groups['other'] = [t for t in seen if t != pid and role.get(t) not in ('v8', 'libuv', 'worker')]
print(f"{'thread':12s}" + ''.join(f'{k:>13s}' for k in KINDS) + f"{'all':>9s}   (ms of CPU)")
total = collections.Counter()
for g, ts in groups.items():
    row = [sum(count[(t, k)] for t in ts) * ms for k in KINDS]
    if sum(row) == 0: continue
    for k, v in zip(KINDS, row): total[k] += v
    print(f'{g:12s}' + ''.join(f'{v:13.0f}' for v in row) + f'{sum(row):9.0f}')
print(f"{'all':12s}" + ''.join(f'{total[k]:13.0f}' for k in KINDS) + f'{sum(total.values()):9.0f}')
