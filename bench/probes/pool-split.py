#!/usr/bin/env python3
"""libuv's pool threads of one run by activity, from perf's samples: the inflate (libdeflate's
decode, its table builds, the CRC-32), the object's read (pread), the shard's memory backed ahead
(madvise, populate-ahead.ts), waits and the rest, ms and % (bench/RESULTS.md, session 18 "inflate").
   perf record -g -F 4000 -o P.data -- node dist/src/cli/main.js detect BUCKET --out DIR --quiet --no-enrich
   perf script -i P.data -F tid,ip,sym > P.txt && python3 bench/probes/pool-split.py P.txt 0.25   (ms a sample: 1000 / F)
A pool thread is one with most of its samples in that work (the parse thread inflates a task's
first object itself, but that is a small part of its samples; libdeflate's frames carry no callers);
a sample is put under the first of its frames, leaf first, that names an activity."""
import sys, collections

period_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
ACTIVITIES = [
    ('decode', ('deflate_decompress',)),
    ('decode tables', ('build_decode_table', 'build_litlen_decode_table', 'build_offset_decode_table', 'build_precode_decode_table')),
    ('crc32', ('crc32_',)),
    ('read (pread)', ('__libc_pread', 'pread64')),
    ('memory ahead (madvise)', ('__madvise', 'madvise')),
    ('waits (futex, condvar)', ('futex', 'uv_cond_wait', 'pthread_cond_wait')),
]
POOL_WORK = ('decode', 'decode tables', 'crc32', 'read (pread)', 'memory ahead (madvise)')


def samples(path):
    tid, frames = None, []
    for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        if not line:
            if tid is not None:
                yield tid, frames
            tid, frames = None, []
        elif line[0] not in ' \t':
            tid, frames = line.split()[0], []
        else:
            parts = line.split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else '?')
    if tid is not None:
        yield tid, frames


def activity(frames):
    for f in frames:
        for name, marks in ACTIVITIES:
            if any(m in f for m in marks):
                return name
    return 'other'


by_thread = collections.defaultdict(collections.Counter)
for tid, frames in samples(sys.argv[1]):
    by_thread[tid][activity(frames)] += 1
pool = {t for t, c in by_thread.items() if sum(c[a] for a in POOL_WORK) > sum(c.values()) / 2}
total = collections.Counter()
for tid in sorted(pool, key=int):
    total.update(by_thread[tid])
    print(f'pool thread {tid}: {sum(by_thread[tid].values()) * period_ms:7.1f} ms')
n = sum(total.values())
print(f'libuv pool, {len(pool)} threads: {n * period_ms:.1f} ms')
for name, count in total.most_common():
    print(f'  {name:26s} {count * period_ms:7.1f} ms  {100 * count / max(n, 1):5.1f} %')
