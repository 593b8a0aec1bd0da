#!/usr/bin/env python3
"""TurboFan's JavaScript compiles by thread and by the JavaScript frame that asked for them (session 24
mainthr). With --no-concurrent-recompilation each compile runs on the thread whose code it is, so a
perf run tells the main, parse and shard threads' shares apart (V8's helpers otherwise run them all);
the innermost JavaScript frame is the caller of the function compiled, or the function itself for an
on-stack replacement ('OSR'). WebAssembly tier-up is left out. The flags key the code caches: run
the command once with them first.
   F='--no-concurrent-recompilation --perf-basic-prof'
   node $F dist/src/cli/main.cjs detect INPUT --out /tmp/x --quiet --no-enrich      (primes the caches)
   perf record -e cpu-clock -F 4000 -g -o P.data node $F dist/src/cli/main.cjs detect INPUT --out /tmp/x --quiet --no-enrich
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/turbofan-by-thread.py P.txt 4000 [TOP]"""
import collections, re, sys

from perf_samples import samples


def main():
    path, hz = sys.argv[1], float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    by, total = collections.Counter(), collections.Counter()
    for tid, frames in samples(path):
        whole = ' '.join(frames)
        if not ('compiler::' in whole or 'TurbofanCompilationJob' in whole or 'PipelineCompilationJob' in whole):
            continue
        if 'wasm' in whole.lower():
            continue
        js = [f for f in frames if f.startswith('JS:')]
        osr = 'OSR ' if 'CompileOptimizedOSR' in whole or 'OnStackReplacement' in whole else ''
        where = re.sub(r' /\S*/dist/', ' ', js[0])[:90] if js else '(no JavaScript frame)'
        by[(tid, osr + where)] += 1
        total[tid] += 1
    ms = 1000 / hz
    print('ms of TurboFan compiles by thread (tid):')
    for tid, n in total.most_common():
        print(f'  {tid} {n * ms:8.1f}')
    print('by thread and asking frame:')
    for (tid, where), n in by.most_common(top):
        print(f'  {n * ms:7.2f} {tid} {where}')


main()
