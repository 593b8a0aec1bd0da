#!/usr/bin/env python3
"""What the parse -> shard hand-over costs on each thread of one `detect` run, in ms of perf's samples:
the sink's copies of routed runs (copyIds; copyRun's copy and the first-touch page zeroing under it),
the AWS module's window copy, the batch messages' (de)serialisation on the parse, main and shard
threads, the main thread's routing, and the shard's stage copies (BatchStage.copy) of each batch.
These are the levers named for issue 19 target 1 (CPU); they bound what a direct write of the batch
layout, a ring that is not zeroed, or a port from the parse to the shard thread could save.
   python3 bench/probes/handover-perf.py [--freq 2000] [--keep DIR] -- node dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich
Runs the command under `perf record -g` with `node --perf-basic-prof` (put in after `node`); threads
are told apart by the bundle their JavaScript frames come from (parse.bundle, shard.bundle; main: the
process id); libuv's pool by its frames. Each figure is one run's: run it a few times, it varies."""
import collections, os, re, subprocess, sys, tempfile

args = sys.argv[1:]
freq = 2000
keep = None
while args and args[0] != '--':
    if args[0] == '--freq': freq = int(args[1]); args = args[2:]
    elif args[0] == '--keep': keep = args[1]; args = args[2:]
    else: sys.exit(__doc__)
cmd = args[1:]
if not cmd or os.path.basename(cmd[0]) != 'node': sys.exit(__doc__)
cmd = [cmd[0], '--perf-basic-prof'] + cmd[1:]
work = keep or tempfile.mkdtemp(prefix='handover-perf-')
data = os.path.join(work, 'P.data')
subprocess.run(['perf', 'record', '-q', '-F', str(freq), '-g', '-o', data, '--'] + cmd, check=True, stdout=subprocess.DEVNULL)
text = subprocess.run(['perf', 'script', '-i', data], capture_output=True, text=True, errors='replace').stdout
ms = 1000.0 / freq

# (lever, thread role, test over the sample's frames, leaf first): the first that matches counts
def has(frames, *keys):
    return any(k in f for f in frames for k in keys)
def leaf(frames, *keys):
    return bool(frames) and any(k in frames[0] for k in keys)
LEVERS = [
    ('copyRun: page zeroing (first touch of ring slots)', 'parse', lambda f: leaf(f, 'clear_page') and has(f, 'copyRun', 'copySmallRun')),
    ('copyRun: page faults, other kernel', 'parse', lambda f: 'kallsyms' in f[0] and has(f, 'copyRun', 'copySmallRun')),
    ('copyRun: the copy (memmove, JS)', 'parse', lambda f: has(f, 'copyRun', 'copySmallRun')),
    ('copyIds (copyInboundIds: an inbound lane, sink.ts)', 'parse', lambda f: has(f, 'copyIds', 'copyInboundIds', 'copyKnownInboundIds')),
    ('window copy into the module (read memmove)', 'parse', lambda f: leaf(f, 'memmove') and has(f, 'JS:*read ', 'JS:^read ')),
    ('batch message: strings packed (packStrings)', 'parse', lambda f: has(f, 'packStrings')),
    ('batch message: serialise', 'parse', lambda f: has(f, 'ValueSerializer')),
    ('batch message: post, wait, slot', 'parse', lambda f: has(f, 'postBatch', 'takeSlot', 'takeRingSlot')),
    ('batch message: deserialise', 'main', lambda f: has(f, 'ValueDeserializer')),
    ('batch message: serialise', 'main', lambda f: has(f, 'ValueSerializer')),
    ('routing (route, piscina task)', 'main', lambda f: has(f, 'JS:*route ', 'JS:^route ', 'JS:~route ', 'postTask')),
    ('batch message: deserialise', 'shard', lambda f: has(f, 'ValueDeserializer')),
    ('batch message: strings unpacked (unpackStrings)', 'shard', lambda f: has(f, 'unpackStrings')),
    ('stage copies (BatchStage.copy): zeroing', 'shard', lambda f: leaf(f, 'clear_page') and has(f, 'JS:*copy ', 'JS:^copy ')),
    ('stage copies (BatchStage.copy)', 'shard', lambda f: has(f, 'JS:*copy ', 'JS:^copy ', 'stageRecords', 'stageFeed')),
]

pid = None
votes = collections.defaultdict(collections.Counter)
by_tid = collections.defaultdict(list)
for s in text.split('\n\n'):
    lines = [l for l in s.strip().split('\n') if l.strip()]
    if len(lines) < 2: continue
    m = re.match(r'\s*(\S+)\s+(\d+)(?:/(\d+))?\s', lines[0])
    if not m: continue
    tid = m.group(3) or m.group(2)
    if pid is None: pid = m.group(2) if m.group(3) else tid
    frames = [re.sub(r'\+0x[0-9a-f]+', '', l.strip().split(' ', 1)[1]) if ' ' in l.strip() else l.strip() for l in lines[1:]]
    by_tid[tid].append(frames)
    j = ' '.join(frames)
    if 'parse.bundle' in j: votes[tid]['parse'] += 1
    elif 'shard.bundle' in j: votes[tid]['shard'] += 1
    elif 'uv__threadpool' in j or 'uv__work' in j or 'worker (' in j or 'deflate_decompress' in j: votes[tid]['libuv'] += 1

# a thread's role: main by its id, else the bundle most of its samples' JavaScript comes from
role_of_tid = {tid: ('main' if tid == pid else v.most_common(1)[0][0]) for tid, v in votes.items()}
role_of_tid[pid] = 'main'

totals = collections.Counter()
lever = collections.Counter()
for tid, samples in by_tid.items():
    role = role_of_tid.get(tid, 'other')
    totals[role] += len(samples)
    for f in samples:
        for name, r, test in LEVERS:
            if r == role and test(f):
                lever[(r, name)] += 1
                break
print(f"threads (ms): " + ', '.join(f"{r} {n * ms:.1f}" for r, n in totals.most_common()) + f"; all {sum(totals.values()) * ms:.1f}")
for name, r, _ in LEVERS:
    print(f"  {r:6s} {name:52s} {lever[(r, name)] * ms:7.1f} ms")
print(f"  sum of the levers {sum(lever.values()) * ms:.1f} ms")
if not keep:
    os.remove(data)
    os.rmdir(work)
