#!/usr/bin/env python3
"""One thread of a `perf record -g` run by function: its leaf functions (where the samples
landed), then what is left once the module's functions and the copies are set aside, by the
innermost JavaScript frame above each sample, and by its four innermost JavaScript frames
(what the parse thread's "rest" is: V8's builtins and ICs under which JavaScript, the thread's
start, the per-file and per-block code; session 22 parsejs).
   perf record -e cpu-clock -F 2000 -g -o P.data -- node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich --workers 1
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/perf-thread-leaves.py P.txt TID 2000 [TOP]
(TID: the thread's id, from perf-thread-cats.py's table; prime once with the same flags first: they key the code cache)."""
import collections, sys

# leaves set aside for the "rest": the module's functions and the copies (their own probes size them)
SET_ASIDE = ('wasm-function', '__memmove', 'relaxed_memmove', 'copyIds', 'copyKnownIds', 'clear_page_erms')


def samples(path, tid):
    cur, frames = None, []
    for line in open(path):
        if not line.strip():
            if cur == tid and frames:
                yield frames
            cur, frames = None, []
        elif not line.startswith('\t'):
            cur = line.split()[0]
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else '?')
    if cur == tid and frames:
        yield frames


def short(frame):
    return frame.split(' /')[0].split(' node:')[0]


def main():
    path, tid, hz = sys.argv[1], sys.argv[2], float(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    ms = 1000 / hz
    leaf, rest, stacks = collections.Counter(), collections.Counter(), collections.Counter()
    for frames in samples(path, tid):
        leaf[frames[0]] += 1
        if any(x in frames[0] for x in SET_ASIDE):
            continue
        js = [short(f) for f in frames if f.startswith('JS:')]
        rest[js[0] if js else '(no JavaScript frame) ' + frames[-1][:40]] += 1
        stacks[' < '.join(j[3:] for j in js[:4])] += 1
    print(f'thread {tid}: {sum(leaf.values()) * ms:.1f} ms; leaf functions')
    for k, v in leaf.most_common(top):
        print(f'{v * ms:8.1f} {k[:110]}')
    print(f'the rest (leaves other than {", ".join(SET_ASIDE)}): {sum(rest.values()) * ms:.1f} ms, by innermost JavaScript frame')
    for k, v in rest.most_common(top):
        print(f'{v * ms:8.1f} {k[:110]}')
    print('the rest by its four innermost JavaScript frames')
    for k, v in stacks.most_common(top):
        print(f'{v * ms:8.1f} {k[:160]}')


main()
