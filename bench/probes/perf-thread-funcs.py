#!/usr/bin/env python3
"""One thread's CPU by function from a `perf record -g` run (session 21, heldadds): self and
inclusive ms of its top functions, and (with --under NAME) the direct children of a function.
The thread is given by id, or picked as the one with most samples under a function name
(auto:NAME, e.g. auto:holdStaged for the shard thread of a detect run). WebAssembly functions are
named only when the module carries a name section (`npx asc assembly/scan-held.ts ... --debug`,
copied over dist/wasm/*.wasm for the profile's run).
   perf record -e cpu-clock -F 2000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich --workers 1
   perf script -i P.data -F tid,ip,sym > P.txt
   python3 bench/probes/perf-thread-funcs.py P.txt 2000 auto:holdStaged [--top 40] [--under holdInModule]"""
import collections, sys

from perf_samples import samples


def main():
    path, hz, which = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    top = int(sys.argv[sys.argv.index('--top') + 1]) if '--top' in sys.argv else 40
    under = sys.argv[sys.argv.index('--under') + 1] if '--under' in sys.argv else None
    all_samples = list(samples(path))
    if which.startswith('auto:'):
        name = which[5:]
        count = collections.Counter(t for t, f in all_samples if any(name in x for x in f))
        which = count.most_common(1)[0][0]
    ms = 1000.0 / hz
    own, incl, kids = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for t, f in all_samples:
        if t != which:
            continue
        total += 1
        if f:
            own[f[0]] += 1
        for x in set(f):
            incl[x] += 1
        if under:
            for i, x in enumerate(f):
                if under in x:
                    kids[f[i - 1] if i > 0 else '(self)'] += 1
                    break
    print(f'thread {which}: {total * ms:.1f} ms of CPU')
    tables = [('self ms   function', own), ('inclusive ms   function', incl)]
    if under:
        tables.append((f'under {under}: ms   child', kids))
    for title, counts in tables:
        print(title + '\n' + '\n'.join(f'{c * ms:7.1f}   {name[:120]}' for name, c in counts.most_common(top)))

main()
